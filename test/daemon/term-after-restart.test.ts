// A TERM in the first moments of a life that an in-process restart (a reload that changed ha.cf)
// began holding its groups: before comm-up, the membership hands nothing back, our own `shutdone`
// included, and the groups are already running. Each story: the address is released, the node
// exits, and the address is never on both directors.
import t from 'tap'
import { ClusterRm, T5, T6, VIP } from '../resources/cluster-rm-kit.js'
import type { ClusterRmOptions } from '../resources/cluster-rm-kit.js'
import type { ResourceGroup } from '../../lib/config/haresources.js'

const VIP6 = '10.99.0.150'
const twoGroups: ResourceGroup[] = [
  { node: T5, key: VIP, line: 1, resources: [{ agent: 'IPaddr', args: [VIP], text: VIP }, { agent: 'lvs', args: [], text: 'lvs' }] },
  { node: T6, key: VIP6, line: 2, resources: [{ agent: 'IPaddr', args: [VIP6], text: VIP6 }] },
]

function pair(opts: Partial<ClusterRmOptions>): ClusterRm {
  const c = new ClusterRm({ mode: 'on', ...opts })
  c.start(T5)
  c.start(T6)
  c.runUntil(20_000)
  return c
}

const ends = (c: ClusterRm, n: string): string[] => c.node(n).ends.map((e) => (e.end.kind === 'exit' ? `exit ${e.end.code}` : `restart (${e.end.reason}) holding ${e.end.held ?? 'nothing'}`))

/** titanic5 reloads a changed ha.cf: an in-process restart keeping what it runs. */
function reloadRestart(c: ClusterRm): void {
  c.reloadOutcome.set(T5, { kind: 'restart', reason: 'ha.cf changed', haresourcesChanged: false })
  c.reload(T5)
  c.runUntilTrue(() => c.node(T5).ends.length === 1, c.now + 10_000, 1)
}

/** Run until `untilMs`, returning the moments any of `keys` had two holders. */
function doubles(c: ClusterRm, untilMs: number, keys: readonly string[] = [VIP]): number[] {
  const at: number[] = []
  while (c.now < untilMs) {
    c.runUntil(c.now + 10)
    if (keys.some((k) => c.owners(k).length > 1)) at.push(c.now)
  }
  return at
}

t.test('the peer is down (all of initdead before comm-up): the kept VIP is stopped and the node exits', async (t) => {
  const c = pair({})
  c.crash(T6)
  c.runUntil(c.now + 20_000)
  reloadRestart(c)
  t.equal(c.node(T5).commUps.length, 1, 'the new life has not reached comm-up')
  c.signal(T5, 'TERM')
  c.runUntil(c.now + 300_000)
  t.same(c.owners(), [], 'the VIP is down')
  t.same(ends(c, T5).slice(1), ['exit 0'], 'titanic5 exits')
})

for (const mode of ['on', 'off'] as const) {
  t.test(`auto_failback ${mode}: the peer's packets lost for 1 s after the TERM: titanic5 still exits, and the peer alone holds the VIP`, async (t) => {
    const c = pair({ mode })
    reloadRestart(c)
    c.mute(T6, true)
    c.signal(T5, 'TERM')
    c.runUntil(c.now + 1000)
    c.mute(T6, false)
    const both = doubles(c, c.now + 60_000)
    t.same(ends(c, T5).slice(1), ['exit 0'], 'titanic5 exits')
    // A shutting-down node must not answer the peer's auto_failback by taking the VIP back.
    t.same(c.owners(), [T6], 'titanic6 alone holds the VIP')
    t.same(both, [], 'never both')
  })
}

