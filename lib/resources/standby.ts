// The release-1 standby protocol (hb_resource.c ask_for_resources/go_standby, heartbeat-protocol §6.4):
// the asking node sends `ask_resources info=me`, the peer answers `other`, the asker releases and
// sends `done`, the peer acquires and sends `done`. Also auto failback (PerformAutoFailback), which
// is a standby of the foreign set, and the delayed hb_standby after a failed start.
import { answerAwaited } from './heal-asks.js'
import { getString } from '../wire/message.js'
import type { HaMessage } from '../wire/message.js'
import { releaseAddressesFirst, takeGroup } from './group-ops.js'
import type { JobGen } from './group-ops.js'
import { askResourcesMsg } from './rm-messages.js'
import { RSC_ALL, RSC_FOREIGN, RSC_LOCAL, RSC_NONE, clearBits, orBits, rscBits, rscWord } from './resource-sets.js'
import type { RscBits } from './resource-sets.js'
import { announceTakeover, log, sendCluster, sendResourcesHeld, workDone } from './rsc-state.js'
import type { RscState } from './rsc-state.js'
import { shutdownInProgress } from './shutdown-state.js'
import { shutdownIfNeeded } from './shutdown.js'

/**
 * going_standby, with the time the current phase gives up (standby_running). `me`: we asked and
 * wait for `other`, then release; `other`: the peer asked, we answered and wait for its `done`;
 * `done`: resources moved, the final `done` is awaited (after a peer's `shutdone` without a deadline).
 */
export type StandbyState =
  | { phase: 'not' }
  | { phase: 'me'; untilMs: number }
  | { phase: 'other'; untilMs: number }
  | { phase: 'done'; untilMs: number | undefined }

/** When the current standby phase gives up, if it can. */
export function standbyDeadline(st: StandbyState): number | undefined {
  return st.phase === 'not' ? undefined : st.untilMs
}

/** hb_standby: send `ask_resources info=me` (our own copy then drives the protocol). */
export function localStandby(s: RscState, set: RscBits, label: string): void {
  log(s, 'info', `Going standby [${label}].`)
  sendCluster(s, askResourcesMsg(rscWord(set), 'me'))
}

/** The standby phase ran out of time (standby_running expired). */
export function standbyTimedOut(s: RscState): void {
  const until = standbyDeadline(s.standby)
  if (until === undefined || s.now < until) return
  s.standby = { phase: 'not' }
  s.otherIsStable = true
  log(s, 'warn', 'No reply to standby request.  Standby request cancelled.')
  shutdownIfNeeded(s)
}

/** hb_rsc_recover_dead_resources(): a dead peer ends any standby run. */
export function cancelStandbyForDeadPeer(s: RscState): void {
  if (s.standby.phase === 'not') return
  log(s, 'info', 'Cancelling pending standby operation')
  s.standby = { phase: 'not' }
  if (!s.otherIsStable && s.iHold === RSC_ALL) s.otherIsStable = true
  shutdownIfNeeded(s)
}

/** ResourceManager's delayed `hb_standby` after a failed start, when due. */
export function runDueStandbys(s: RscState): void {
  const now = s.now
  const due = s.pendingStandby.filter((p) => now >= p.at)
  if (due.length === 0) return
  s.pendingStandby = s.pendingStandby.filter((p) => now < p.at)
  for (const p of due) localStandby(s, p.set, rscWord(p.set))
}

/** PerformAutoFailback() */
export function performAutoFailback(s: RscState): void {
  if (shutdownInProgress(s.shutdown) || (s.iHold & RSC_FOREIGN) === 0 || !s.failback.needed || !s.auto) {
    s.failback.needed = false
    shutdownIfNeeded(s)
    return
  }
  if (s.standby.phase !== 'not' || !s.otherIsStable || s.resourceState !== 'stable') {
    log(s, 'debug', 'Auto failback delayed.')
    s.failback.retryAtMs = s.now + s.timers.autoFailbackRetryMs
    return
  }
  log(s, 'debug', 'Auto failback triggered.')
  s.standbyRsc = RSC_FOREIGN
  sendCluster(s, askResourcesMsg('foreign', 'me'))
  s.failback.needed = false
}

/** The delayed PerformAutoFailback(), when due. */
export function retryAutoFailback(s: RscState): void {
  const at = s.failback.retryAtMs
  if (at === undefined || s.now < at) return
  s.failback.retryAtMs = undefined
  performAutoFailback(s)
}

