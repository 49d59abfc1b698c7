// The split-brain watch alone: who yields, the grace, and never a deadline already past (a hot loop in the shell).
import t from 'tap'
import { SplitBrainWatch, SPLIT_BRAIN_GRACE_MS, yieldsContested } from '../../lib/daemon/split-brain.js'
import type { RmSnapshot } from '../../lib/resources/rm-types.js'

function snap(iHold: RmSnapshot['iHold'], otherHolds: RmSnapshot['otherHolds'], busy = false): RmSnapshot {
  return { mode: 'on', rscstatus: iHold, resourceState: 'stable', standby: 'not', iHold, otherHolds, otherIsStable: true, busy, groups: [] }
}

t.test('the shared rule: the node running the peer\'s groups yields; with both, the first ha.cf node keeps', async (t) => {
  t.equal(yieldsContested(true, false, true), true)
  t.equal(yieldsContested(false, true, false), false)
  t.equal(yieldsContested(true, true, true), false)
  t.equal(yieldsContested(true, true, false), true)
})

t.test('we run the peer\'s group and it says it runs it: yield after the grace, not before', async (t) => {
  const w = new SplitBrainWatch()
  t.equal(w.check(snap('foreign', 'local'), 1000, false).kind, 'none')
  t.equal(w.nextDeadline(), 1000 + SPLIT_BRAIN_GRACE_MS)
  t.equal(w.check(snap('foreign', 'local'), 1000 + SPLIT_BRAIN_GRACE_MS, false).kind, 'yield')
})

t.test('the peer also runs our group: keep, said once, and re-announce once when it lets go', async (t) => {
  const w = new SplitBrainWatch()
  w.check(snap('local', 'foreign'), 0, true)
  t.equal(w.check(snap('local', 'foreign'), SPLIT_BRAIN_GRACE_MS, true).kind, 'keep')
  t.equal(w.check(snap('local', 'foreign'), SPLIT_BRAIN_GRACE_MS + 10, true).kind, 'none', 'said once')
  t.equal(w.peerLetGo(2000), true)
  t.equal(w.peerLetGo(2100), false, 'once per arming')
})

t.test('a clash held back by our own running job never leaves a deadline in the past', async (t) => {
  const w = new SplitBrainWatch()
  w.check(snap('foreign', 'local', true), 0, false)
  t.equal(w.check(snap('foreign', 'local', true), SPLIT_BRAIN_GRACE_MS, false).kind, 'none', 'busy: wait')
  const next = w.nextDeadline()
  t.ok(next === undefined || next > SPLIT_BRAIN_GRACE_MS, `no deadline at or before the last look (${String(next)})`)
  t.equal(w.check(snap('foreign', 'local', false), SPLIT_BRAIN_GRACE_MS + 300, false).kind, 'yield', 'acts when the job has ended')
})

t.test('a heal seen while our takeover of the peer\'s group is still queued: we yield (what we claim counts, not only what runs)', async (t) => {
  // The soak: titanic6 declared titanic5 dead and queued the takeover; the heal came before its first agent ran,
  // it decided to keep (nothing of the peer's was running yet), then started the group: both held it for 4 s.
  const { PartitionKeeper } = await import('../../lib/daemon/partition-keeper.js')
  const claimed: RmSnapshot = { ...snap('foreign', 'all', true), groups: [{ key: '10.0.0.1', node: 'titanic5', state: 'stopped' } as RmSnapshot['groups'][number]] }
  const said: string[] = []
  const keeper = new PartitionKeeper({
    runningResources: () => claimed,
    firstNode: () => false,
    setCause: () => undefined,
    log: (_l, text) => said.push(text),
    yieldAndRestart: (reason) => said.push(`yield ${reason}`),
    reannounce: () => said.push('reannounce'),
    tellPeerWeKeep: () => said.push('tell the peer we keep'),
  }, 'titanic6')
  keeper.healed(1000)
  t.ok(said.includes('yield healed-partition'), `yields (${said.join(' | ')})`)
  t.notOk(said.includes('reannounce'), 'and does not claim the address as the keeper')
  t.notOk(said.includes('tell the peer we keep'), 'nor tells the peer it holds the group')
})

t.test('the keeper of a healed partition re-announces its addresses and tells the peer what it holds', async (t) => {
  // A peer that restarted apart from us sees no heal: our rsc_hold is how its watch learns of the clash.
  const { PartitionKeeper } = await import('../../lib/daemon/partition-keeper.js')
  const ours: RmSnapshot = { ...snap('local', 'foreign', false), groups: [{ key: '10.0.0.1', node: 'titanic5', state: 'running' } as RmSnapshot['groups'][number]] }
  const said: string[] = []
  const keeper = new PartitionKeeper({
    runningResources: () => ours,
    firstNode: () => true,
    setCause: () => undefined,
    log: () => undefined,
    yieldAndRestart: (reason) => said.push(`yield ${reason}`),
    reannounce: () => said.push('reannounce'),
    tellPeerWeKeep: () => said.push('tell the peer we keep'),
  }, 'titanic5')
  keeper.healed(1000)
  t.same(said, ['reannounce', 'tell the peer we keep'])
})
