// After a healed partition we keep: ask the peer to give up, with 3.0.6's own `ip-request`, each group
// haresources gives us that we run. A peer that never saw the partition (a one-way loss: it heard us
// all along) still runs what it ran when we declared it dead, and so does one that restarted apart
// from us; a real 3.0.6 node has no rule that makes it yield (it only logs "Both machines own our
// resources!"), but its rc.d/ip-request gives a group up when asked and answers `ip-request-resp`;
// ours does the same (takeover.ts). A peer that does not run the group answers `weown=no`.
//
// Only our own groups are asked for: a group of the peer's that we run stays the split-brain rule's
// business (split-brain.ts), and as each group has one owner, two nodes never ask each other for the
// same one. A group still starting at the heal is asked for once it runs: asked earlier, a start that
// then failed would leave it on neither node. The answer is news, never a cue to take the group: we
// asked for a group we run, and by the time the answer comes we may have handed it over on purpose.
import { getString } from '../wire/message.js'
import type { HaMessage } from '../wire/message.js'
import type { GroupState } from './group-ops.js'
import { ipRequestMsg } from './rm-messages.js'
import { log, sendCluster } from './rsc-state.js'
import type { RscState } from './rsc-state.js'

/** What each heal ask of ours is waiting for (both bounded by the number of groups). */
export interface HealAsks {
  /** Asked; the answer is awaited (until it comes, or the peer dies or restarts). */
  answerAwaited: Set<string>
  /** Still starting at the heal: asked for once running, dropped if the start ends otherwise. */
  askWhenRunning: Set<string>
}

export function noHealAsks(): HealAsks {
  return { answerAwaited: new Set(), askWhenRunning: new Set() }
}

/** We keep after a heal: ask the peer for each of our own groups we run (or, once running, start). */
export function askPeerAfterHeal(s: RscState): void {
  for (const g of s.groups) {
    if (!g.local) continue
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
  s.healAsks.answerAwaited.add(g.def.key)
  sendCluster(s, ipRequestMsg(g.def.key))
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
