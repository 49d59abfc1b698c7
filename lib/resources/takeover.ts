// Taking resources: our own groups at start-up (req_our_resources), a dead or departed node's groups
// (hb_rsc_recover_dead_resources, takeover_from_node, mach_down), and the rc.d handlers that move
// single groups (ip-request, ip-request-resp, hb_takeover).
import { giveGroup, takeGroup } from './group-ops.js'
import { keepsAgainstPeersAsk } from './heal-asks.js'
import type { JobGen } from './group-ops.js'
import type { PeerInfo } from './peer-table.js'
import { ipRequestMsg, ipRequestRespMsg, machDownMsg, stonithMsg } from './rm-messages.js'
import { RSC_ALL, RSC_FOREIGN, RSC_LOCAL, RSC_NONE, orBits, rscWord } from './resource-sets.js'
import type { RscBits } from './resource-sets.js'
import { log, same, sendCluster, sendResourcesHeld } from './rsc-state.js'
import type { RscState } from './rsc-state.js'
import { shutdownInProgress } from './shutdown-state.js'
import { giveupResources, shutdownIfNeeded } from './shutdown.js'
import { cancelStandbyForDeadPeer, localStandby } from './standby.js'
import { resetNode } from './stonith.js'

/** hb_rsc_recover_dead_resources() */
export function recoverDeadResources(s: RscState, node: PeerInfo): void {
  cancelStandbyForDeadPeer(s)
  if (shutdownInProgress(s.shutdown)) {
    if (s.resourceState === 'shutdown' || s.resourceState === 'stable') return
    giveupResources(s)
    return
  }
  s.failback.needed = true
  let needStonith = true
  if (node.heard) {
    if (s.nice) {
      if (s.otherHolds === RSC_NONE) needStonith = false
    } else if (!node.hasResources) {
      needStonith = false
    }
  }
  if (needStonith) {
    if (s.stonith.device !== undefined) {
      // Reset it first; onStonithResult takes its groups once a reset succeeded.
      resetNode(s, node.name)
      return
    }
    // No STONITH device configured: say so the way 3.0.6 does, then take over anyway.
    sendCluster(s, stonithMsg(node.name, 'n_stnth'))
    log(s, 'warn', 'No STONITH device configured.')
    log(s, 'warn', 'Shared disks are not protected.')
    takeoverFromNode(s, node)
    return
  }
  log(s, 'info', `Dead node ${node.name} gave up resources.`)
  sendCluster(s, stonithMsg(node.name, 'unneeded'))
  if (s.nice) {
    if (s.iHold === RSC_ALL) {
      s.otherIsStable = true
      return
    }
    if ((s.iHold & RSC_LOCAL) === 0) reqOurResources(s, true)
    if ((s.iHold & RSC_FOREIGN) === 0) takeoverFromNode(s, node)
  } else {
    takeoverFromNode(s, node)
  }
}

/** takeover_from_node(): mach_down for the node's groups, then our own groups. */
export function takeoverFromNode(s: RscState, node: PeerInfo): void {
  if (shutdownInProgress(s.shutdown)) {
    log(s, 'info', 'Resource takeover cancelled - shutdown in progress.')
    shutdownIfNeeded(s)
    return
  }
  log(s, 'info', `Resources being acquired from ${node.name}.`)
  s.jobs.enqueue('status', 'notify', machDownJob(s, node.name), { startsGroups: true })
  if (s.nice) {
    s.iHold = orBits(s.iHold, RSC_FOREIGN)
    s.otherHolds = RSC_NONE
    s.otherIsStable = true
    s.takeoverInProgress = true
  }
  reqOurResources(s, true)
  node.heard = true
}

