// After a healed partition we keep: ask the peer to give up, with 3.0.6's own `ip-request`, every
// group we run. A peer that never saw the partition (a one-way loss: it heard us all along) still
// runs what it ran when we declared it dead, and a real 3.0.6 node has no rule that makes it yield:
// it only logs "Both machines own our resources!". Its rc.d/ip-request does give a group up when
// asked, and answers `ip-request-resp`; so does ours (takeover.ts). A peer that runs none of them
// answers `weown=no` and nothing moves. We already hold these groups, so the answer is news, not a
// cue to take them: what we still run is re-announced, not taken again.
import { getString } from '../wire/message.js'
import type { HaMessage } from '../wire/message.js'
import { ipRequestMsg } from './rm-messages.js'
import { log, sendCluster } from './rsc-state.js'
import type { RscState } from './rsc-state.js'

/**
 * How long an ask stands. A 3.0.6 peer runs rc.d/ip-request after its running resource operation,
 * which can be a slow stop; past this, an answer is handled as 3.0.6 handles any other.
 */
export const HEAL_ASK_MS = 30_000

/** The groups we keep after a heal: ask the peer to give up any it still runs. */
export function askPeerAfterHeal(s: RscState): void {
  const kept = s.groups.filter((g) => g.state === 'running' || g.state === 'starting')
  if (kept.length === 0) return
  log(s, 'info', `Healed partition: asking the peer to give up ${kept.map((g) => g.def.key).join(', ')} if it still runs it (ip-request): a peer that never saw the partition does.`)
  for (const g of kept) {
    s.healAsks.set(g.def.key, s.now + HEAL_ASK_MS)
    sendCluster(s, ipRequestMsg(g.def.key))
  }
}

/** An ask still standing for `key` (an expired one is dropped here). */
function standing(s: RscState, key: string): boolean {
  const until = s.healAsks.get(key)
  if (until === undefined) return false
  if (s.now <= until) return true
  s.healAsks.delete(key)
  return false
}

/**
 * The peer asks us for a group we asked it for: it kept after the same heal (its view differs from
 * ours). If each gave it up to the other, nobody would hold it. We keep it; the split-brain watch
 * (both sides, one rule) then settles who runs it. True: do not act on the request.
 */
export function ignoresRequestWhileAsking(s: RscState, key: string, requester: string): boolean {
  if (!standing(s, key)) return false
  log(s, 'warn', `ip-request for ${key} from ${requester} ignored: we kept it after the heal and asked ${requester} to give it up; the split-brain rule settles who runs it.`)
  return true
}

/**
 * The answer to one of our asks. Returns 'handled' when we still run the group (no take: it is ours;
 * `gaveUp` says whether the peer's copy just went), 'take' to run 3.0.6's ip-request-resp (takegroup)
 * as for any other answer: we no longer run it, and the peer may have just given it up for us.
 */
export function answerToAsk(s: RscState, msg: HaMessage, src: string): { kind: 'none' } | { kind: 'handled'; key: string; gaveUp: boolean } | { kind: 'take' } {
  const key = getString(msg, 'ipaddr') ?? ''
  if (!standing(s, key)) return { kind: 'none' }
  s.healAsks.delete(key)
  const g = s.groups.find((x) => x.def.key === key)
  if (g === undefined || (g.state !== 'running' && g.state !== 'starting')) return { kind: 'take' }
  const gaveUp = getString(msg, 'weown') === 'yes'
  log(s, gaveUp ? 'warn' : 'info', gaveUp ? `${src} gave up ${key}, which it still ran after the heal: only we run it now.` : `${src} does not run ${key}: only we run it.`)
  return { kind: 'handled', key, gaveUp }
}

/** The peer died or restarted: what it ran then is gone, and so is any answer to our asks. */
export function forgetHealAsks(s: RscState): void {
  s.healAsks.clear()
}