/** ask_for_resources(): one `ask_resources` message, ours (looped back) or the peer's. */
export function askForResources(s: RscState, msg: HaMessage, from: string): void {
  if (!s.nice) {
    log(s, 'info', 'Standby mode only implemented when nice_failback on')
    return
  }
  if (s.resourceState === 'shutdown') {
    log(s, 'debug', 'standby message ignored during shutdown')
    return
  }
  const info = getString(msg, 'info')
  const word = getString(msg, 'rsc_hold')
  let rtype: RscBits = RSC_ALL
  if (word !== undefined) {
    const b = rscBits(word)
    if (b === undefined) log(s, 'error', `encode_resources: bad resource type [${word}]`)
    rtype = b ?? RSC_NONE
  }
  if (info === undefined) {
    log(s, 'error', 'Received standby message without info/from')
    return
  }
  const fromMe = from === s.me
  const says = info.toLowerCase()
  const orig = s.standby.phase
  const until = standbyDeadline(s.standby)
  if (until !== undefined && s.now < until && says === 'me') {
    const secsLeft = Math.ceil((until - s.now) / 1000)
    log(s, 'warn', `Standby in progress- new request from ${from} ignored [${secsLeft} seconds left]`)
    return
  }
  const rscDeadline = s.now + s.timers.standbyRscMs
  let ignored = false
  switch (s.standby.phase) {
    case 'not':
      if (!s.otherIsStable) {
        log(s, 'warn', `standby message [${info}] from ${from} ignored.  Other side is in flux.`)
        return
      }
      if (s.resourceState !== 'stable') {
        log(s, 'warn', `standby message [${info}] from ${from} ignored.  local resources in flux.`)
        return
      }
      if (answerAwaited(s)) {
        log(s, 'warn', `standby message [${info}] from ${from} ignored.  The peer has yet to answer our ask after the heal (ip-request).`)
        return
      }
      s.standbyRsc = rtype
      if (says === 'me') {
        s.otherIsStable = false
        log(s, 'info', `${from} wants to go standby [${rscWord(rtype)}]`)
        if (fromMe) {
          s.standby = { phase: 'me', untilMs: s.now + s.timers.standbyReplyMs }
        } else {
          s.standby = { phase: 'other', untilMs: rscDeadline }
          sendCluster(s, askResourcesMsg(rscWord(s.standbyRsc), 'other'))
        }
      } else {
        ignored = true
      }
      break
    case 'me':
      if (!fromMe) {
        s.standbyRsc = rtype
        s.standby = { phase: 'me', untilMs: rscDeadline }
        if (says === 'other') {
          log(s, 'info', `standby: ${from} can take our ${rscWord(rtype)} resources`)
          goStandby(s, 'me', rtype)
        } else {
          ignored = true
        }
      } else if (says === 'done') {
        log(s, 'info', `Local standby process completed [${rscWord(rtype)}].`)
        s.standby = { phase: 'done', untilMs: rscDeadline }
        s.iHold = clearBits(s.iHold, s.standbyRsc)
      } else {
        ignored = true
      }
      break
    case 'other':
      s.standbyRsc = rtype
      if (says === 'done') {
        s.standby = { phase: 'other', untilMs: rscDeadline }
        if (!fromMe) {
          log(s, 'info', `standby: acquire [${rscWord(rtype)}] resources from ${from}`)
          goStandby(s, 'other', s.standbyRsc)
          s.standby = { phase: 'done', untilMs: rscDeadline }
        } else {
          ignored = true
        }
      } else if (!fromMe || says !== 'other') {
        ignored = true
      }
      break
    case 'done':
      s.standbyRsc = rtype
      // the final `done` (matched case-sensitively, as 3.0.6 does here)
      if (info === 'done') {
        s.standby = { phase: 'not' }
        if (fromMe) {
          log(s, 'info', `Standby resource acquisition done [${rscWord(rtype)}].`)
          if (s.auto) {
            workDone(s, 'local')
            announceTakeover(s, 'auto_failback')
          }
          const rup: RscBits = rtype === RSC_LOCAL ? RSC_FOREIGN : rtype === RSC_FOREIGN ? RSC_LOCAL : rtype === RSC_ALL ? RSC_ALL : RSC_NONE
          s.iHold = orBits(s.iHold, rup)
        } else {
          log(s, 'info', `Other node completed standby takeover of ${rscWord(rtype)} resources.`)
        }
        sendResourcesHeld(s, true)
      } else {
        ignored = true
      }
      break
  }
  if (ignored) log(s, 'error', `Ignored standby message '${info}' from ${from} in state ${orig}`)
  shutdownIfNeeded(s)
}

/** go_standby(): give up (who = me) or acquire (who = other) a resource set in a child. */
export function goStandby(s: RscState, who: 'me' | 'other', set: RscBits): void {
  if (who === 'me') {
    s.otherIsStable = false
    s.iHold = clearBits(s.iHold, set)
    sendResourcesHeld(s, false, 'standby')
  }
  let act: RscBits
  switch (set) {
    case RSC_FOREIGN:
      act = who === 'me' ? RSC_FOREIGN : RSC_LOCAL
      break
    case RSC_LOCAL:
      act = who === 'me' ? RSC_LOCAL : RSC_FOREIGN
      break
    case RSC_ALL:
      act = RSC_ALL
      break
    default:
      log(s, 'error', `no resources to ${who === 'me' ? 'give up' : 'acquire'}`)
      return
  }
  s.jobs.enqueue('go_standby', 'child', goStandbyJob(s, who, act, s.standbyRsc), { startsGroups: who === 'other' })
}

/** go_standby()'s child: release or acquire the groups, then `ask_resources info=done`. */
function* goStandbyJob(s: RscState, who: 'me' | 'other', act: RscBits, rscAtFork: RscBits): JobGen<void> {
  const giving = who === 'me'
  log(s, 'info', `${giving ? 'give up' : 'acquire'} ${rscWord(act)} HA resources (standby).`)
  const keys = s.groups.filter((g) => act === RSC_ALL || (act === RSC_LOCAL ? g.local : !g.local))
  const done = (): void => sendCluster(s, askResourcesMsg(rscWord(rscAtFork), 'done'))
  if (giving) {
    // `done` goes out once our addresses are down; an address-first group's lvs stop follows it.
    yield* releaseAddressesFirst(s.ops, keys, 'standby', done)
    log(s, 'info', `${rscWord(act)} HA resource release completed (standby).`)
    return
  }
  for (const g of keys) yield* takeGroup(s.ops, g, 'standby takeover')
  log(s, 'info', `${rscWord(act)} HA resource acquisition completed (standby).`)
  done()
}
