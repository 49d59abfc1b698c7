// The whole node (lib/daemon/node-core.ts, as run.ts drives it) on virtual time: two nodes, the
// seed's haresources (titanic5 owns 10.99.0.149 + lvs), fake agents, a network the test controls.
import t from 'tap'
import { ClusterRm, fastPair, KIT_AGENT_TIMEOUT_MS, T5, T6, VIP, describe } from '../resources/cluster-rm-kit.js'
import type { ClusterRmOptions } from '../resources/cluster-rm-kit.js'
import { getString, messageOf } from '../../lib/wire/message.js'

const DEADTIME_MS = 5000

/** Both nodes started together and settled: titanic5 holds its group. */
function pair(opts: Partial<ClusterRmOptions> = {}): ClusterRm {
  const c = new ClusterRm({ mode: 'on', ...opts })
  c.start(T5)
  c.start(T6)
  c.runUntil(20_000)
  return c
}


/** Run to `until` in 10 ms steps, recording every moment two machines had the VIP up. */
function runWatching(c: ClusterRm, until: number): { doubleAt: number[] } {
  const doubleAt: number[] = []
  while (c.now < until) {
    c.runUntil(c.now + 10)
    if (c.owners().length > 1) doubleAt.push(c.now)
  }
  return { doubleAt }
}

/**
 * Watch every address in 10 ms steps until `untilMs`: when the last moment with two holders was (or
 * `fromMs`), and for each address the longest run without any holder.
 */
function watchHolders(c: ClusterRm, keys: readonly string[], fromMs: number, untilMs: number): { lastDoubleMs: number; longestNoneMs: Map<string, number> } {
  let lastDoubleMs = fromMs
  const noneFor = new Map(keys.map((k) => [k, 0]))
  const longestNoneMs = new Map(keys.map((k) => [k, 0]))
  while (c.now < untilMs) {
    c.runUntil(c.now + 10)
    for (const k of keys) {
      const owners = c.owners(k).length
      if (owners > 1) lastDoubleMs = c.now
      noneFor.set(k, owners === 0 ? (noneFor.get(k) ?? 0) + 10 : 0)
      longestNoneMs.set(k, Math.max(longestNoneMs.get(k) ?? 0, noneFor.get(k) ?? 0))
    }
  }
  return { lastDoubleMs, longestNoneMs }
}
const longestOf = (m: Map<string, number>): number => Math.max(0, ...m.values())

const ends = (c: ClusterRm, n: string): string[] => c.node(n).ends.map((e) => (e.end.kind === 'exit' ? `exit ${e.end.code}` : `restart (${e.end.reason}) holding ${e.end.held ?? 'nothing'}`))

t.test('start-up: titanic5 takes its group, both stable, one owner', async (t) => {
  const c = pair()
  t.same(c.owners(), [T5], 'the VIP is up on titanic5 only')
  t.equal(c.rm(T5).rscstatus, 'local', 'titanic5: rscstatus local')
  t.equal(c.rm(T6).rscstatus, 'local', 'titanic6: rscstatus local (its own groups: none)')
  t.equal(c.snapshot(T5).phase, 'running')
  t.same(c.node(T5).calls.filter((x) => x.op !== 'status').map((x) => `${x.op} ${x.text}`), [`start ${VIP}`, 'start lvs'], 'titanic5 started IPaddr then lvs, once each')
})

t.test('crash and takeover: titanic6 takes the VIP after the dead time; auto_failback brings it back', async (t) => {
  const c = pair()
  c.crash(T5)
  const crashAt = c.now
  t.ok(c.runUntilTrue(() => c.owners().join() === T6, crashAt + DEADTIME_MS + 3000), 'titanic6 holds the VIP within deadtime + 3 s')
  t.match(c.logText(T6), /node titanic5\.etri\.re\.kr: is dead/)
  c.start(T5)
  const { doubleAt } = runWatching(c, c.now + 30_000)
  t.same(c.owners(), [T5], 'after titanic5 came back, auto_failback on moved the VIP home')
  t.same(doubleAt, [], 'never on both machines')
})

t.test('standby both ways through hbctl', async (t) => {
  const c = pair()
  c.event(T5, { type: 'control', request: 'standby', arg: 'all' })
  let w = runWatching(c, c.now + 10_000)
  t.same(c.owners(), [T6], 'hbctl standby on titanic5: titanic6 holds the VIP')
  t.same(w.doubleAt, [], 'never on both machines')
  c.event(T5, { type: 'control', request: 'takeover', arg: 'all' })
  w = runWatching(c, c.now + 10_000)
  t.same(c.owners(), [T5], 'hbctl takeover on titanic5: the VIP is back')
  t.same(w.doubleAt, [], 'never on both machines')
})

t.test('every message a node sends is heard by it once: hb_standby through the FIFO and through hbctl', async (t) => {
  for (const via of ['FIFO', 'hbctl'] as const) {
    const c = pair()
    if (via === 'FIFO') c.fifo(T5, messageOf([['t', 'ask_resources'], ['rsc_hold', 'all'], ['info', 'me']]))
    else c.event(T5, { type: 'control', request: 'standby', arg: 'all' })
    c.runUntil(c.now + 10_000)
    const wants = c.node(T5).logs.filter((l) => /titanic5\.etri\.re\.kr wants to go standby \[all\]/.test(l.text))
    t.equal(wants.length, 1, `${via}: titanic5 acts on its own ask_resources once`)
    t.notMatch(c.logText(T5), /new request from titanic5\.etri\.re\.kr ignored/, `${via}: never a second time`)
    t.same(c.owners(), [T6], `${via}: titanic6 holds the VIP`)
  }
})

