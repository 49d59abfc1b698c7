// A graceful hand-over of the seed's group (built-in IPaddr + lvs) on virtual time: the giver takes
// the address down first and tells the peer (`done`, `shutdone`) before its lvs stop, so the peer's
// start no longer waits for the IPVS table's deletion. With site scripts the order stays 3.0.6's.
// Agent times are the failover bench's (200 ms / 1 s, the stand-in ipvsadm): lvs stop 150 ms.
import t from 'tap'
import { ClusterRm, KIT_AGENT_TIMEOUT_MS, T5, T6, VIP, describe } from '../resources/cluster-rm-kit.js'
import type { ClusterRmOptions } from '../resources/cluster-rm-kit.js'
import { messageOf } from '../../lib/wire/message.js'

const AGENT_MS: Record<string, number> = { 'stop lvs': 150, [`stop ${VIP}`]: 25, [`status ${VIP}`]: 8, [`start ${VIP}`]: 35, 'status lvs': 60, 'start lvs': 200 }

function pair(opts: Partial<ClusterRmOptions> = {}): ClusterRm {
  const c = new ClusterRm({ mode: 'on', keepaliveMs: 200, deadtimeMs: 1000, agentDelayMs: (_n, op, res) => AGENT_MS[`${op} ${res}`] ?? 20, ...opts })
  c.start(T5)
  c.start(T6)
  c.runUntil(20_000)
  return c
}

type Act = 'heartbeat -k' | 'hb_standby' | 'hbctl standby'

function act(c: ClusterRm, how: Act): void {
  if (how === 'heartbeat -k') c.signal(T5, 'TERM')
  else if (how === 'hb_standby') c.fifo(T5, messageOf([['t', 'ask_resources'], ['rsc_hold', 'all'], ['info', 'me']]))
  else c.event(T5, { type: 'control', request: 'standby', arg: 'all' })
}

interface Story {
  /** Act → the VIP up on titanic6. */
  servedMs: number
  doubles: number
  /** When titanic5's lvs stop answered (its table gone), from the act. */
  tableGoneMs: number
  /** titanic5's stops in the order they ran. */
  giverStops: string[]
}

function story(c: ClusterRm, how: Act): Story {
  const at = c.now
  act(c, how)
  let servedMs = Number.NaN
  let tableGoneMs = Number.NaN
  let doubles = 0
  while (c.now < at + 8000) {
    c.runUntil(c.now + 1)
    if (c.owners().length > 1) doubles++
    if (Number.isNaN(servedMs) && c.owners().includes(T6)) servedMs = c.now - at
    if (Number.isNaN(tableGoneMs) && !c.owners('lvs').includes(T5)) tableGoneMs = c.now - at
  }
  const giverStops = c.node(T5).calls.filter((x) => x.at >= at && x.op === 'stop').map((x) => x.text)
  return { servedMs, doubles, tableGoneMs, giverStops }
}

for (const how of ['heartbeat -k', 'hb_standby', 'hbctl standby'] as const) {
  t.test(`${how}: built-in IPaddr and lvs: the peer takes the VIP while the giver's lvs stop still runs`, async (t) => {
    const early = story(pair(), how)
    t.equal(early.doubles, 0, 'the VIP is never up on both')
    t.same(early.giverStops, [VIP, 'lvs'], 'titanic5 takes the address down first, then stops lvs')
    t.ok(early.servedMs < early.tableGoneMs, `titanic6 has the VIP (${early.servedMs} ms) before titanic5's table is gone (${early.tableGoneMs} ms)`)
    const classic = story(pair({ builtinAgents: false }), how)
    t.equal(classic.doubles, 0, 'site scripts: never on both either')
    t.same(classic.giverStops, ['lvs', VIP], "site scripts: 3.0.6's order, lvs first")
    t.ok(classic.servedMs > classic.tableGoneMs, `site scripts: titanic6 starts only after titanic5's table is gone (${classic.tableGoneMs} ms, VIP at ${classic.servedMs} ms)`)
    t.ok(early.servedMs + 100 < classic.servedMs, `the VIP moves sooner by about the lvs stop: ${early.servedMs} ms against ${classic.servedMs} ms`)
  })
}

