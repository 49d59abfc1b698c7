// Mixed pair under stress: fast timers (keepalive 200ms, deadtime 1) while busy loops load every
// core, and 30 % packet loss with deadtime = 5 x keepalive. No false deaths; retransmissions counted.

import t from 'tap'
import type * as Tap from 'tap'
import { cpus } from 'node:os'
import { gate, realHeartbeatAvailability } from '../netns/kit.js'
import { seedFile, statusEvents } from '../netns/seed-node.js'
import { buildPair, startNode, statusSeenBy, waitBothActive, type Pair } from './pair-scenario.js'

/** The seed ha.cf with other timings; everything else (udp eth0, udpport 1001, nodes) unchanged. */
async function seedWithTimers(keepalive: string, deadtime: string): Promise<string> {
  const text = await seedFile('titanic5', 'ha.cf')
  return text.replace(/^keepalive .*$/m, `keepalive ${keepalive}`).replace(/^deadtime .*$/m, `deadtime ${deadtime}`)
}

/** Every death either node declared since `sinceMs`. */
async function deathsSince(pair: Pair, sinceMs: number): Promise<Array<{ viewer: string; victim: string; atMs: number }>> {
  const out: Array<{ viewer: string; victim: string; atMs: number }> = []
  for (const n of [pair.nodes.titanic5, pair.nodes.titanic6]) {
    if (n.impl === 'real') {
      for (const e of await statusEvents(n.host)) if (e.status === 'dead' && e.atMs >= sinceMs) out.push({ viewer: n.name, victim: e.node, atMs: e.atMs })
    } else {
      for (const l of n.ts?.proc.lines ?? []) {
        const m = /node (\S+): is dead/.exec(l.text)
        if (m?.[1] && l.atMs >= sinceMs) out.push({ viewer: n.name, victim: m[1], atMs: l.atMs })
      }
    }
  }
  return out
}

/**
 * Longest silence between fresh statuses from `src` that reached the segment in [fromMs, toMs]. A status
 * whose seq is not above every seq heard before is a retransmission (an answer to NS_rexmit): both
 * implementations drop it as a duplicate, so it is no sign of life and does not end a silence.
 */
function longestGapMs(pair: Pair, src: string, fromMs: number, toMs: number): number {
  let highestSeq = -1
  const at: number[] = []
  for (const h of pair.obs.heard) {
    if (h.f.t !== 'status' || h.f.src !== src) continue
    const seq = Number.parseInt(h.f.seq ?? '-', 16)
    const fresh = Number.isNaN(seq) || seq > highestSeq
    if (!Number.isNaN(seq)) highestSeq = Math.max(highestSeq, seq)
    if (fresh && h.atMs >= fromMs && h.atMs <= toMs) at.push(h.atMs)
  }
  let worst = 0
  for (let i = 1; i < at.length; i++) worst = Math.max(worst, (at[i] ?? 0) - (at[i - 1] ?? 0))
  return worst
}

/** Stop heartbeat-ts (titanic5) gracefully: it logs its final counters, printed here and returned ('' if none came). */
async function stopAndShowCounters(t: Tap.Test, pair: Pair): Promise<string> {
  const ts = pair.nodes.titanic5.ts
  const fromLine = ts?.proc.lines.length ?? 0
  ts?.proc.kill('SIGTERM')
  const line = await ts?.proc.waitForLine(/counters: .*timer worst lateness/, 60_000, fromLine).catch(() => undefined)
  const counters = line?.text.replace(/^.*counters: /, '') ?? ''
  t.comment(`heartbeat-ts ${counters || 'logged no counters'}`)
  return counters
}

const HOG_MS = 120_000
const LOSS_MS = 120_000