t.test("the host cache: the core asks for it to be written when it learns a peer's uuid, and not again while nothing new is learned", async (t) => {
  const c = new ClusterRm({ mode: 'on' })
  c.start(T5)
  c.runUntil(3000)
  t.same(c.node(T5).stateWrites, [], 'alone: no uuid learned, nothing written')
  c.start(T6)
  c.runUntil(20_000)
  const line = (name: string, byte: string): string => `${name}\t${byte.repeat(4)}-${byte.repeat(2)}-${byte.repeat(2)}-${byte.repeat(2)}-${byte.repeat(6)}\t100\t\n`
  const both = line(T5, '01') + line(T6, '02')
  t.same(
    c.node(T5).stateWrites.map((w) => [w.file, w.text]),
    [['hostcache', both]],
    "titanic5 asked once, on titanic6's first packet: both nodes, name, uuid, weight, site",
  )
  t.same(
    c.node(T6).stateWrites.map((w) => [w.file, w.text]),
    [['hostcache', both]],
    'and titanic6 likewise',
  )
  c.crash(T6)
  c.runUntil(c.now + 10_000)
  c.start(T6)
  c.runUntil(c.now + 20_000)
  t.equal(c.node(T5).stateWrites.length, 1, 'titanic6 back with the same uuid (a new generation): nothing new to write')
})

t.test('graceful shutdown with a slow agent: the VIP moves once the address is down (built-ins) or every stop is done (site scripts), then the node exits', async (t) => {
  for (const builtinAgents of [true, false]) {
    const how = builtinAgents ? 'built-in agents' : 'site scripts'
    const c = pair({ agentDelayMs: (n, op) => (n === T5 && op === 'stop' ? 3000 : 50), builtinAgents })
    const termAt = c.now
    c.signal(T5, 'TERM')
    t.equal(c.snapshot(T5).phase, 'releasing', `${how}: titanic5 is giving its resources up`)
    const { doubleAt } = runWatching(c, termAt + 20_000)
    t.same(doubleAt, [], `${how}: never on both machines`)
    t.same(c.owners(), [T6], `${how}: titanic6 holds the VIP`)
    t.same(ends(c, T5), ['exit 0'], `${how}: titanic5 exited with status 0`)
    const exitAt = c.node(T5).ends[0]?.at ?? 0
    const lastStop = c.node(T5).calls.filter((x) => x.op === 'stop').at(-1)?.at ?? Infinity
    const shutdoneAt = c.node(T5).sent.find((x) => x.at >= termAt && getString(x.msg, 't') === 'shutdone')?.at ?? Infinity
    t.ok(exitAt >= lastStop + 3000 && exitAt >= shutdoneAt + 2000, `${how}: it exited after its last stop answered and the two final phases (last stop at +${lastStop - termAt} ms, shutdone at +${shutdoneAt - termAt} ms, exit at +${exitAt - termAt} ms)`)
    t.match(c.logText(T6), /Received shutdown notice from 'titanic5\.etri\.re\.kr'/)
  }
})

t.test('a second TERM exits at once', async (t) => {
  const c = pair({ agentDelayMs: (n, op) => (n === T5 && op === 'stop' ? 3000 : 50) })
  c.signal(T5, 'TERM')
  c.runUntil(c.now + 100)
  c.signal(T5, 'TERM')
  t.same(ends(c, T5), ['exit 0'])
  t.match(c.logText(T5), /Second shutdown request: exiting now\./)
})

t.test('reload with ha.cf unchanged: answered, nothing restarts', async (t) => {
  const c = pair()
  const id = c.reload(T5)
  c.runUntil(c.now + 1000)
  t.same(c.node(T5).replies.map((r) => [r.replyTo, r.ok, r.message]), [[id, true, 'Configuration unchanged.']])
  t.same(ends(c, T5), [], 'no restart')
})

t.test('reload with ha.cf changed: an in-process restart that keeps the VIP; the peer sees a restart, not a death', async (t) => {
  const c = pair()
  const gen = c.snapshot(T5).membership.generation
  const callsBefore = c.node(T5).calls.length
  c.reloadOutcome.set(T5, { kind: 'restart', reason: 'ha.cf changed', haresourcesChanged: false })
  const id = c.reload(T5)
  const { doubleAt } = runWatching(c, c.now + 30_000)
  t.same(c.node(T5).replies.map((r) => [r.replyTo, r.ok]), [[id, true]])
  t.match(c.node(T5).replies[0]?.message, /restarting heartbeat, keeping resources/)
  t.same(ends(c, T5), ['restart (ha.cf changed) holding local'])
  t.ok(c.snapshot(T5).membership.generation > gen, 'a new generation')
  t.same(c.owners(), [T5], 'titanic5 still holds the VIP')
  t.same(doubleAt, [])
  t.same(c.node(T5).calls.slice(callsBefore).filter((x) => x.op === 'stop'), [], 'nothing was stopped')
  t.match(c.logText(T6), /Heartbeat restart on node titanic5\.etri\.re\.kr/)
  t.notMatch(c.logText(T6), /titanic5\.etri\.re\.kr: is dead/)
  const ended = c.node(T5).ends[0]?.at ?? 0
  const commUps = c.node(T5).commUps
  t.equal(commUps.length, 2, 'comm-up once per life: the respawn clients start again in the new life')
  t.ok((commUps[1] ?? 0) > ended, 'the second one after the restart')
})