t.test('heartbeat -k: the giver exits only once its lvs stop has answered, however long it takes after shutdone', async (t) => {
  // 4 s: past the two final phases (2 s after shutdone), so the life waits for it in its drain.
  const c = pair({ agentDelayMs: (n, op, res) => (n === T5 && op === 'stop' && res === 'lvs' ? 4000 : 30) })
  const at = c.now
  c.signal(T5, 'TERM')
  c.runUntilTrue(() => c.owners().includes(T6), at + 5000, 1)
  t.ok(c.owners('lvs').includes(T5), "titanic6 holds the VIP while titanic5's lvs still runs")
  t.same(c.owners(), [T6], 'and titanic5 no longer has the VIP')
  c.runUntil(at + 20_000)
  const n = c.node(T5)
  const lvsStop = n.calls.find((x) => x.at >= at && x.op === 'stop' && x.text === 'lvs')
  t.ok(lvsStop !== undefined, 'titanic5 ran its lvs stop')
  const exitAt = n.ends[0]?.at ?? Number.NaN
  t.same(n.ends.map((e) => e.end.kind), ['exit'], 'titanic5 exited')
  t.ok(exitAt >= (lvsStop?.at ?? Infinity) + 4000, `after its lvs stop answered (stop at +${(lvsStop?.at ?? 0) - at} ms, exit at +${exitAt - at} ms)`)
  t.notOk(c.owners('lvs').includes(T5), "no IPVS table left behind on titanic5")
  t.match(c.logText(T5), /Service addresses released \(10\.99\.0\.149\); the peer is told before the rest of the stop\./)
})

t.test('heartbeat -k: an lvs stop that fails twice after shutdone is retried to the end before the exit', async (t) => {
  let fails = 2
  const c = pair({
    agentDelayMs: () => 30,
    agentFails: (n, op, res) => n === T5 && op === 'stop' && res === 'lvs' && fails-- > 0,
  })
  const at = c.now
  c.signal(T5, 'TERM')
  c.runUntil(at + 20_000)
  const stops = c.node(T5).calls.filter((x) => x.at >= at && x.op === 'stop' && x.text === 'lvs')
  t.equal(stops.length, 3, 'three lvs stops: two failed, the third succeeded')
  t.same(c.node(T5).ends.map((e) => e.end.kind), ['exit'], 'titanic5 exited')
  t.ok((c.node(T5).ends[0]?.at ?? 0) > (stops.at(-1)?.at ?? Infinity), 'after the last one')
  t.notOk(c.owners('lvs').includes(T5), 'no IPVS table left behind')
  t.same(c.owners(), [T6], 'titanic6 holds the VIP')
})

t.test('a group with a site script beside the built-ins keeps 3.0.6 order', async (t) => {
  const groups = [{ node: T5, key: VIP, line: 1, resources: [{ agent: 'IPaddr', args: [VIP], text: VIP }, { agent: 'httpd', args: [], text: 'httpd' }, { agent: 'lvs', args: [], text: 'lvs' }] }]
  const c = pair({ groups })
  const s = story(c, 'heartbeat -k')
  t.same(s.giverStops, ['lvs', 'httpd', VIP], 'right to left, as haresources says')
  t.equal(s.doubles, 0, 'never on both')
})

t.test("hb_standby, then titanic5's lvs stop keeps failing and titanic6 crashes: titanic5 takes the VIP back without waiting for the retries", async (t) => {
  const c = pair({ agentFails: (n, op, res) => n === T5 && op === 'stop' && res === 'lvs' })
  const at = c.now
  act(c, 'hb_standby')
  t.ok(c.runUntilTrue(() => c.owners().includes(T6), at + 5000, 1), 'titanic6 took the VIP')
  c.runUntil(c.now + 300)
  const crashAt = c.now
  c.crash(T6)
  const back = c.runUntilTrue(() => c.owners().includes(T5), crashAt + 30_000, 10)
  t.ok(back, 'titanic5 holds the VIP again')
  // deadtime 1 s, then at most one 1 s retry pause before the tail gives way to the takeover
  t.ok(c.now - crashAt <= 3000, `within 3 s of the crash (${c.now - crashAt} ms), not after ten 1 s retries`)
  t.match(c.logText(T5), /Stop of lvs in group 10\.99\.0\.149 left unfinished for the group start waiting behind it/, 'says the lvs stop was left for the takeover')
  // Its status still says running (the table is there), but the monitor went with the failed stop.
  c.runUntil(c.now + 2000)
  const lvsStarts = c.node(T5).calls.filter((x) => x.at >= crashAt && x.op === 'start' && x.text === 'lvs')
  t.equal(lvsStarts.length, 1, 'the takeover runs lvs start although the table is still there, so the monitor comes back')
})

