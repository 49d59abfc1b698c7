// A titanic5/titanic6 pair in namespaces, each node either heartbeat-ts or the real 3.0.6, with the
// checks the interop tests share: both active, no complaints in the real log, crash and rejoin.

import type { Test } from 'tap'
import { execa } from 'execa'
import { createKit, startObserver, waitFor, type Host, type Kit, type Observer } from '../netns/kit.js'
import { SEED_ADDRESS, SEED_NODENAME, installSeedConfig, realLog, realNodeStatus, statusEvents, type AuthVariant, type SeedNode } from '../netns/seed-node.js'
import { startTsNode, type TsNode } from '../netns/ts-node.js'

/** The seed's service address. */
const SEED_VIP = '129.254.203.149'

export type Impl = 'ts' | 'real'

/** What the real 3.0.6 daemon logs when a peer's packets or protocol are wrong (heartbeat.c, cl_msg.c wording). */
export const COMPLAINTS: readonly RegExp[] = [
  /authenticat/i,
  /NV failure/,
  /string2msg/,
  /netstring/i,
  /wrong type/,
  /missing from\/ts\/type/,
  /bad node/i,
  /flow control/i,
  /hist queue/i,
  /ackmsg|ackseq|\back\b/i,
  /replay/i,
  /Irretrievably lost/,
  /lost packet/i,
  /seqno/,
  /Late heartbeat/,
  /returning after partition/,
]

/** Lines of a real node's log that are complaints; its ERROR about mlock (no memlock limit here) is not one. */
export function complaints(log: string): string[] {
  return log
    .split('\n')
    .filter((l) => COMPLAINTS.some((re) => re.test(l)) || (/\b(ERROR|CRIT):/.test(l) && !/Cannot lock ourselves into memory/.test(l)))
}

export interface PairNode {
  seed: SeedNode
  name: string
  impl: Impl
  host: Host
  ts: TsNode | undefined
}

export interface Pair {
  kit: Kit
  obs: Observer
  nodes: Record<SeedNode, PairNode>
}

export async function buildPair(
  t: Test,
  opts: { prefix: string; auth: AuthVariant; impl: Record<SeedNode, Impl>; haCf?: string },
): Promise<Pair> {
  const kit = await createKit(opts.prefix)
  t.teardown(() => kit.destroy())
  const nodes = {} as Record<SeedNode, PairNode>
  for (const seed of ['titanic5', 'titanic6'] as const) {
    const host = await kit.addHost({ name: seed === 'titanic5' ? 't5' : 't6', address: SEED_ADDRESS[seed], hostname: SEED_NODENAME[seed] })
    await installSeedConfig(host, seed, { auth: opts.auth, ...(opts.haCf !== undefined ? { haCf: opts.haCf } : {}) })
    nodes[seed] = { seed, name: SEED_NODENAME[seed], impl: opts.impl[seed], host, ts: undefined }
  }
  const obs = await startObserver(await kit.addHost({ name: 'obs', address: '129.254.203.150/26' }), 1001)
  return { kit, obs, nodes }
}

export async function startNode(n: PairNode): Promise<void> {
  if (n.impl === 'ts') {
    n.ts = await startTsNode(n.host)
  } else {
    const r = await n.host.startRealHeartbeat()
    if (r.exitCode !== 0) throw new Error(`real heartbeat on ${n.name} failed to start (exit ${r.exitCode}): ${r.stderr}`)
  }
}

/** How `viewer` sees `target` right now: cl_status on a real node, the latest log line on a ts node. */
export async function statusSeenBy(viewer: PairNode, target: string): Promise<string | undefined> {
  if (viewer.impl === 'real') return realNodeStatus(viewer.host, target)
  const lines = viewer.ts?.proc.lines ?? []
  for (let i = lines.length - 1; i >= 0; i--) {
    const text = lines[i]?.text ?? ''
    if (target === viewer.name) {
      const m = /Local status now set to: '(\w+)'/.exec(text)
      if (m) return m[1]
    } else {
      const m = new RegExp(`Status update for node ${target.replaceAll('.', '\\.')}: status (\\w+)`).exec(text)
      if (m) return m[1]
      if (text.includes(`node ${target}: is dead`)) return 'dead'
    }
  }
  return undefined
}