t.test('a crash in the first seconds after a reload restart is seen within deadtime: the new life advertises no start-up margin (the ts soak, seed 20261208, +1630 s)', async (t) => {
  // Soak timers: keepalive 500 ms, deadtime 2 s. The new life used to advertise deadtime + 2 s for its
  // first 5 s (3.0.6's start-up margin), so a crash 5 s after the reload left no holder for 3 s.
  for (const crashAfterMs of [1000, 3000, 4900]) {
    const c = new ClusterRm({ mode: 'on', keepaliveMs: 500, deadtimeMs: 2000 })
    c.start(T5)
    c.start(T6)
    c.runUntil(30_000)
    t.same(c.owners(), [T5])
    c.reloadOutcome.set(T5, { kind: 'restart', reason: 'ha.cf changed', haresourcesChanged: false })
    c.reload(T5)
    c.runUntilTrue(() => c.node(T5).ends.length === 1, c.now + 10_000, 1)
    c.runUntil(c.now + Math.min(crashAfterMs, 600))
    const seenDeadMs = c.node(T6).core.snapshot().membership.nodes.find((x) => x.name === T5)?.deadtimeMs
    t.equal(seenDeadMs, 2000, 'titanic6 holds the new life to the plain deadtime')
    c.runUntil(c.now + crashAfterMs - Math.min(crashAfterMs, 600))
    const crashAt = c.now
    c.crash(T5)
    t.ok(c.runUntilTrue(() => c.owners().includes(T6), crashAt + 10_000, 1), 'titanic6 takes the VIP over')
    t.ok(c.now - crashAt <= 3000, `crash ${crashAfterMs} ms into the new life: titanic6 holds the VIP ${c.now - crashAt} ms later (deadtime + 1 s at most)`)
  }
})

t.test('TERM right after a reload restart, before the new life reaches comm-up: the kept VIP is released, not left up', async (t) => {
  // The new life runs the groups it kept from its first moment; it used to exit at once as if it held
  // nothing, leaving the address up on a stopped node while titanic6 took it (review of 82e9ca5).
  const c = pair()
  c.reloadOutcome.set(T5, { kind: 'restart', reason: 'ha.cf changed', haresourcesChanged: false })
  c.reload(T5)
  t.ok(c.runUntilTrue(() => c.node(T5).ends.length === 1, c.now + 10_000, 1), 'titanic5 restarted in process')
  t.equal(c.node(T5).commUps.length, 1, 'its new life has not reached comm-up yet')
  const callsBefore = c.node(T5).calls.length
  c.signal(T5, 'TERM')
  const { doubleAt } = runWatching(c, c.now + 60_000)
  t.same(ends(c, T5).slice(1), ['exit 0'], 'then it exits')
  t.ok(c.node(T5).calls.slice(callsBefore).some((x) => x.op === 'stop'), 'after stopping its group')
  t.same(c.owners(), [T6], 'titanic6 alone holds the VIP')
  t.same(doubleAt, [], 'never both')
})

t.test('comm-up (when the shell starts the respawn clients) comes once per life, and not while stopping', async (t) => {
  const c = pair()
  t.equal(c.node(T5).commUps.length, 1, 'once, at start-up')
  t.equal(c.node(T6).commUps.length, 1)
  c.signal(T5, 'TERM')
  c.runUntil(c.now + 30_000)
  t.same(ends(c, T5), ['exit 0'])
  t.equal(c.node(T5).commUps.length, 1, 'none during the shutdown')
})

t.test('a reload the shell could not prepare is refused: the node runs on unchanged, holding, and says why', async (t) => {
  const c = pair()
  const gen = c.snapshot(T5).membership.generation
  c.reloadOutcome.set(T5, { kind: 'refused', reason: 'cannot open communication media: interface nosuch0 not found' })
  const id = c.reload(T5)
  c.runUntil(c.now + 30_000)
  const reply = c.node(T5).replies[0]
  t.equal(reply?.replyTo, id)
  t.equal(reply?.ok, false, 'hbctl reload reports a failure')
  t.match(reply?.message, /nosuch0/, 'the reply says why')
  t.match(c.logText(T5), /Reload refused, running on unchanged: .*nosuch0/, 'so does the log')
  t.same(ends(c, T5), [], 'no restart, no exit')
  t.equal(c.snapshot(T5).membership.generation, gen, 'same generation')
  t.same(c.owners(), [T5], 'still holding the VIP')
  t.notMatch(c.logText(T6), /is dead/)
})