t.test('heartbeat -k with an lvs stop that never succeeds: the node exits after the retries, the VIP stays with the peer', async (t) => {
  const c = pair({ agentDelayMs: () => 30, agentFails: (n, op, res) => n === T5 && op === 'stop' && res === 'lvs' })
  const at = c.now
  c.signal(T5, 'TERM')
  let doubles = 0
  let none = 0
  while (c.now < at + 60_000) {
    c.runUntil(c.now + 10)
    if (c.owners().length > 1) doubles++
    if (c.owners().length === 0 && c.now > at + 500) none++
  }
  t.equal(doubles, 0, 'never on both')
  t.equal(none, 0, 'never on none once titanic6 took it')
  t.same(c.node(T5).ends.map((e) => e.end.kind), ['exit'], 'titanic5 exited')
  const stops = c.node(T5).calls.filter((x) => x.at >= at && x.op === 'stop' && x.text === 'lvs').length
  t.equal(stops, 11, "3.0.6's ten retries after the first try, then no more")
  t.match(c.logText(T5), /Stop of lvs in group 10\.99\.0\.149 left unfinished \(it failed 11 times\)/)
})

t.test('heartbeat -k with an lvs stop that answers only past its timeout (a hung ipvsadm): the giver waits for it without spinning, then exits', async (t) => {
  // 23 s: past the kit's 20 s agent timeout and the 2 s grace for its answer, so the drain's own
  // deadline is behind us while the tail still runs. That deadline must not stay due (the loop would spin).
  const hungMs = KIT_AGENT_TIMEOUT_MS + 3000
  const c = pair({ agentDelayMs: (n, op, res) => (n === T5 && op === 'stop' && res === 'lvs' ? hungMs : 30) })
  const at = c.now
  c.signal(T5, 'TERM')
  let doubles = 0
  while (c.now < at + hungMs + 5000) {
    c.runUntil(c.now + 10)
    if (c.owners().length > 1) doubles++
  }
  t.equal(doubles, 0, 'never on both')
  t.same(c.owners(), [T6], 'titanic6 holds the VIP')
  const exitAt = c.node(T5).ends[0]?.at ?? Number.NaN
  t.ok(exitAt >= at + hungMs, `titanic5 exited after its lvs stop answered (${exitAt - at} ms after TERM)`)
  t.notOk(c.owners('lvs').includes(T5), 'no IPVS table left behind')
})

for (const request of ['takeover', 'standby'] as const) {
  t.test(`heartbeat -k, then hbctl ${request} while the giver's lvs stop still runs after shutdone: nothing more runs on the giver`, async (t) => {
    const c = pair({ agentDelayMs: (n, op, res) => (n === T5 && op === 'stop' && res === 'lvs' ? 4000 : 30) })
    const at = c.now
    c.signal(T5, 'TERM')
    c.runUntilTrue(() => c.owners().includes(T6), at + 5000, 1)
    c.runUntil(c.now + 2500) // past the final phases: titanic5 drains, waiting for its lvs stop
    const asked = c.now
    c.event(T5, { type: 'control', request, arg: 'all' })
    let doubles = 0
    while (c.now < at + 20_000) {
      c.runUntil(c.now + 10)
      if (c.owners().length > 1) doubles++
    }
    t.equal(doubles, 0, 'never on both')
    t.same(c.owners(), [T6], 'titanic6 holds the VIP')
    const after = c.node(T5).calls.filter((x) => x.at >= asked).map((x) => `${x.op} ${x.text}`)
    t.same(after, [], 'titanic5 ran no agent after the request')
    t.same(c.node(T5).ends.map((e) => e.end.kind), ['exit'], 'titanic5 exited')
  })
}

