// The standby protocol's named phases (going_standby: not → me/other → done → not), one node at a
// time with the peer played by hand: what each message does, what is refused, and when a run gives up.
import t from 'tap'
import { LoneRm, T6, VIP } from './lone-rm.js'

const ask = (set: string, info: string): Array<[string, string]> => [
  ['t', 'ask_resources'],
  ['rsc_hold', set],
  ['info', info],
]

t.test('the asking side: hb_standby here, the peer answers other, then done', async (t) => {
  const n = new LoneRm('on')
  n.startStable()
  t.same(n.rm.snapshot().standby, 'not', 'stable, no standby running')
  t.ok(n.up.has(VIP), 'titanic5 runs its group')

  const mark = n.sent.length
  n.feed({ type: 'standby' }, 1000)
  t.same(n.sentSince(mark), ['ask_resources all info=me'], 'hb_standby sends ask_resources info=me')
  t.equal(n.rm.snapshot().standby, 'me', 'phase me: we asked')
  t.equal(n.rm.nextDeadline(), 1000 + 10_000, 'the peer has STANDBY_INIT_TO (10 s) to answer')
  t.equal(n.rm.rscStatus(), 'transition', 'rscstatus transition while it runs')

  const mark2 = n.sent.length
  n.peer(ask('all', 'other'), 2000)
  t.same(
    n.sentSince(mark2),
    ['resource none isstable=0 info=standby', 'ask_resources all info=done'],
    'on other: titanic5 says it holds nothing, releases, then sends done',
  )
  t.notOk(n.up.has(VIP), 'the group was released')
  t.equal(n.rm.snapshot().standby, 'done', 'phase done: our own done came back')
  t.equal(n.rm.nextDeadline(), 2000 + 3_600_000, 'the run may take HB_STANDBY_RSC_TO (1 h)')
  t.match(n.logs.join('\n'), /Local standby process completed \[all\]\./, 'heartbeat wording')

  const mark3 = n.sent.length
  n.peer(ask('all', 'done'), 3000)
  t.equal(n.rm.snapshot().standby, 'not', "the peer's done ends the run")
  t.equal(n.rm.nextDeadline(), undefined, 'no deadline left')
  t.same(n.sentSince(mark3), ['resource none isstable=1'], 'titanic5 reports its holdings, stable')
  t.match(n.logs.join('\n'), /Other node completed standby takeover of all resources\./, 'heartbeat wording')
})

t.test('the answering side: the peer asks, we answer other, acquire on its done', async (t) => {
  const n = new LoneRm('on')
  n.startStable()
  const mark = n.sent.length
  n.peer(ask('all', 'me'), 1000)
  t.same(n.sentSince(mark), ['ask_resources all info=other'], 'we answer other')
  t.equal(n.rm.snapshot().standby, 'other', 'phase other: the peer asked')
  t.equal(n.rm.nextDeadline(), 1000 + 3_600_000, 'HB_STANDBY_RSC_TO for the whole run')
  t.match(n.logs.join('\n'), new RegExp(`${T6.replace(/\./g, '\\.')} wants to go standby \\[all\\]`), 'heartbeat wording')

  const mark2 = n.sent.length
  n.peer(ask('all', 'done'), 2000)
  // we already run the only group: acquiring it is status checks only
  t.same(n.sentSince(mark2), ['ask_resources all info=done', 'resource all isstable=1'], 'we acquire, send done, and report all')
  t.equal(n.rm.snapshot().standby, 'not', 'our own done ends the run')
  t.equal(n.rm.snapshot().iHold, 'all', 'we hold all now')
  t.equal(n.rm.rscStatus(), 'transition', 'rscstatus transition until the peer reports itself stable')
  n.peer([['t', 'resource'], ['rsc_hold', 'none'], ['rtype', 'full'], ['isstable', '1']], 2100)
  t.equal(n.rm.rscStatus(), 'all', 'then rscstatus all')
})