t.test('a restart waits for a running agent and keeps what it started (issue 11)', async (t) => {
  const c = pair({ agentDelayMs: (n, op) => (n === T6 && op === 'start' ? 3000 : 50) })
  c.crash(T5)
  t.ok(c.runUntilTrue(() => c.node(T6).calls.some((x) => x.op === 'start'), c.now + DEADTIME_MS + 3000), 'titanic6 began taking over')
  c.runUntil(c.now + 1000)
  c.reloadOutcome.set(T6, { kind: 'restart', reason: 'ha.cf changed', haresourcesChanged: false })
  c.reload(T6)
  c.runUntil(c.now + 100)
  t.equal(c.snapshot(T6).phase, 'draining', 'titanic6 waits for its running start')
  t.match(c.logText(T6), /Waiting for 1 running resource agent\(s\) before restarting\./)
  c.runUntil(c.now + 20_000)
  t.same(ends(c, T6), ['restart (ha.cf changed) holding all'], 'the new life holds what the takeover started')
  t.same(c.owners(), [T6])
  t.same(c.node(T6).calls.filter((x) => x.op === 'stop'), [], 'nothing was stopped')
  t.equal(c.rm(T6).rscstatus, 'all')
})

t.test('a restart waits at most an agent timeout for an agent that never answers', async (t) => {
  const c = pair({ agentDelayMs: (n, op) => (n === T6 && op === 'start' ? 10 * KIT_AGENT_TIMEOUT_MS : 50) })
  c.crash(T5)
  t.ok(c.runUntilTrue(() => c.node(T6).calls.some((x) => x.op === 'start'), c.now + DEADTIME_MS + 3000))
  const startAt = c.node(T6).calls.find((x) => x.op === 'start')?.at ?? 0
  c.reloadOutcome.set(T6, { kind: 'restart', reason: 'ha.cf changed', haresourcesChanged: false })
  c.reload(T6)
  c.runUntil(startAt + 2 * KIT_AGENT_TIMEOUT_MS)
  t.equal(ends(c, T6).length, 1, 'restarted')
  const at = c.node(T6).ends[0]?.at ?? Infinity
  t.ok(at <= startAt + KIT_AGENT_TIMEOUT_MS + 2000, `no later than the agent's timeout (+ grace) after it started (+${at - startAt} ms)`)
  t.match(c.logText(T6), /did not answer within their timeout/)
})

t.test('a failing stop at shutdown: the node keeps the group and says so; the peer does not take it while it is up', async (t) => {
  const c = pair({ agentFails: (n, op, res) => n === T5 && op === 'stop' && res === VIP })
  c.signal(T5, 'TERM')
  const { doubleAt } = runWatching(c, c.now + 120_000)
  t.match(c.logText(T5), /crit: Resource STOP failure: 10\.99\.0\.149 of group 10\.99\.0\.149 would not stop/)
  t.same(doubleAt, [], 'never on both machines')
  t.ok(c.owners().includes(T5), 'the VIP is still up on titanic5')
})

for (const mode of ['on', 'off', 'legacy'] as const) {
  t.test(`healed partition (auto_failback ${mode}): one holder within deadtime + 2 s, and it re-announces the VIP (issue 11)`, async (t) => {
    const c = fastPair(mode)
    t.same(c.owners(), [T5])
    c.partition(T5, T6, true)
    c.runUntil(c.now + 3000)
    t.same(c.owners(), [T5, T6], 'during the partition both took the VIP')
    c.partition(T5, T6, false)
    const healAt = c.now
    const { doubleAt } = runWatching(c, healAt + 30_000)
    const lastDouble = doubleAt.at(-1) ?? healAt
    t.ok(lastDouble - healAt <= 1000 + 2000, `one holder ${lastDouble - healAt} ms after the heal (deadtime + 2 s = 3000 ms)`)
    t.same(c.owners(), [T5], 'the haresources owner keeps it')
    t.match(c.logText(T5), /Healed partition: keeping our resources; re-announcing their addresses\./)
    t.match(c.logText(T6), /Healed partition: we run a group the peer also ran; giving up our resources and restarting\./)
    const reannounce = c.node(T5).calls.find((x) => x.at > healAt && x.op === 'start' && x.text === VIP)
    t.ok(reannounce !== undefined, 'titanic5 ran IPaddr start again (gratuitous ARP) after the heal')
    const t6Stop = c.node(T6).calls.find((x) => x.at > healAt && x.op === 'stop' && x.text === VIP)
    t.ok(t6Stop !== undefined, 'titanic6 stopped its copy')
    // Decided when the heal is seen (the next status, 200 ms), not at 3.0.6's restart 2 s later.
    t.ok(t6Stop !== undefined && t6Stop.at - healAt < 1000, `titanic6 began its release ${(t6Stop?.at ?? Infinity) - healAt} ms after the heal`)
    t.same(c.owners(), [T5])
    // A 3.0.6 survivor would not re-announce: the yielder announces the address for it once its own copy is gone.
    const announced = c.node(T6).holderAnnounces
    t.same(announced.map((x) => x.texts), [[VIP]], 'titanic6 announced the VIP for its holder once')
    const t6StopDone = (t6Stop?.at ?? Infinity) + 50
    t.ok((announced[0]?.at ?? -1) >= t6StopDone, 'after its own copy was removed')
    t.same(c.node(T5).holderAnnounces, [], 'the keeper announces for nobody')
  })
}