t.test("heartbeat -k while a dead peer's reset is retried: the giver's drain runs only its lvs stop, not the next reset", async (t) => {
  const stonith = { type: 'null', config: { kind: 'params' as const, params: '' }, line: 12 }
  const c = pair({ stonith, stonithOutcome: () => 'bad', agentDelayMs: (n, op, res) => (n === T5 && op === 'stop' && res === 'lvs' ? 15_000 : 30) })
  const crashAt = c.now
  c.crash(T6)
  t.ok(c.runUntilTrue(() => c.node(T5).resetCalls.length > 0, crashAt + 10_000, 10), 'titanic5 resets the dead titanic6 (and fails)')
  const termAt = c.now
  c.signal(T5, 'TERM')
  c.runUntil(termAt + 40_000)
  const shutdoneAt = c.node(T5).sent.find((m) => m.at >= termAt && describe(m.msg).startsWith('shutdone'))?.at ?? Number.NaN
  t.ok(shutdoneAt > termAt, 'titanic5 sent shutdone')
  const resetsAfter = c.node(T5).resetCalls.filter((x) => x.at > shutdoneAt)
  t.same(resetsAfter, [], 'no reset runs once titanic5 said shutdone')
  t.same(c.node(T5).ends.map((e) => e.end.kind), ['exit'], 'titanic5 exited once its lvs stop answered')
})

t.test("hb_standby, titanic5's lvs stop hangs (a stuck ipvsadm), then titanic6 crashes: titanic5 cancels the hung stop and takes the VIP back at once", async (t) => {
  // Without a cancel the takeover would wait for the call's timeout (60 s in the daemon; here the
  // hung call simply answers after 50 s).
  const hungMs = 50_000
  let hung = true
  const c = pair({ agentDelayMs: (n, op, res) => (n === T5 && op === 'stop' && res === 'lvs' && hung ? hungMs : 30) })
  const at = c.now
  act(c, 'hb_standby')
  t.ok(c.runUntilTrue(() => c.owners().includes(T6), at + 5000, 1), 'titanic6 took the VIP')
  hung = false
  c.runUntil(c.now + 300)
  const crashAt = c.now
  c.crash(T6)
  const back = c.runUntilTrue(() => c.owners().includes(T5), crashAt + 30_000, 10)
  t.ok(back, 'titanic5 holds the VIP again')
  t.ok(c.now - crashAt <= 2000, `within 2 s of the crash (${c.now - crashAt} ms): deadtime, then the takeover, not the hung call's timeout`)
  t.match(c.logText(T5), /Cancelling the still running stop of lvs in group 10\.99\.0\.149/, 'says it cancelled the hung call')
  t.match(c.logText(T5), /Stop of lvs in group 10\.99\.0\.149 left unfinished for the group start waiting behind it/)
  c.runUntil(c.now + 2000)
  const lvsStarts = c.node(T5).calls.filter((x) => x.at >= crashAt && x.op === 'start' && x.text === 'lvs')
  t.equal(lvsStarts.length, 1, 'the takeover runs lvs start, so the monitor and the table come back')
  t.ok(c.owners('lvs').includes(T5), 'lvs is up on titanic5')
})

t.test("heartbeat -k, then the peer's admin runs hbctl takeover while titanic5's lvs stop runs after shutdone: the stop is not cut short, no table is left", async (t) => {
  // The peer's hb_takeover queues work on titanic5 that starts no group (a shutdown starts none).
  const c = pair({ agentDelayMs: (n, op, res) => (n === T5 && op === 'stop' && res === 'lvs' ? 1500 : 30) })
  const at = c.now
  c.signal(T5, 'TERM')
  c.runUntilTrue(() => c.owners().includes(T6), at + 5000, 1)
  c.runUntil(c.now + 100)
  c.event(T6, { type: 'control', request: 'takeover', arg: 'all' })
  c.runUntil(at + 30_000)
  t.same(c.node(T5).cancels, [], 'titanic5 cancelled nothing')
  t.same(c.node(T5).ends.map((e) => e.end.kind), ['exit'], 'titanic5 exited')
  t.notOk(c.owners('lvs').includes(T5), 'no IPVS table left behind on the exited titanic5')
  t.notMatch(c.logText(T5), /left unfinished/, 'the lvs stop ran to its end')
})