t.test('no answer: the run is cancelled when its phase times out', async (t) => {
  const n = new LoneRm('on')
  n.startStable()
  n.feed({ type: 'standby' }, 1000)
  t.equal(n.rm.snapshot().standby, 'me', 'phase me')
  n.tickAt(10_999)
  t.equal(n.rm.snapshot().standby, 'me', 'still waiting 1 ms before the deadline')
  n.tickAt(11_000)
  t.equal(n.rm.snapshot().standby, 'not', 'cancelled at the deadline')
  t.match(n.logs.join('\n'), /No reply to standby request\.  Standby request cancelled\./, 'heartbeat wording')
  t.ok(n.rm.snapshot().otherIsStable, 'the peer counts as stable again')
  t.ok(n.up.has(VIP), 'the group never moved')
})

t.test('a second request while one runs is refused with the seconds left', async (t) => {
  const n = new LoneRm('on')
  n.startStable()
  n.feed({ type: 'standby' }, 1000)
  n.peer(ask('all', 'me'), 4000)
  t.match(n.logs.join('\n'), new RegExp(`Standby in progress- new request from ${T6.replace(/\./g, '\\.')} ignored \\[7 seconds left\\]`), 'refused, 7 s left')
  t.equal(n.rm.snapshot().standby, 'me', 'our run goes on')
})

t.test('a peer that dies cancels the run', async (t) => {
  const n = new LoneRm('on')
  n.startStable()
  n.feed({ type: 'standby' }, 1000)
  n.feed({ type: 'node-status', node: T6, status: 'dead' }, 2000)
  t.match(n.logs.join('\n'), /Cancelling pending standby operation/, 'heartbeat wording')
  t.equal(n.rm.snapshot().standby, 'not', 'phase not')
  t.equal(n.rm.nextDeadline(), undefined, 'no standby deadline left')
})

t.test('out-of-turn and refused messages', async (t) => {
  const n = new LoneRm('on')
  n.startStable()
  n.peer(ask('all', 'done'), 1000)
  t.match(n.logs.join('\n'), new RegExp(`Ignored standby message 'done' from ${T6.replace(/\./g, '\\.')} in state not`), 'done while not running is ignored, naming the phase')
  t.equal(n.rm.snapshot().standby, 'not', 'phase unchanged')

  n.peer([['t', 'resource'], ['rsc_hold', 'none'], ['rtype', 'full'], ['isstable', '0']], 2000)
  n.peer(ask('all', 'me'), 2500)
  t.match(n.logs.join('\n'), /standby message \[me\] from titanic6\.etri\.re\.kr ignored\.  Other side is in flux\./, 'refused while the peer is in flux')
  t.equal(n.rm.snapshot().standby, 'not', 'phase unchanged')

  const legacy = new LoneRm('legacy')
  legacy.startStable()
  legacy.feed({ type: 'standby' }, 1000)
  t.match(legacy.logs.join('\n'), /Standby mode only implemented when nice_failback on/, 'legacy mode refuses')
  t.equal(legacy.rm.snapshot().standby, 'not', 'legacy never leaves not')
})

t.test("a peer's shutdone takes over at once (phase done without a deadline)", async (t) => {
  const n = new LoneRm('on')
  n.startStable()
  n.holdAgents = true
  const mark = n.sent.length
  n.peer([['t', 'shutdone'], ['st', 'dead']], 1000)
  t.equal(n.rm.snapshot().standby, 'done', 'phase done while the acquisition child runs')
  t.equal(n.rm.nextDeadline(), undefined, 'with no deadline: nothing times it out')
  n.release()
  t.ok(n.sentSince(mark).includes('ask_resources all info=done'), 'the acquisition child ends with done')
  t.equal(n.rm.snapshot().standby, 'not', 'our own done ends the run')
  t.equal(n.rm.snapshot().iHold, 'all', 'we hold all')
})
