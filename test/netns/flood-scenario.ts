// Issue 10's flood: a pair (heartbeat-ts or the real 3.0.6) runs while a third host without the key
// floods both nodes' heartbeat port; what a user would notice is collected: deaths, the VIP's holder,
// log growth. Shared by test/interop/flood.test.ts (asserts, heartbeat-ts) and bench/flood.ts (prints both).

import type { Test } from 'tap'
import { distFile } from './kit.js'
import { realLog, seedFile, statusEvents } from './seed-node.js'
import { buildPair, startNode, waitBothActive, type Impl, type Pair, type PairNode } from '../interop/pair-scenario.js'

export interface FloodTimers {
  keepalive: string
  deadtime: string
}

export interface FloodReport {
  impl: Impl
  timers: FloodTimers
  replays: boolean
  floodMs: number
  /** What the flood host reports having sent. */
  sentDatagrams: number
  sentBytes: number
  /** Deaths either node declared during the flood (and the settle time after it). */
  deaths: string[]
  /** Every distinct set of VIP holders seen while sampling, e.g. ['titanic5'] when it never moved. */
  vipHolders: string[]
  /** Log lines each node wrote during the flood, and per second. */
  logLines: Record<string, number>
  logLinesPerSec: Record<string, number>
  /** A few of the lines logged during the flood, for the report: deaths and lateness first. */
  sampleLines: string[]
  /** Datagrams each node's kernel dropped for a full receive queue during the flood (/proc/net/snmp RcvbufErrors). */
  kernelDrops: Record<string, number>
}

export const VIP = '129.254.203.149'
const FLOOD_ADDRESS = '129.254.203.152/26'
const BROADCAST = '129.254.203.191'

/** The seed ha.cf with other timings; everything else (udp eth0, udpport 1001, nodes) unchanged. */
async function seedWithTimers(t: FloodTimers): Promise<string> {
  const text = await seedFile('titanic5', 'ha.cf')
  return text.replace(/^keepalive .*$/m, `keepalive ${t.keepalive}`).replace(/^deadtime .*$/m, `deadtime ${t.deadtime}`)
}

async function holdsVip(n: PairNode): Promise<boolean> {
  const r = await n.host.exec(['ip', '-o', '-4', 'addr', 'show'])
  return r.stdout.includes(`${VIP}/`)
}

/** The namespace's UDP RcvbufErrors: datagrams the kernel dropped because a socket's queue was full. */
async function rcvbufErrors(n: PairNode): Promise<number> {
  const r = await n.host.exec(['cat', '/proc/net/snmp'])
  const udp = r.stdout.split('\n').filter((l) => l.startsWith('Udp:'))
  const names = (udp[0] ?? '').split(/\s+/)
  const values = (udp[1] ?? '').split(/\s+/)
  return Number(values[names.indexOf('RcvbufErrors')] ?? 0)
}

async function logLines(n: PairNode): Promise<string[]> {
  if (n.impl === 'ts') return (n.ts?.proc.lines ?? []).map((l) => l.text)
  return (await realLog(n.host)).split('\n').filter((l) => l.length > 0)
}

async function deathsSince(pair: Pair, sinceMs: number): Promise<string[]> {
  const out: string[] = []
  for (const n of [pair.nodes.titanic5, pair.nodes.titanic6]) {
    if (n.impl === 'real') {
      for (const e of await statusEvents(n.host)) if (e.status === 'dead' && e.atMs >= sinceMs) out.push(`${n.name} declared ${e.node} dead`)
    } else {
      for (const l of n.ts?.proc.lines ?? []) {
        const m = /node (\S+): is dead/.exec(l.text)
        if (m?.[1] && l.atMs >= sinceMs) out.push(`${n.name} declared ${m[1]} dead`)
      }
    }
  }
  return out
}