t.test('a heal while our takeover is still starting: the address we raised is announced for the holder once released (the mixed soak)', async (t) => {
  // titanic6's lvs start takes 3 s, so the heal lands after its IPaddr start and before the group runs
  const c = new ClusterRm({ mode: 'on', keepaliveMs: 200, deadtimeMs: 1000, agentDelayMs: (node, op) => (node === T6 && op === 'start' ? 1500 : 50) })
  c.start(T5)
  c.start(T6)
  c.runUntil(20_000)
  t.same(c.owners(), [T5])
  c.partition(T5, T6, true)
  t.ok(c.runUntilTrue(() => c.node(T6).up.has(VIP), c.now + 5000), 'titanic6 raised the VIP in its takeover')
  t.equal(c.rm(T6).groups.find((g) => g.key === VIP)?.state, 'starting', 'its group is still starting (lvs runs)')
  c.partition(T5, T6, false)
  const healAt = c.now
  c.runUntil(healAt + 15_000)
  t.same(c.owners(), [T5], 'titanic5 keeps the VIP')
  t.same(c.node(T6).holderAnnounces.map((x) => x.texts), [[VIP]], 'titanic6 announced the VIP for its holder')
})

t.test('the peer restarted while we were apart and came back already active: one holder soon after the heal (the mixed soak, seed 20261205)', async (t) => {
  // titanic5 restarts inside a partition, runs its start-up alone and takes its group back; its lvs
  // start is slow (a real 3.0.6 says what it holds only once its start is done). titanic6 sees a new
  // generation, not a returning node, so nothing said "partition" to it.
  const c = new ClusterRm({ mode: 'on', keepaliveMs: 200, deadtimeMs: 1000, agentDelayMs: (node, op, resource) => (node === T5 && op === 'start' && resource === 'lvs' ? 8000 : 50) })
  c.start(T5)
  c.start(T6)
  c.runUntil(30_000)
  t.same(c.owners(), [T5])
  c.partition(T5, T6, true)
  t.ok(c.runUntilTrue(() => c.owners().includes(T6) && c.rm(T6).groups.every((g) => g.state === 'running'), c.now + 20_000), 'titanic6 took the group over')
  c.crash(T5)
  c.runUntil(c.now + 500)
  c.start(T5)
  t.ok(c.runUntilTrue(() => c.node(T5).up.has(VIP), c.now + 30_000), 'titanic5, alone, raised the VIP again')
  c.partition(T5, T6, false)
  const healAt = c.now
  // As 3.0.6 mid-acquisition: nothing about its resources until its slow lvs start ends.
  c.drops.push({ from: T5, times: 1000, match: (m) => c.rm(T5).groups.some((g) => g.state === 'starting') && ['resource', 'ask_resources', 'starting'].includes(getString(m, 't') ?? '') })
  const { lastDoubleMs, longestNoneMs } = watchHolders(c, [VIP], healAt, healAt + 30_000)
  t.ok(lastDoubleMs - healAt <= 3000, `one holder ${lastDoubleMs - healAt} ms after the heal (deadtime + 2 s at most)`)
  t.ok(longestOf(longestNoneMs) <= 2000, `never without a holder for long (longest ${longestOf(longestNoneMs)} ms)`)
  t.equal(c.owners().length, 1, `exactly one holder at the end (${c.owners().join(', ')})`)
  t.match(c.logText(T6), /restarted while apart from us and is already active: treating it as a healed partition/, 'titanic6 says why it gives the group up')
})

t.test('the peer restarted inside a partition and the heal reached us first: it goes active on its initdead, and one holder soon after (the mixed soak, seed 20261205, +3499 s)', async (t) => {
  // The soak lifts titanic5's nft rule, then titanic6's: titanic6 hears titanic5's start-up ("up"), so
  // its first status is not yet active; titanic5 cannot hear titanic6 until its initdead ends, then
  // declares it dead and takes the VIP. A real 3.0.6 says so only after its slow lvs start (10 s).
  const c = new ClusterRm({ mode: 'on', keepaliveMs: 200, deadtimeMs: 1000, agentDelayMs: (node, op, resource) => (node === T5 && op === 'start' && resource === 'lvs' ? 8000 : 50) })
  c.start(T5)
  c.start(T6)
  c.runUntil(30_000)
  c.partition(T5, T6, true)
  t.ok(c.runUntilTrue(() => c.owners().includes(T6) && c.rm(T6).groups.every((g) => g.state === 'running'), c.now + 20_000), 'titanic6 took the group over')
  c.crash(T5)
  c.runUntil(c.now + 500)
  c.start(T5)
  c.runUntil(c.now + 3000)
  c.mute(T6, true)
  c.partition(T5, T6, false)
  c.drops.push({ from: T5, times: 1000, match: (m) => c.rm(T5).groups.some((g) => g.state === 'starting') && ['resource', 'ask_resources', 'starting'].includes(getString(m, 't') ?? '') })
  t.ok(c.runUntilTrue(() => c.node(T5).up.has(VIP), c.now + 30_000), 'titanic5, hearing nothing, raised the VIP again')
  const activeAt = c.now
  c.mute(T6, false)
  const { lastDoubleMs, longestNoneMs } = watchHolders(c, [VIP], activeAt, activeAt + 30_000)
  t.ok(lastDoubleMs - activeAt <= 3000, `one holder ${lastDoubleMs - activeAt} ms after titanic5 went active (deadtime + 2 s at most)`)
  t.ok(longestOf(longestNoneMs) <= 2000, `never without a holder for long (longest ${longestOf(longestNoneMs)} ms)`)
  t.equal(c.owners().length, 1, `exactly one holder at the end (${c.owners().join(', ')})`)
  t.match(c.logText(T6), /went active without asking us for the node list/, 'titanic6 says why it gives the group up')
})

