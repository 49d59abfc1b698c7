// Shutdown's named sub-state (none → delayed → underway) as hb_giveup_resources() moves it, and what
// an admin sees on one node for each path: at once, delayed by running work, asked twice, before comm-up.
import t from 'tap'
import { giveupStep, shutdownInProgress, shutdownNeedsRetry, shutdownWithoutResources } from '../../lib/resources/shutdown-state.js'
import type { ShutdownState } from '../../lib/resources/shutdown-state.js'
import { LoneRm, VIP } from './lone-rm.js'

t.test('hb_giveup_resources() as a transition table', async (t) => {
  const none: ShutdownState = { phase: 'none' }
  const delayed: ShutdownState = { phase: 'delayed' }
  const underway: ShutdownState = { phase: 'underway', repeatDelayed: false }
  const again: ShutdownState = { phase: 'underway', repeatDelayed: true }
  t.same(giveupStep(none, true), { next: underway, effect: 'release' }, 'asked while stable: release at once')
  t.same(giveupStep(none, false), { next: delayed, effect: 'announce-delay' }, 'asked while in flux: delayed, said once')
  t.same(giveupStep(delayed, false), { next: delayed, effect: 'wait' }, 'still in flux: nothing more said')
  t.same(giveupStep(delayed, true), { next: underway, effect: 'release' }, 'settled: release')
  t.same(giveupStep(underway, true), { next: underway, effect: 'already-underway' }, 'asked again while stable: already underway')
  t.same(giveupStep(underway, false), { next: again, effect: 'announce-delay' }, 'asked again in flux: delayed, said once')
  t.same(giveupStep(again, false), { next: again, effect: 'wait' }, 'and not said twice')
  t.same(giveupStep(again, true), { next: underway, effect: 'already-underway' }, 'settled: already underway')

  t.same(shutdownWithoutResources(none), underway, 'before comm-up: underway at once')
  t.same(shutdownWithoutResources(again), again, 'a pending retry is kept')

  t.same([none, delayed, underway, again].map(shutdownInProgress), [false, false, true, true], 'shutdown_in_progress')
  t.same([none, delayed, underway, again].map(shutdownNeedsRetry), [false, true, false, true], 'rsc_needs_shutdown')
})

t.test('stable node: announce, release right to left, shutdone, complete', async (t) => {
  const n = new LoneRm('on')
  n.startStable()
  const mark = n.sent.length
  n.feed({ type: 'shutdown' }, 1000)
  t.same(n.sentSince(mark), ['resource none isstable=0 info=shutdown', 'shutdone st=dead'], 'announced, then shutdone')
  t.notOk(n.up.has(VIP), 'the group is released')
  t.ok(n.shutdownComplete, 'the daemon is told to finish')
  t.equal(n.rm.snapshot().resourceState, 'shutdown', 'resource state shutdown')
  t.notMatch(n.logs.join('\n'), /Shutdown delayed/, 'not delayed')
})

t.test('busy node: delayed once, released when the work ends; a second request only says underway', async (t) => {
  const n = new LoneRm('on')
  n.holdAgents = true
  n.startStable() // titanic5's status check of its group waits
  t.ok(n.pendingAgents > 0, 'a resource operation is running')
  n.feed({ type: 'shutdown' }, 1000)
  n.feed({ type: 'shutdown' }, 1500)
  const delayed = n.logs.filter((l) => l.includes('Shutdown delayed until current resource activity finishes.'))
  t.equal(delayed.length, 1, 'delayed, said once for two requests')
  t.notOk(n.shutdownComplete, 'not finished while the work runs')
  t.notOk(n.sent.includes('shutdone st=dead'), 'no shutdone yet')

  n.release()
  t.ok(n.sent.includes('shutdone st=dead'), 'shutdone once the work ended')
  t.ok(n.shutdownComplete, 'finished')
  t.notOk(n.up.has(VIP), 'nothing left up')

  n.feed({ type: 'shutdown' }, 3000)
  t.match(n.logs.at(-1) ?? '', /Heartbeat shutdown already underway\./, 'a later request only says so')
})

t.test('shutdown before comm-up completes at once', async (t) => {
  const n = new LoneRm('on')
  n.feed({ type: 'shutdown' }, 100)
  t.ok(n.shutdownComplete, 'complete at once: nothing can be held')
  t.same(n.sent, [], 'nothing sent')
  t.match(n.logs.join('\n'), /Heartbeat shutdown in progress\. \(1\)/, 'heartbeat wording with the pid')
  t.equal(n.rm.rscStatus(), 'none', 'rscstatus none (stable, nothing held)')
})

t.test('a dead peer during shutdown: no takeover', async (t) => {
  const n = new LoneRm('on')
  n.startStable()
  n.holdAgents = true
  n.feed({ type: 'shutdown' }, 1000)
  n.feed({ type: 'node-status', node: 'titanic6.etri.re.kr', status: 'dead' }, 1500)
  t.notMatch(n.logs.join('\n'), /Resources being acquired/, 'nothing is taken over while shutting down')
  n.release()
  t.ok(n.shutdownComplete, 'the shutdown still completes')
})

t.test('a shutdown while a group is being taken cuts the take short: what is not started yet never starts', async (t) => {
  // A healed partition makes the node that took its peer's group give everything up while that take may still
  // run; every resource it would still start only lengthens the time both nodes hold the address.
  const n = new LoneRm('on')
  n.holdAgents = true
  n.startStable()
  for (let i = 0; i < 20 && !n.up.has(VIP); i++) if (n.answerOne() === undefined) break
  t.ok(n.up.has(VIP), 'set-up: the address is up, the rest of the group not yet')
  n.feed({ type: 'shutdown' }, 1000)
  n.release()
  const afterAddress = n.calls.slice(n.calls.indexOf(`start ${VIP}`) + 1)
  t.same(afterAddress.filter((c) => c.startsWith('start ')), [], `nothing more is started (calls after the address: ${afterAddress.join(', ')})`)
  // lvs's status was asked before the shutdown came; its start is what is saved.
  t.same(afterAddress, ['status lvs', 'stop lvs', `stop ${VIP}`], 'the whole group is released right to left, the part never started included')
  t.ok(n.sent.includes('shutdone st=dead'), 'shutdone once released')
  t.match(n.logs.join('\n'), /cut short/, 'the log says the take was cut short and why')
})