t.test('a table left behind by a failing lvs stop at exit survives a restart: taking the group back runs lvs start', async (t) => {
  let failUntil = Infinity
  const c = pair({ agentDelayMs: () => 30, agentFails: (n, op, res) => n === T5 && op === 'stop' && res === 'lvs' && c.now < failUntil })
  const at = c.now
  c.signal(T5, 'TERM')
  c.runUntil(at + 40_000)
  const n = c.node(T5)
  t.same(n.ends.map((e) => e.end.kind), ['exit'], 'titanic5 exited after the retries')
  t.ok(n.up.has('lvs'), "its IPVS table is still in the kernel (the kit's view)")
  failUntil = 0
  const kernel = new Set(n.up)
  const restartAt = c.now
  c.start(T5)
  n.up = kernel // the kernel's table outlives the daemon
  t.ok(c.runUntilTrue(() => c.owners().includes(T5), restartAt + 30_000, 10), 'auto_failback gives titanic5 its group back')
  c.runUntil(c.now + 2000)
  const calls = n.calls.filter((x) => x.at >= restartAt).map((x) => `${x.op} ${x.text}`)
  t.ok(calls.includes('start lvs'), `titanic5 runs lvs start although the table is there, so its monitor runs again (${calls.join(', ')})`)
  t.notOk(calls.includes('status lvs'), 'with no status call before it: the built-in start checks for itself')
})

t.test('a reload restart with the peer dead re-takes the kept group by status, as 3.0.6: a start that would fail (the address on another interface than configured) cannot give the VIP up', async (t) => {
  let failStart = false
  const c = new ClusterRm({ mode: 'on', agentFails: (n, op, res) => failStart && n === T6 && op === 'start' && res === VIP })
  c.start(T5)
  c.start(T6)
  c.runUntil(30_000)
  c.crash(T5)
  c.runUntil(c.now + 30_000)
  t.same(c.owners(), [T6], 'titanic6 holds the VIP, titanic5 is dead')
  failStart = true
  const at = c.now
  c.reloadOutcome.set(T6, { kind: 'restart', reason: 'ha.cf changed', haresourcesChanged: true })
  c.reload(T6)
  c.runUntil(c.now + 120_000)
  t.same(c.owners(), [T6], 'titanic6 still holds the VIP')
  const calls = c.node(T6).calls.filter((x) => x.at >= at).map((x) => `${x.op} ${x.text}`)
  t.notOk(calls.includes(`start ${VIP}`) && calls.includes(`stop ${VIP}`), `no start-then-give-up of the address (${calls.join(', ')})`)
  t.notMatch(c.logText(T6), /Giving up resources due to failure/, 'nothing given up')
})

t.test("two groups: hb_standby foreign, then hb_standby local while the first release's lvs stop runs: a release does not cut it short", async (t) => {
  const VIP2 = '10.99.0.150'
  const groups = [
    { node: T5, key: VIP, line: 2, resources: [{ agent: 'IPaddr', args: [VIP], text: VIP }, { agent: 'lvs', args: [], text: 'lvs' }] },
    { node: T6, key: VIP2, line: 3, resources: [{ agent: 'IPaddr', args: [VIP2], text: VIP2 }, { agent: 'lvs', args: ['b'], text: 'lvs2' }] },
  ]
  const c = new ClusterRm({ mode: 'off', groups, keepaliveMs: 200, deadtimeMs: 1000, agentDelayMs: (n, op, res) => (n === T5 && op === 'stop' && res.startsWith('lvs') ? 4000 : 30) })
  c.start(T5)
  c.runUntil(40_000)
  c.start(T6)
  c.runUntil(80_000)
  t.same([c.owners(VIP), c.owners(VIP2)], [[T5], [T5]], 'titanic5 started first and holds both groups (auto_failback off)')
  c.fifo(T5, messageOf([['t', 'ask_resources'], ['rsc_hold', 'foreign'], ['info', 'me']]))
  c.runUntil(c.now + 600)
  c.fifo(T5, messageOf([['t', 'ask_resources'], ['rsc_hold', 'local'], ['info', 'me']]))
  c.runUntil(c.now + 30_000)
  t.same(c.node(T5).cancels, [], 'titanic5 cancelled nothing')
  t.notMatch(c.logText(T5), /left unfinished/, 'every lvs stop ran to its end')
  t.same(c.owners('lvs2'), [T6], "lvs2's table is on titanic6 only")
})
