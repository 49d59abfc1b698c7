// Graceful shutdown (hb_giveup_resources): wait until resources are stable, announce, release every
// group right to left, then send `shutdone`. The sub-state is shutdown-state.ts.
import { giveGroup, releaseAddressesFirst } from './group-ops.js'
import type { JobGen } from './group-ops.js'
import { shutdoneMsg } from './rm-messages.js'
import { RSC_NONE } from './resource-sets.js'
import { isQuietForYield, isStable, log, sendCluster, sendResourcesHeld } from './rsc-state.js'
import type { RscState } from './rsc-state.js'
import { giveupStep, shutdownNeedsRetry, shutdownWithoutResources } from './shutdown-state.js'

/** SIGTERM / `heartbeat -k`. */
export function onShutdownRequest(s: RscState, yielding: boolean): void {
  s.yielding ||= yielding
  if (!s.commUp && s.groups.some((g) => g.held || g.state !== 'stopped')) {
    // A life after an in-process restart (a reload) runs the groups it kept from its first moment:
    // exiting here would leave their addresses up while the peer takes them over. Release them now;
    // there is no arbitration to wait for yet (the jobs run before comm-up during a shutdown).
    s.shutdown = giveupStep(s.shutdown, true).next
    release(s)
    return
  }
  if (!s.commUp) {
    // Nothing else can be held before comm-up: no agent ran and no peer was told anything.
    s.shutdown = shutdownWithoutResources(s.shutdown)
    log(s, 'info', `Heartbeat shutdown in progress. (${s.pid ?? 0})`)
    s.out.push({ type: 'shutdown-complete' })
    return
  }
  giveupResources(s)
}

/** if (rsc_needs_shutdown) hb_giveup_resources(): called wherever resources may have settled. */
export function shutdownIfNeeded(s: RscState): void {
  if (shutdownNeedsRetry(s.shutdown)) giveupResources(s)
}

/** hb_giveup_resources(): wait until stable, then release every group and send shutdone. */
export function giveupResources(s: RscState): void {
  const { next, effect } = giveupStep(s.shutdown, s.yielding ? isQuietForYield(s) : isStable(s))
  s.shutdown = next
  switch (effect) {
    case 'wait':
      return
    case 'announce-delay':
      log(s, 'warn', 'Shutdown delayed until current resource activity finishes.')
      return
    case 'already-underway':
      log(s, 'info', 'Heartbeat shutdown already underway.')
      return
    case 'release':
      release(s)
      return
  }
}

function release(s: RscState): void {
  s.iHold = RSC_NONE
  s.resourceState = 'shutdown'
  sendResourcesHeld(s, false, 'shutdown')
  log(s, 'info', `Heartbeat shutdown in progress. (${s.pid ?? 0})`)
  s.jobs.enqueue('hb_giveup_resources', 'child', giveupJob(s))
}

function* giveupJob(s: RscState): JobGen<void> {
  log(s, 'info', 'Giving up all HA resources.')
  if (!s.commUp) {
    // Before comm-up membership hands nothing back, our own shutdone included: the life ends on
    // shutdown-complete, so everything is stopped first.
    for (const g of s.groups) yield* giveGroup(s.ops, g, 'shutdown')
    log(s, 'info', 'All HA resources relinquished.')
    sendCluster(s, shutdoneMsg())
    s.out.push({ type: 'shutdown-complete' })
    return
  }
  // `shutdone` goes out once our addresses are down; an address-first group's lvs stop follows it,
  // and the life waits for it (releaseTailRunning) before it ends.
  s.releaseTail = true
  yield* releaseAddressesFirst(s.ops, s.groups, 'shutdown', () => sendCluster(s, shutdoneMsg()))
  s.releaseTail = false
  log(s, 'info', 'All HA resources relinquished.')
}