/** Build a pair of `impl`, wait until both are active and titanic5 holds the VIP, flood for `floodMs`, report. */
export async function floodPair(t: Test, opts: { prefix: string; impl: Impl; timers: FloodTimers; floodMs: number; replays?: boolean }): Promise<FloodReport> {
  const haCf = await seedWithTimers(opts.timers)
  const pair = await buildPair(t, { prefix: opts.prefix, auth: 'sha1', impl: { titanic5: opts.impl, titanic6: opts.impl }, haCf })
  await startNode(pair.nodes.titanic5)
  await new Promise((r) => setTimeout(r, 1500))
  await startNode(pair.nodes.titanic6)
  await waitBothActive(pair, 60_000)
  // The VIP settles on titanic5 (the haresources owner) once both are up.
  const deadline = Date.now() + 60_000
  while (!(await holdsVip(pair.nodes.titanic5)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 500))

  const nodes = [pair.nodes.titanic5, pair.nodes.titanic6]
  const before = await Promise.all(nodes.map(logLines))
  const dropsBefore = await Promise.all(nodes.map(rcvbufErrors))
  const flooder = await pair.kit.addHost({ name: 'flood', address: FLOOD_ADDRESS })
  const script = await distFile('test/netns/flood-host.js')
  // The segment's broadcast address: the seed's `udp eth0` listens there (heartbeat-ts binds the
  // broadcast address, 3.0.6 binds every address), and one datagram reaches both nodes.
  const targets = [BROADCAST]
  // The observer would only parse the flood; nothing below reads it.
  pair.obs.stop()
  const from = Date.now()
  const proc = flooder.spawn([process.execPath, script, '1001', String(opts.floodMs / 1000), opts.replays === false ? 'forged' : 'all', ...targets])
  const holders = new Set<string>()
  while (Date.now() < from + opts.floodMs) {
    const who = (await Promise.all(nodes.map(async (n) => ((await holdsVip(n)) ? n.seed : undefined)))).filter((x) => x !== undefined)
    holders.add(who.join('+') || 'nobody')
    await new Promise((r) => setTimeout(r, 1000))
  }
  const done = await proc.waitForLine(/^flood: /, 30_000)
  // Let a verdict the flood delayed land before reading the logs: one deadtime and a bit.
  await new Promise((r) => setTimeout(r, 2000))
  const floodMs = Date.now() - from
  const m = /flood: (\d+) datagrams, (\d+) bytes/.exec(done.text)
  const after = await Promise.all(nodes.map(logLines))
  const dropsAfter = await Promise.all(nodes.map(rcvbufErrors))
  const kernelDrops: Record<string, number> = {}
  nodes.forEach((n, i) => void (kernelDrops[n.seed] = (dropsAfter[i] ?? 0) - (dropsBefore[i] ?? 0)))
  const logLinesCount: Record<string, number> = {}
  const perSec: Record<string, number> = {}
  const sample: string[] = []
  nodes.forEach((n, i) => {
    const added = (after[i] ?? []).slice((before[i] ?? []).length)
    logLinesCount[n.seed] = added.length
    perSec[n.seed] = Math.round((added.length / (floodMs / 1000)) * 10) / 10
    // what explains a death first, then the rest of what was complained about
    const first = added.filter((l) => /dead|late|lateness|counters|CRIT/i.test(l))
    const then = added.filter((l) => !first.includes(l) && /WARN|ERROR|lost/i.test(l))
    sample.push(...[...first, ...then, ...added].filter((l, i, all) => all.indexOf(l) === i).slice(0, 10).map((l) => `${n.seed}: ${l.slice(0, 300)}`))
  })
  return {
    impl: opts.impl,
    timers: opts.timers,
    replays: opts.replays !== false,
    floodMs,
    sentDatagrams: Number(m?.[1] ?? 0),
    sentBytes: Number(m?.[2] ?? 0),
    deaths: await deathsSince(pair, from),
    vipHolders: [...holders],
    logLines: logLinesCount,
    logLinesPerSec: perSec,
    sampleLines: sample,
    kernelDrops,
  }
}

export function describeFlood(r: FloodReport): string {
  const rate = Math.round(r.sentDatagrams / (r.floodMs / 1000))
  const mb = (r.sentBytes / 1e6).toFixed(0)
  return (
    `${r.impl === 'ts' ? 'heartbeat-ts' : 'heartbeat 3.0.6'}, keepalive ${r.timers.keepalive} deadtime ${r.timers.deadtime}, ${r.replays ? 'with' : 'without'} replays: ` +
    `${r.sentDatagrams} forged datagrams (${rate}/s, ${mb} MB) in ${Math.round(r.floodMs / 1000)} s; ` +
    `deaths: ${r.deaths.length === 0 ? 'none' : r.deaths.join('; ')}; VIP held by: ${r.vipHolders.join(', ')}; ` +
    `log lines/s: ${Object.entries(r.logLinesPerSec).map(([k, v]) => `${k} ${v}`).join(', ')}; ` +
    `kernel drops (full receive queue): ${Object.entries(r.kernelDrops).map(([k, v]) => `${k} ${v}`).join(', ')}`
  )
}