t.test('fast timers under a CPU hog: no false death', async (t) => {
  if (!gate(t, await realHeartbeatAvailability())) return
  const haCf = await seedWithTimers('200ms', '1')
  const pair = await buildPair(t, { prefix: 'hbihog', auth: 'sha1', impl: { titanic5: 'ts', titanic6: 'real' }, haCf })
  await startNode(pair.nodes.titanic5)
  await startNode(pair.nodes.titanic6)
  await waitBothActive(pair, 40_000)
  // Busy loops, one per core, bounded to HOG_MS; they run in the observer host so destroy() ends them.
  const obsHost = await pair.kit.addHost({ name: 'hog', address: '129.254.203.151/26' })
  const hogs = cpus().map(() => obsHost.spawn([process.execPath, '-e', `const end = Date.now() + ${HOG_MS}; while (Date.now() < end) {}`]))
  const from = Date.now()
  await Promise.all(hogs.map((h) => h.exited))
  const to = Date.now()
  t.comment(`${hogs.length} busy loops for ${Math.round((to - from) / 1000)} s; keepalive 200 ms, deadtime 1000 ms`)
  t.same(await deathsSince(pair, from), [], 'neither node declared the other dead')
  t.equal(await statusSeenBy(pair.nodes.titanic6, pair.nodes.titanic5.name), 'active', 'the real node still sees heartbeat-ts active')
  t.equal(await statusSeenBy(pair.nodes.titanic5, pair.nodes.titanic6.name), 'active', 'heartbeat-ts still sees the real node active')
  const gap = longestGapMs(pair, pair.nodes.titanic5.name, from, to)
  t.comment(`longest gap between heartbeat-ts statuses on the wire under load: ${gap} ms`)
  t.comment(`longest gap between the real node's statuses, same window: ${longestGapMs(pair, pair.nodes.titanic6.name, from, to)} ms`)
  // Its own counters say whether heartbeat-ts itself ran late (timer worst lateness).
  await stopAndShowCounters(t, pair)
  t.ok(gap < 1000, 'heartbeat-ts kept its heartbeats under the deadtime')
})

t.test('30 % loss, deadtime = 5 x keepalive: no false death, retransmissions counted', async (t) => {
  if (!gate(t, await realHeartbeatAvailability())) return
  const haCf = await seedWithTimers('1', '5')
  const pair = await buildPair(t, { prefix: 'hbiloss', auth: 'sha1', impl: { titanic5: 'ts', titanic6: 'real' }, haCf })
  await startNode(pair.nodes.titanic5)
  await startNode(pair.nodes.titanic6)
  await waitBothActive(pair, 40_000)
  const how = await pair.nodes.titanic5.host.setLoss(30)
  await pair.nodes.titanic6.host.setLoss(30)
  t.comment(`30 % loss on both nodes' outgoing UDP (${how}; this kernel has no sch_netem) for ${LOSS_MS / 1000} s`)
  const from = Date.now()
  await new Promise((r) => setTimeout(r, LOSS_MS))
  const to = Date.now()
  await pair.nodes.titanic5.host.clearLoss()
  await pair.nodes.titanic6.host.clearLoss()

  // With independent 30 % loss, five heartbeats in a row can be lost (about 0.3^5 per beat): a
  // real silence of a deadtime, which heartbeat must report. A false death is one without it.
  const deaths = await deathsSince(pair, from)
  for (const n of [pair.nodes.titanic5, pair.nodes.titanic6]) {
    const gap = longestGapMs(pair, n.name, from, to)
    const declared = deaths.filter((d) => d.victim === n.name)
    t.comment(`${n.name} (${n.impl}): longest silence on the wire ${gap} ms; declared dead ${declared.length} times`)
    if (gap < 5000) t.same(declared, [], `${n.name}: no silence of a deadtime, so no death declared`)
    else t.pass(`${n.name}: a real ${gap} ms silence happened; a death verdict would be correct`)
  }
  const counters = await stopAndShowCounters(t, pair)
  const m = /lost (\d+), recovered (\d+), rexmit requests (\d+), retransmissions (\d+)/.exec(counters)
  t.ok(m && Number(m[1]) > 0, 'heartbeat-ts counted lost packets')
  t.ok(m && Number(m[3]) > 0, 'heartbeat-ts asked for retransmissions')
  t.ok(m && Number(m[4]) > 0, 'heartbeat-ts retransmitted for the real node')
  const reqFromReal = pair.obs.heard.filter((h) => h.atMs >= from && h.f.t === 'NS_rexmit' && h.f.src === pair.nodes.titanic6.name).length
  t.comment(`the real node sent ${reqFromReal} NS_rexmit requests that crossed the wire`)
})