/** rc.d/status → mach_down: take the dead node's groups. */
function* machDownJob(s: RscState, nodeName: string): JobGen<void> {
  for (const g of s.groups) {
    if (!same(g.def.node, nodeName)) continue
    log(s, 'info', `Taking over resource group ${g.def.key}`)
    yield* takeGroup(s.ops, g, `takeover from dead ${nodeName}`)
  }
  if (s.nice) {
    log(s, 'info', 'mach_down: nice_failback: foreign resources acquired')
    sendCluster(s, machDownMsg())
  }
  log(s, 'info', `mach_down takeover complete for node ${nodeName}.`)
}

/** req_our_resources() + req_resource for each of our keys. */
export function reqOurResources(s: RscState, getThemAnyway: boolean): void {
  if (shutdownInProgress(s.shutdown)) return
  if (s.nice) {
    if (((s.otherHolds & RSC_FOREIGN) !== 0 || (s.iHold & RSC_LOCAL) !== 0) && !getThemAnyway) {
      if (s.standby.phase === 'not') {
        log(s, 'info', 'Local Resource acquisition completed. (none)')
        return
      }
    }
    s.iHold = orBits(s.iHold, RSC_LOCAL)
  }
  let upcount = s.peers.countByStatus('active')
  if (s.peers.get(s.me)?.status !== 'active') upcount++
  const dontAsk = upcount < 2 || s.nice
  s.jobs.enqueue('req_our_resources', 'child', reqOurResourcesJob(s, dontAsk), { startsGroups: true })
}

function* reqOurResourcesJob(s: RscState, dontAsk: boolean): JobGen<void> {
  const ours = s.groups.filter((g) => g.local)
  for (const g of ours) {
    // req_resource: "Do we already have this resource?" (status of the key resource only)
    const st = yield { kind: 'agent', group: g, index: 0, op: 'status' }
    if (st.running) continue
    if (dontAsk) sendCluster(s, ipRequestRespMsg(s.me, g.def.key, true))
    else sendCluster(s, ipRequestMsg(g.def.key))
  }
  if (ours.length === 0) log(s, 'info', `No local resources [ResourceManager listkeys ${s.me}] to acquire.`)
  else log(s, 'info', 'Local Resource acquisition completed.')
  sendResourcesHeld(s, true, 'req_our_resources()')
}

/** rc.d/hb_takeover: run hb_standby with the set as seen from here. */
export function* hbTakeoverJob(s: RscState, set: RscBits): JobGen<void> {
  localStandby(s, set, rscWord(set))
  yield* []
}

/** rc.d/ip-request: give the group up if we run it, then answer. */
export function* ipRequestJob(s: RscState, requester: string, key: string): JobGen<void> {
  if (keepsAgainstPeersAsk(s, key, requester)) return
  const g = s.groups.find((x) => x.def.key === key)
  let weown = false
  if (g !== undefined) {
    const st = yield { kind: 'agent', group: g, index: 0, op: 'status' }
    if (st.running) {
      weown = true
      yield* giveGroup(s.ops, g, `ip-request from ${requester}`)
      // 3.0.6's rc.d script leaves i_hold alone, and a nice_failback node then goes on claiming the
      // group (cl_status rscstatus, and our own split-brain watch, which would see a clash with
      // nobody). In nice_failback an ip-request comes only from a heartbeat-ts peer's ask after a heal.
      // Nothing is sent: the asker knows from our answer.
      if (s.nice && !g.held && !s.groups.some((x) => x.local === g.local && x.held)) s.iHold &= ~(g.local ? RSC_LOCAL : RSC_FOREIGN)
    }
  }
  sendCluster(s, ipRequestRespMsg(requester, key, weown))
}

/** rc.d/ip-request-resp: takegroup. */
export function* ipRequestRespJob(s: RscState, key: string): JobGen<void> {
  const g = s.groups.find((x) => x.def.key === key)
  if (g === undefined) {
    log(s, 'error', `ip-request-resp for ${key}, which is no haresources key`)
    return
  }
  yield* takeGroup(s.ops, g, 'ip-request-resp')
}
