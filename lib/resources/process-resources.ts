// process_resources(): the nice_failback start-up handshake on `starting` and `resource` messages
// (init → starting → bothstarting/rscrcvd → stable), the RQSTDELAY fallback of polled_input_dispatch,
// and a node's `shutdone` (T_SHUTDONE, then the legacy "Received shutdown notice").
import { getString } from '../wire/message.js'
import type { HaMessage } from '../wire/message.js'
import type { ResourceState } from './rm-types.js'
import { RSC_ALL, RSC_FOREIGN, RSC_LOCAL, RSC_NONE, orBits, rscBits, updateBits } from './resource-sets.js'
import type { RscBits } from './resource-sets.js'
import { announceTakeover, auditResources, log, sendResourcesHeld, workDone } from './rsc-state.js'
import type { RscState } from './rsc-state.js'
import { shutdownInProgress } from './shutdown-state.js'
import { shutdownIfNeeded } from './shutdown.js'
import { goStandby, performAutoFailback, standbyDeadline } from './standby.js'
import { reqOurResources, takeoverFromNode } from './takeover.js'

/** process_resources() for `starting` and `resource`. */
export function processResources(s: RscState, t: string, msg: HaMessage, fromMe: boolean): void {
  shutdownIfNeeded(s)
  if (!s.nice) return
  let newState = s.resourceState
  if (s.weAreRestarting) {
    s.resourceState = newState = 'stable'
  }
  s.weAreRestarting = false

  if (t === 'starting' && !fromMe) {
    switch (s.resourceState) {
      case 'rscrcvd':
      case 'stable':
      case 'shutdown':
        break
      case 'starting':
        newState = 'bothstarting'
        workDone(s, 'foreign')
        announceTakeover(s, 'HB_R_BOTHSTARTING')
        break
      default:
        log(s, 'error', `Received 'starting' message in state ${s.resourceState}`)
        return
    }
    s.otherIsStable = false
    if (s.takeoverInProgress) log(s, 'warn', 'T_STARTING received during takeover.')
    sendResourcesHeld(s, s.resourceState === 'stable')
  }

  if (t === 'resource') {
    const word = getString(msg, 'rsc_hold')
    if (word === undefined) {
      log(s, 'error', 'resource message without rsc_hold field.')
      return
    }
    let n = rscBits(word)
    if (n === undefined) {
      log(s, 'error', `encode_resources: bad resource type [${word}]`)
      n = RSC_NONE
    }
    const full = getString(msg, 'rtype') === 'full'
    switch (s.resourceState) {
      case 'bothstarting':
      case 'starting':
        newState = 'rscrcvd'
        if (!s.auto) {
          workDone(s, 'foreign')
          announceTakeover(s, 'T_RESOURCES')
        }
        break
      case 'rscrcvd':
      case 'stable':
      case 'shutdown':
        break
      default:
        log(s, 'error', `resource message received in state ${s.resourceState}`)
        return
    }
    if (!fromMe) {
      s.otherHolds = updateBits(full, s.otherHolds, n)
      const stable = getString(msg, 'isstable')
      if (stable !== undefined) {
        if (stable === '1') {
          if (!s.otherIsStable) {
            log(s, 'info', 'remote resource transition completed.')
            s.otherIsStable = true
            sendResourcesHeld(s, s.resourceState === 'stable')
            performAutoFailback(s)
          }
        } else {
          s.otherIsStable = false
        }
      }
      if (s.resourceState !== 'stable' && s.resourceState !== 'shutdown' && s.otherIsStable) {
        log(s, 'info', 'remote resource transition completed.')
        reqOurResources(s, false)
        newState = 'stable'
        sendResourcesHeld(s, true)
        performAutoFailback(s)
        workDone(s, 'foreign')
        if (!s.auto && (s.otherHolds & RSC_FOREIGN) !== 0) workDone(s, 'local')
        announceTakeover(s, 'T_RESOURCES(them)')
      }
    } else {
      s.iHold = updateBits(full, s.iHold, n)
      if ((s.iHold & RSC_LOCAL) !== 0) {
        workDone(s, 'local')
        announceTakeover(s, 'T_RESOURCES(us)')
      }
      const info = getString(msg, 'info')
      if (info === 'mach_down') {
        log(s, 'info', 'mach_down takeover complete.')
        s.takeoverInProgress = false
        s.iHold = orBits(s.iHold, RSC_FOREIGN)
        s.failback.needed = true
        s.otherIsStable = true
        workDone(s, 'foreign')
        announceTakeover(s, 'mach_down')
      } else if (info === 'shutdown') {
        s.resourceState = newState = 'shutdown'
      }
    }
  }
  commitState(s, newState)
}

