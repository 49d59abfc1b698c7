// After a healed partition we keep: ask the peer to give up, with 3.0.6's own `ip-request`, each group
// we run. A peer that never saw the partition (a one-way loss: it heard us all along) still runs what
// it ran when we declared it dead, and so does one that restarted apart from us; a real 3.0.6 node has
// no rule that makes it yield (it only logs "Both machines own our resources!"), but its
// rc.d/ip-request gives a group up when asked and answers `ip-request-resp`; ours does the same
// (takeover.ts). A peer that does not run the group answers `weown=no`.
//
// - A group still starting at the heal is asked for once it runs: asked earlier, a start that then
//   failed would leave it on neither node.
// - The answer is news, never a cue to take the group: we asked for a group we run, and by the time
//   the answer comes we may have handed it over on purpose.
// - Two keepers of one heal (each ran the peer's group too) can ask each other for the same group:
//   the node haresources gives it to keeps it, the other gives it up (a rule both apply alone).
// - While an answer is awaited a standby is refused: the peer could take a group by it and then run
//   our ask, queued behind, and give it up again, leaving it on neither node.
// - Two-node clusters only: with more, several nodes would answer one ask.
import { getString } from '../wire/message.js'
import type { HaMessage } from '../wire/message.js'
import type { GroupState } from './group-ops.js'
import { ipRequestMsg } from './rm-messages.js'
import { log, sendCluster } from './rsc-state.js'
import type { RscState } from './rsc-state.js'

/**
 * How long an unanswered ask holds standby back. A 3.0.6 peer runs rc.d/ip-request after its running
 * resource operation and then its status and stops, each a script that can be slow; the answer comes
 * in order (lost packets are sent again), so this bound is only for a peer whose scripts hang, which
 * must not refuse standby for good.
 */
export const HEAL_ASK_HOLD_MS = 120_000

/** One ask of ours: when it went, and whether it still holds a standby back. */
export interface HealAsk {
  askedAtMs: number
  /** False once the peer's own ask for the group settled it (we gave it up: the owner keeps). */
  holdsStandby: boolean
}

/** What each heal ask of ours is waiting for (both bounded by the number of groups). */
export interface HealAsks {
  /** Asked: key → the ask. Its answer is known for what it is until it comes or the peer dies or restarts. */
  answerAwaited: Map<string, HealAsk>
  /** Still starting at the heal: asked for once running, dropped if the start ends otherwise. */
  askWhenRunning: Set<string>
}

export function noHealAsks(): HealAsks {
  return { answerAwaited: new Map(), askWhenRunning: new Set() }
}

/** We keep after a heal: ask the peer for each group we run (or, once it runs, start). */
export function askPeerAfterHeal(s: RscState): void {
  if (!s.peers.isPair()) return
  for (const g of s.groups) {
    if (g.state === 'running') ask(s, g)
    else if (g.state === 'starting') s.healAsks.askWhenRunning.add(g.def.key)
  }
}

/** After every event: a group that was starting at the heal is asked for once it runs. */
export function settleHealAsks(s: RscState): void {
  for (const key of s.healAsks.askWhenRunning) {
    const g = s.groups.find((x) => x.def.key === key)
    if (g?.state === 'starting') continue
    s.healAsks.askWhenRunning.delete(key)
    if (g?.state === 'running') ask(s, g)
  }
}

function ask(s: RscState, g: GroupState): void {
  log(s, 'info', `Healed partition: asking the peer to give up ${g.def.key} if it still runs it (ip-request): a peer that never saw the partition does.`)
  s.healAsks.answerAwaited.set(g.def.key, { askedAtMs: s.now, holdsStandby: true })
  sendCluster(s, ipRequestMsg(g.def.key))
}

/**
 * When the peer's ip-request runs here (rc.d/ip-request's turn in the queue, not its arrival: our own
 * ask may go out in between, once a start ends), for a group we asked it for: it kept after the same
 * heal. The node haresources gives the group to keeps it and does not answer (true); the other gives
 * it up, and its own ask stays known, so an answer to it is never taken as a cue to take the group.
 */
export function keepsAgainstPeersAsk(s: RscState, key: string, requester: string): boolean {
  const ours = s.healAsks.answerAwaited.get(key)
  if (ours === undefined) return false
  const g = s.groups.find((x) => x.def.key === key)
  if (g?.local === true) {
    log(s, 'warn', `ip-request for ${key} from ${requester} not acted on: we both kept it after the heal and asked the other for it; haresources gives it to us.`)
    return true
  }
  ours.holdsStandby = false
  log(s, 'warn', `ip-request for ${key} from ${requester}: we both kept it after the heal and asked the other for it; haresources gives it to ${requester}, so we give it up.`)
  return false
}

/**
 * A standby now could move a group the peer is still to give up for our ask: refuse it (3.0.6: "in
 * flux"). An ask older than the hold no longer refuses, but its answer is still known for what it is.
 */
export function answerAwaited(s: RscState): boolean {
  for (const a of s.healAsks.answerAwaited.values()) if (a.holdsStandby && s.now - a.askedAtMs <= HEAL_ASK_HOLD_MS) return true
  return false
}

/**
 * The peer's `ip-request-resp` to us: one of our heal asks ('handled': never taken again; `gaveUp`
 * when the peer's copy just went and we still run the group, so its address is announced again), or
 * 3.0.6's own exchange ('none': its rc.d/ip-request-resp takes the group).
 */
export function answerToAsk(s: RscState, msg: HaMessage, src: string): { kind: 'none' } | { kind: 'handled'; gaveUp: boolean } {
  const key = getString(msg, 'ipaddr') ?? ''
  if (!s.healAsks.answerAwaited.delete(key)) return { kind: 'none' }
  const g = s.groups.find((x) => x.def.key === key)
  const running = g?.state === 'running'
  const peerRanIt = getString(msg, 'weown') === 'yes'
  if (!running) log(s, 'info', `${src} answered our ask for ${key} (weown=${peerRanIt ? 'yes' : 'no'}) after we let it go: not taken again.`)
  else if (peerRanIt) log(s, 'warn', `${src} gave up ${key}, which it still ran after the heal: only we run it now.`)
  else log(s, 'info', `${src} does not run ${key}: only we run it.`)
  return { kind: 'handled', gaveUp: running && peerRanIt }
}

/** The peer died or restarted: what it ran then is gone, and so is any answer to our asks. */
export function forgetHealAsks(s: RscState): void {
  s.healAsks.answerAwaited.clear()
  s.healAsks.askWhenRunning.clear()
}