// The mirror of the story above (review of 0506855): the node that restarts inside the partition is
// the one running the peer's group. Its fresh table never saw the peer, and the keeper, which stays
// in its generation, said nothing a `resource` message would: both held the VIP for good.
for (const mode of ['on', 'off', 'legacy'] as const) {
  for (const twoGroups of [false, true]) {
    t.test(`auto_failback ${mode}, ${twoGroups ? 'a group on each node' : 'one group'}: titanic6 restarts inside a partition and takes everything alone; after the heal one node holds each address`, async (t) => {
      const V2 = '10.99.0.150'
      const groups = twoGroups
        ? [
            { node: T5, key: VIP, line: 1, resources: [{ agent: 'IPaddr', args: [VIP], text: VIP }] },
            { node: T6, key: V2, line: 2, resources: [{ agent: 'IPaddr', args: [V2], text: V2 }] },
          ]
        : undefined
      const keys = twoGroups ? [VIP, V2] : [VIP]
      const c = new ClusterRm({ mode, keepaliveMs: 200, deadtimeMs: 1000, ...(groups ? { groups } : {}) })
      c.start(T5)
      c.start(T6)
      c.runUntil(30_000)
      c.partition(T5, T6, true)
      c.runUntil(c.now + 5000)
      c.crash(T6)
      c.runUntil(c.now + 500)
      c.start(T6)
      c.runUntil(c.now + 20_000)
      t.same(keys.map((k) => c.owners(k).length), keys.map(() => 2), 'apart, both nodes hold every address')
      c.partition(T5, T6, false)
      const healAt = c.now
      const { lastDoubleMs, longestNoneMs } = watchHolders(c, keys, healAt, healAt + 60_000)
      t.ok(lastDoubleMs - healAt <= 1000, `one holder ${lastDoubleMs - healAt} ms after the heal`)
      t.ok(longestOf(longestNoneMs) <= 2000, `no address without a holder for long (longest ${longestOf(longestNoneMs)} ms)`)
      t.same(keys.map((k) => c.owners(k).length), keys.map(() => 1), `exactly one holder of each at the end (${keys.map((k) => c.owners(k).join('+')).join(', ')})`)
      t.match(c.logText(T6), /Cluster node titanic5\.etri\.re\.kr ran apart from us since our start and is already active: treating it as a healed partition/, 'titanic6 says why it gives up')
      // The keeper tells the peer what it holds (a 3.0.6 peer's only way to learn it); legacy sends no rsc_hold at all.
      const told = c.node(T5).sent.filter((x) => x.at >= healAt && getString(x.msg, 't') === 'resource' && getString(x.msg, 'info') === 'healed partition')
      t.equal(told.length, mode === 'legacy' ? 0 : 1, 'titanic5, keeping, sent its rsc_hold once')
    })
  }
}

// Both nodes restart inside the partition and each takes the VIP alone; the heal comes while both are
// still in their start-up's request delay (10 s). The yielder gave up only once its own start-up had
// settled: two holders for ~8 s (review of 15dff7d).
for (const mode of ['on', 'off', 'legacy'] as const) {
  t.test(`auto_failback ${mode}: both nodes restart inside a partition; a heal during their start-ups leaves one holder at once`, async (t) => {
    const c = new ClusterRm({ mode, keepaliveMs: 200, deadtimeMs: 1000 })
    c.start(T5)
    c.start(T6)
    c.runUntil(30_000)
    c.partition(T5, T6, true)
    c.runUntil(c.now + 5000)
    c.crash(T5)
    c.crash(T6)
    c.runUntil(c.now + 500)
    c.start(T5)
    c.start(T6)
    t.ok(c.runUntilTrue(() => c.owners().length === 2, c.now + 30_000), 'each took the VIP alone')
    c.runUntil(c.now + 2000)
    c.partition(T5, T6, false)
    const healAt = c.now
    const { lastDoubleMs, longestNoneMs } = watchHolders(c, [VIP], healAt, healAt + 60_000)
    t.ok(lastDoubleMs - healAt <= 1000, `one holder ${lastDoubleMs - healAt} ms after the heal`)
    t.ok(longestOf(longestNoneMs) <= 2000, `never without a holder for long (longest ${longestOf(longestNoneMs)} ms)`)
    t.equal(c.owners().length, 1, `exactly one holder at the end (${c.owners().join(', ')})`)
  })
}