/** Both nodes see themselves and each other `active`. */
export async function waitBothActive(pair: Pair, timeoutMs: number): Promise<void> {
  const a = pair.nodes.titanic5
  const b = pair.nodes.titanic6
  for (const [viewer, target] of [
    [a, b],
    [b, a],
    [a, a],
    [b, b],
  ] as const) {
    await waitFor(`${viewer.name} (${viewer.impl}) to see ${target.name} active`, async () => ((await statusSeenBy(viewer, target.name)) === 'active' ? true : undefined), timeoutMs, 300)
  }
}

/** When `viewer` declared `victim` dead (ms, wall clock), after `sinceMs`. */
export async function deathSeenAt(viewer: PairNode, victim: string, sinceMs: number, timeoutMs: number): Promise<number> {
  return waitFor(
    `${viewer.name} (${viewer.impl}) to declare ${victim} dead`,
    async () => {
      if (viewer.impl === 'real') return (await statusEvents(viewer.host)).find((e) => e.node === victim && e.status === 'dead' && e.atMs >= sinceMs)?.atMs
      return viewer.ts?.proc.lines.find((l) => l.atMs >= sinceMs && l.text.includes(`node ${victim}: is dead`))?.atMs
    },
    timeoutMs,
    100,
  )
}

export interface CrashReport {
  victim: string
  viewer: string
  /** ms from the victim's last heartbeat to the viewer's verdict. */
  sinceLastHeartbeatMs: number
  /** The deadline: the victim's advertised dt. */
  deadtimeMs: number
  /** Verdict minus deadline (how late the detection was). */
  lateMs: number
  generationBefore: number
  generationAfter: number
}

/**
 * Crash `victim` (cable pulled and every process SIGKILLed at once), time the peer's verdict against
 * the victim's last heartbeat + its advertised dt, then plug it back, restart it and wait until both
 * are active again; the victim must come back with a higher generation.
 */
export async function crashAndRejoin(pair: Pair, victim: PairNode, viewer: PairNode, activeTimeoutMs: number): Promise<CrashReport> {
  await victim.host.linkDown()
  const killedAt = Date.now()
  await victim.host.killAll('SIGKILL')
  const last = pair.obs.lastStatus(victim.name, killedAt)
  if (!last) throw new Error(`the observer heard no status from ${victim.name}`)
  const deadtimeMs = Number.parseInt(last.f.dt ?? '', 16)
  const generationBefore = Number.parseInt(last.f.hg ?? '', 16)
  const seen = await deathSeenAt(viewer, victim.name, killedAt, deadtimeMs + 10_000)
  const sinceLastHeartbeatMs = seen - last.atMs
  await victim.host.linkUp()
  const restartAt = Date.now()
  await startNode(victim)
  await waitBothActive(pair, activeTimeoutMs)
  const fresh = pair.obs.heard.find((h) => h.atMs >= restartAt && h.f.t === 'status' && h.f.src === victim.name)
  const generationAfter = Number.parseInt(fresh?.f.hg ?? '0', 16)
  return {
    victim: `${victim.name} (${victim.impl})`,
    viewer: `${viewer.name} (${viewer.impl})`,
    sinceLastHeartbeatMs,
    deadtimeMs,
    lateMs: sinceLastHeartbeatMs - deadtimeMs,
    generationBefore,
    generationAfter,
  }
}

/**
 * How late a verdict may be. heartbeat-ts arms a timer at the deadline itself (plus the stderr line
 * reaching the test); the real daemon checks every 250 ms and the probe runs from rc.d/status through
 * harc, a few shell forks later.
 */
export const LATE_LIMIT_MS: Record<Impl, number> = { ts: 150, real: 2500 }

export function reportCrash(t: Test, r: CrashReport, viewerImpl: Impl): void {
  t.comment(
    `${r.viewer} declared ${r.victim} dead ${r.sinceLastHeartbeatMs} ms after its last heartbeat ` +
      `(advertised dt ${r.deadtimeMs} ms): ${r.lateMs >= 0 ? `${r.lateMs} ms late` : `${-r.lateMs} ms EARLY`}`,
  )
  t.ok(r.lateMs >= -20, `${r.viewer}: not before ${r.victim}'s deadline`)
  t.ok(r.lateMs <= LATE_LIMIT_MS[viewerImpl], `${r.viewer}: within ${LATE_LIMIT_MS[viewerImpl]} ms of the deadline`)
  t.ok(r.generationAfter > r.generationBefore, `${r.victim} rejoined with a higher generation (${r.generationBefore} -> ${r.generationAfter})`)
}