t.test('auto_failback legacy: the restart keeps what runs (legacy has no i_hold), so a TERM before comm-up still stops it', async (t) => {
  const c = pair({ mode: 'legacy' })
  reloadRestart(c)
  t.same(ends(c, T5), ['restart (ha.cf changed) holding local'], 'the restart holds the running group')
  t.equal(c.node(T5).commUps.length, 1, 'the new life has not reached comm-up')
  const callsBefore = c.node(T5).calls.length
  c.signal(T5, 'TERM')
  const both = doubles(c, c.now + 30_000)
  t.same(ends(c, T5).slice(1), ['exit 0'], 'titanic5 exits')
  t.ok(c.node(T5).calls.slice(callsBefore).some((x) => x.op === 'stop'), 'after stopping its group')
  t.same(both, [], 'never both')
})

t.test("titanic5 held both groups (titanic6 is down): a TERM before comm-up stops both, then exits", async (t) => {
  const c = pair({ mode: 'off', groups: twoGroups })
  c.crash(T6)
  c.runUntil(c.now + 20_000)
  t.same([c.owners(VIP), c.owners(VIP6)], [[T5], [T5]])
  reloadRestart(c)
  t.same(ends(c, T5), ['restart (ha.cf changed) holding all'])
  c.signal(T5, 'TERM')
  c.runUntil(c.now + 120_000)
  t.same([c.owners(VIP), c.owners(VIP6)], [[], []], 'both addresses are down')
  t.same(ends(c, T5).slice(1), ['exit 0'], 'titanic5 exits')
})

for (const mode of ['on', 'off'] as const) {
  t.test(`auto_failback ${mode}: the peer's hb_standby while titanic5 finishes its stop: titanic5 starts nothing and the peer keeps the VIP`, async (t) => {
    const c = pair({ mode })
    reloadRestart(c)
    c.signal(T5, 'TERM')
    const t0 = c.now
    // Comm-up comes during the release; the peer's first resource message used to turn our
    // 'shutdown' state back into 'stable', and a standby request was then obeyed.
    c.runUntilTrue(() => c.snapshot(T5).phase === 'final' && c.rm(T5).resourceState === 'stable', t0 + 5_000, 1)
    t.equal(c.rm(T5).resourceState, 'shutdown', 'titanic5 still says shutdown after its shutdone')
    const callsBefore = c.node(T5).calls.length
    c.event(T6, { type: 'control', request: 'standby' })
    const both = doubles(c, t0 + 60_000)
    t.same(c.node(T5).calls.slice(callsBefore).filter((x) => x.op === 'start').map((x) => x.text), [], 'titanic5 starts nothing after its shutdone')
    t.same(ends(c, T5).slice(1), ['exit 0'], 'titanic5 exits')
    t.same(c.owners(), [T6], 'titanic6 alone holds the VIP')
    t.same(both, [], 'never both')
  })
}

t.test('auto_failback legacy: a restart while a given-up group waits for its stop retry keeps that group, and a TERM then stops it', async (t) => {
  let lvsStops = 0
  const c = pair({ mode: 'legacy', agentFails: (n, op, r) => n === T6 && op === 'stop' && r === 'lvs' && ++lvsStops === 1 })
  c.crash(T5)
  c.runUntil(c.now + 20_000)
  t.same(c.owners(), [T6], 'titanic6 took the VIP over')
  c.start(T5)
  // titanic5's start makes titanic6 give the group up; its lvs stop fails once (retried in 1 s),
  // so the address is still up, the group 'stopping', when the reload restarts titanic6.
  c.runUntilTrue(() => lvsStops === 1, c.now + 20_000, 1)
  t.equal(c.rm(T6).groups[0]?.state, 'stopping')
  c.reloadOutcome.set(T6, { kind: 'restart', reason: 'ha.cf changed', haresourcesChanged: false })
  c.reload(T6)
  c.runUntilTrue(() => c.node(T6).ends.length === 1, c.now + 10_000, 1)
  t.same(ends(c, T6), ['restart (ha.cf changed) holding foreign'], 'the restart keeps the group it was still stopping')
  c.signal(T6, 'TERM')
  const both = doubles(c, c.now + 60_000)
  t.same(ends(c, T6).slice(1), ['exit 0'], 'titanic6 exits')
  t.same(c.owners(), [T5], 'titanic5 alone holds the VIP')
  t.same(both, [], 'never both')
})