// The first node ran both groups while the peer (its reset failed) ran only its own: test/daemon/heal-ask.test.ts.

t.test('healed partition with a group on each node, both ran both: the first ha.cf node keeps them all', async (t) => {
  const groups = [
    { node: T5, key: VIP, line: 1, resources: [{ agent: 'IPaddr', args: [VIP], text: VIP }] },
    { node: T6, key: '10.99.0.150', line: 2, resources: [{ agent: 'IPaddr', args: ['10.99.0.150'], text: '10.99.0.150' }] },
  ]
  const c = new ClusterRm({ mode: 'on', keepaliveMs: 200, deadtimeMs: 1000, groups })
  c.start(T5)
  c.start(T6)
  c.runUntil(20_000)
  t.same([c.owners(VIP), c.owners('10.99.0.150')], [[T5], [T6]])
  c.partition(T5, T6, true)
  c.runUntil(c.now + 3000)
  c.partition(T5, T6, false)
  const healAt = c.now
  let lastDouble = healAt
  while (c.now < healAt + 30_000) {
    c.runUntil(c.now + 10)
    if (c.owners(VIP).length > 1 || c.owners('10.99.0.150').length > 1) lastDouble = c.now
  }
  t.ok(lastDouble - healAt <= 3000, `one holder of each ${lastDouble - healAt} ms after the heal`)
  t.equal(c.owners(VIP).length, 1)
  t.equal(c.owners('10.99.0.150').length, 1)
})

t.test('a reload whose haresources changed says the new groups take effect with the restart', async (t) => {
  const c = pair()
  c.reloadOutcome.set(T5, { kind: 'restart', reason: 'ha.cf changed', haresourcesChanged: true })
  c.reload(T5)
  c.runUntil(c.now + 1000)
  t.match(c.node(T5).replies[0]?.message, /haresources changed: its groups take effect with this restart\./)
  t.match(c.logText(T5), /haresources changed: its groups take effect with this restart\./)
})

t.test('property: healed partitions with 5 % loss end with one holder within deadtime + 2 s', async (t) => {
  for (let seed = 1; seed <= 8; seed++) {
    const c = new ClusterRm({ mode: seed % 2 === 0 ? 'on' : 'off', keepaliveMs: 200, deadtimeMs: 1000, lossRate: 0.05, seed })
    c.start(T5)
    c.start(T6)
    c.runUntil(20_000)
    c.partition(T5, T6, true)
    c.runUntil(c.now + 3000)
    c.partition(T5, T6, false)
    const healAt = c.now
    const { doubleAt } = runWatching(c, healAt + 30_000)
    const lastDouble = doubleAt.at(-1) ?? healAt
    t.ok(lastDouble - healAt <= 3000, `seed ${seed}: one holder ${lastDouble - healAt} ms after the heal`)
    t.equal(c.owners().length, 1, `seed ${seed}: exactly one holder at the end (${c.owners().join(', ')})`)
  }
})

t.test('after a reload that kept the VIP, status shows the group running here (issue 11)', async (t) => {
  const c = pair()
  c.reloadOutcome.set(T5, { kind: 'restart', reason: 'ha.cf changed', haresourcesChanged: false })
  c.reload(T5)
  c.runUntil(c.now + 5000)
  t.equal(ends(c, T5).length, 1, 'titanic5 restarted in-process')
  t.same(c.owners(), [T5], 'the VIP stayed up on titanic5')
  const g = c.rm(T5).groups[0]
  t.equal(g?.state, 'running', 'hbctl status: the group is running')
  t.equal(g?.holder, T5, 'hbctl status: held by titanic5')
})

/** Run to `until`; the last moment two machines had the VIP up, or undefined. */
function lastDoubleUntil(c: ClusterRm, until: number): number | undefined {
  return runWatching(c, until).doubleAt.at(-1)
}

/**
 * Whose gratuitous ARP the client heard last by `atMs`: every IPaddr start (a takeover, or a re-announcement
 * of an address already up) announces the address, and the newest announcement is the client's ARP entry.
 */
function lastAnnouncer(c: ClusterRm, atMs: number): string | undefined {
  let best: { at: number; who: string } | undefined
  for (const who of [T5, T6]) {
    for (const x of c.node(who).calls) if (x.op === 'start' && x.text === VIP && x.at <= atMs && (best === undefined || x.at >= best.at)) best = { at: x.at, who }
  }
  return best?.who
}

/** The client's ARP entry names the one holder within 1 s of the clash ending (acassen/keepalived 166, 1528). */
function reannouncedAfter(c: ClusterRm, who: string, lastDoubleMs: number): boolean {
  return lastAnnouncer(c, lastDoubleMs + 1000) === who
}