/** The whole mixed-pair check for one auth method and one assignment of implementations. */
export async function mixedPairScenario(t: Test, opts: { prefix: string; auth: AuthVariant; tsAs: SeedNode; quietWindowMs: number }): Promise<void> {
  const realAs: SeedNode = opts.tsAs === 'titanic5' ? 'titanic6' : 'titanic5'
  const pair = await buildPair(t, { prefix: opts.prefix, auth: opts.auth, impl: { [opts.tsAs]: 'ts', [realAs]: 'real' } as Record<SeedNode, Impl> })
  const ts = pair.nodes[opts.tsAs]
  const real = pair.nodes[realAs]
  // titanic5 first, then titanic6, as the captures did.
  await startNode(pair.nodes.titanic5)
  await new Promise((r) => setTimeout(r, 1500))
  await startNode(pair.nodes.titanic6)
  await waitBothActive(pair, 40_000)
  t.equal(await realNodeStatus(real.host, ts.name), 'active', `cl_status nodestatus ${ts.name} on the real node: active`)
  t.equal(await statusSeenBy(ts, real.name), 'active', `heartbeat-ts sees ${real.name} active`)

  const windowStart = Date.now()
  await new Promise((r) => setTimeout(r, opts.quietWindowMs))
  const heardTs = pair.obs.heard.filter((h) => h.atMs >= windowStart && h.f.src === ts.name)
  const acks = heardTs.filter((h) => h.f.t === 'NS_ackmsg' && h.f.dest === real.name).length
  t.comment(`quiet window ${Math.round((Date.now() - windowStart) / 1000)} s: ${heardTs.length} datagrams from heartbeat-ts, ${acks} acks to the real node`)
  t.equal(await realNodeStatus(real.host, ts.name), 'active', 'still active after the window')
  const bad = complaints(await realLog(real.host))
  t.same(bad, [], 'the real node logged no authentication, format, flow-control or ack complaints')
  t.notMatch(ts.ts?.text() ?? '', /bad packet on |ERROR:|CRIT:/, 'heartbeat-ts logged no bad packets or errors')

  reportCrash(t, await crashAndRejoin(pair, ts, real, 40_000), real.impl)
  t.equal(await realNodeStatus(real.host, ts.name), 'active', 'the real node sees the restarted heartbeat-ts active')
  reportCrash(t, await crashAndRejoin(pair, real, ts, 40_000), ts.impl)
  t.equal(await realNodeStatus(real.host, ts.name), 'active', 'the restarted real node sees heartbeat-ts active')
}

/** Whether `host` has the seed's VIP on its eth0. */
export async function holdsSeedVip(host: Host): Promise<boolean> {
  const r = await execa('ip', ['-n', host.ns, '-j', '-4', 'addr', 'show', 'dev', 'eth0'], { reject: false, timeout: 30_000, stdin: 'ignore' })
  const links = JSON.parse(String(r.stdout) || '[]') as Array<{ addr_info?: Array<{ local?: string }> }>
  return links.some((l) => (l.addr_info ?? []).some((a) => a.local === SEED_VIP))
}

/** The directors holding the seed's VIP now, by seed name. */
export async function vipHolders(pair: Pair): Promise<string[]> {
  const out: string[] = []
  for (const n of Object.values(pair.nodes)) if (await holdsSeedVip(n.host)) out.push(n.seed)
  return out
}

/** titanic5 first, titanic6 1.5 s later, both active. */
export async function startBoth(pair: Pair): Promise<void> {
  await startNode(pair.nodes.titanic5)
  await new Promise((r) => setTimeout(r, 1500))
  await startNode(pair.nodes.titanic6)
  await waitBothActive(pair, 40_000)
}

/** Lines a heartbeat-ts node logged from line `from` on matching re. */
export function logged(n: PairNode, re: RegExp, from = 0): string[] {
  return (n.ts?.proc.lines ?? []).slice(from).map((l) => l.text).filter((l) => re.test(l))
}