/** The end of process_resources(): the new state, RQSTDELAY armed on entering rscrcvd, audit. */
function commitState(s: RscState, newState: ResourceState): void {
  if (newState !== s.resourceState) log(s, 'debug', `STATE ${s.resourceState} => ${newState}`)
  s.resourceState = newState
  if (s.resourceState === 'rscrcvd' && s.localTakeoverAt === undefined) {
    s.localTakeoverAt = s.now + s.timers.rqstDelayMs
  }
  auditResources(s)
  shutdownIfNeeded(s)
}

/** When polled_input_dispatch takes our local groups anyway (rscrcvd for RQSTDELAY). */
export function localTakeoverDeadline(s: RscState): number | undefined {
  return s.nice && s.resourceState === 'rscrcvd' ? s.localTakeoverAt : undefined
}

/** polled_input_dispatch: "time to take over local resources" */
export function localTakeoverIfDue(s: RscState): void {
  const at = localTakeoverDeadline(s)
  if (at === undefined || s.now < at) return
  s.resourceState = 'stable'
  reqOurResources(s, false)
  log(s, 'info', 'local resource transition completed.')
  sendResourcesHeld(s, true)
  auditResources(s)
}

/** A node's `shutdone`: it holds nothing now (process_resources(T_SHUTDONE), then the legacy handler). */
export function onShutdone(s: RscState, msg: HaMessage, src: string): void {
  const fromMe = src === s.me
  if (!fromMe) s.peers.noteShutdone(src, msg)
  if (s.commUp && s.nice) {
    // process_resources(T_SHUTDONE)
    let newState = s.resourceState
    if (!fromMe) {
      s.otherIsStable = true
      s.otherHolds = RSC_NONE
      if (s.iHold !== RSC_ALL && !shutdownInProgress(s.shutdown)) {
        const rtype: RscBits = s.iHold === RSC_FOREIGN ? RSC_LOCAL : s.iHold === RSC_LOCAL ? RSC_FOREIGN : RSC_ALL
        // Take over resources immediately
        s.standby = { phase: 'done', untilMs: standbyDeadline(s.standby) }
        goStandby(s, 'other', rtype)
      }
    } else {
      s.resourceState = newState = 'shutdown'
      s.iHold = RSC_NONE
    }
    commitState(s, newState)
  }
  if (fromMe) {
    s.out.push({ type: 'shutdown-complete' })
    return
  }
  const node = s.peers.get(src)
  if (node === undefined) return
  node.hasResources = false
  s.otherIsStable = false
  s.otherHolds = RSC_NONE
  log(s, 'info', `Received shutdown notice from '${node.name}'.`)
  takeoverFromNode(s, node)
}

/**
 * A cluster of one (a single `node` line): nobody can answer our `starting`, and 3.0.6 then waits forever holding
 * nothing (seen with the Debian package). Stronger: stable at once, our groups taken as legacy mode takes them.
 */
export function takeAlone(s: RscState): void {
  log(s, 'warn', 'No other node in ha.cf: nobody can answer our starting message; taking our resources now (heartbeat 3.0.6 would wait, holding nothing).')
  s.otherIsStable = true
  s.otherHolds = RSC_NONE
  reqOurResources(s, true)
  // haresources may only name ha.cf's nodes, so every group is ours: there are no foreign ones to wait for.
  s.iHold = RSC_ALL
  workDone(s, 'foreign')
  commitState(s, 'stable')
  sendResourcesHeld(s, true)
}