for (const mode of ['on', 'off'] as const) {
  t.test(`healed partition after a reload that kept the VIP (auto_failback ${mode}): one holder within deadtime + 2 s (issue 11)`, async (t) => {
    const c = fastPair(mode)
    c.reloadOutcome.set(T5, { kind: 'restart', reason: 'ha.cf changed', haresourcesChanged: false })
    c.reload(T5)
    c.runUntil(c.now + 5000)
    c.partition(T5, T6, true)
    c.runUntil(c.now + 3000)
    t.same(c.owners(), [T5, T6], 'during the partition both took the VIP')
    c.partition(T5, T6, false)
    const healAt = c.now
    const lastDouble = lastDoubleUntil(c, healAt + 30_000) ?? healAt
    t.ok(lastDouble - healAt <= 3000, `one holder ${lastDouble - healAt} ms after the heal (deadtime + 2 s = 3000 ms)`)
    t.same(c.owners(), [T5], 'the haresources owner keeps it')
    t.ok(reannouncedAfter(c, T5, lastDouble), "the client's ARP entry names titanic5 within 1 s of it being the only holder")
  })

  t.test(`one-way loss from the holder (auto_failback ${mode}): one holder within deadtime + 2 s after it ends, and the keeper re-announces (issue 11)`, async (t) => {
    const c = fastPair(mode)
    c.mute(T5, true)
    c.runUntil(c.now + 4000)
    t.same(c.owners(), [T5, T6], 'titanic6 heard nothing and took the VIP')
    c.mute(T5, false)
    const healAt = c.now
    const lastDouble = lastDoubleUntil(c, healAt + 30_000) ?? healAt
    t.ok(lastDouble - healAt <= 3000, `one holder ${lastDouble - healAt} ms after the loss ended`)
    t.same(c.owners(), [T5])
    t.ok(reannouncedAfter(c, T5, lastDouble), "the client's ARP entry names titanic5 within 1 s of it being the only holder")
  })

  t.test(`one-way loss from a backup that runs the group (auto_failback ${mode}): one holder within deadtime + 2 s (issue 11)`, async (t) => {
    const c = fastPair(mode)
    c.event(T5, { type: 'control', request: 'standby', arg: 'all' })
    c.runUntil(c.now + 8000)
    if (mode === 'off') t.same(c.owners(), [T6], 'titanic6 runs the group after titanic5 went standby')
    else t.same(c.owners().length, 1)
    const holder = c.owners()[0] ?? T6
    c.mute(holder, true)
    c.runUntil(c.now + 4000)
    c.mute(holder, false)
    const healAt = c.now
    const lastDouble = lastDoubleUntil(c, healAt + 30_000) ?? healAt
    t.ok(lastDouble - healAt <= 3000, `one holder ${lastDouble - healAt} ms after the loss ended`)
    t.equal(c.owners().length, 1, `exactly one holder (${c.owners().join(', ')})`)
    const keeper = c.owners()[0] ?? ''
    t.ok(reannouncedAfter(c, keeper, lastDouble), `the client's ARP entry names ${keeper} within 1 s of it being the only holder`)
  })
}

t.test('one-way loss from the holder ends in its peer crashing: the keeper re-announces once it sees the death (issue 11)', async (t) => {
  const c = fastPair('on')
  c.mute(T5, true)
  c.runUntil(c.now + 4000)
  t.same(c.owners(), [T5, T6], 'titanic6 heard nothing and took the VIP')
  // titanic6 crashes with the VIP (its machine goes, addresses and all): the client still has its MAC.
  const crashAt = c.now
  c.crash(T6)
  c.mute(T5, false)
  c.runUntil(crashAt + 1000 + 1000)
  t.equal(lastAnnouncer(c, c.now), T5, "the client's ARP entry names titanic5 within deadtime + 1 s of the crash")
})

t.test('STONITH: titanic6 resets crashed titanic5 before the takeover; failed resets hold it, the wire says each result', async (t) => {
  const stonith = { type: 'external/recorder', config: { kind: 'params' as const, params: `${T5} ${T6}` }, line: 12 }
  // The first two resets fail (the device is busy), the third works.
  const c = pair({ stonith, stonithOutcome: (_node, _target, attempt) => (attempt < 3 ? 'bad' : 'ok') })
  c.crash(T5)
  const crashAt = c.now
  t.ok(c.runUntilTrue(() => c.node(T6).resetCalls.length === 1, crashAt + DEADTIME_MS + 1000), 'titanic6 starts a reset when it declares titanic5 dead')
  t.same(c.owners(), [], 'the VIP is down while the reset runs')
  t.ok(c.runUntilTrue(() => c.owners().join() === T6, crashAt + 30_000), 'titanic6 holds the VIP in the end')
  const resets = c.node(T6).resetCalls
  t.same(resets.map((r) => r.node), [T5, T5, T5], 'three resets of titanic5')
  t.ok(resets[1]!.at - resets[0]!.at >= 6000 && resets[2]!.at - resets[1]!.at >= 6000, 'each retry 5 s after the 1 s reset failed')
  const firstStart = c.node(T6).calls.find((x) => x.op === 'start')
  t.ok(firstStart !== undefined && firstStart.at > resets[2]!.at, 'nothing started before the successful reset')
  const stonithMsgs = c.node(T6).sent.filter((m) => describe(m.msg).startsWith('stonith')).map((m) => describe(m.msg))
  t.same(stonithMsgs, [`stonith node=${T5} result=bad`, `stonith node=${T5} result=bad`, `stonith node=${T5} result=OK`], 't=stonith on the wire after each try, as 3.0.6')
  t.match(c.snapshot(T6).groupCauses[VIP] ?? '', /reset by STONITH/, 'hbctl status says why titanic6 took the group')
})
