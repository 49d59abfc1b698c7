// Split brain: both directors running the same group. heartbeat 3.0.6 notices it only when a
// partition heals both ways (it restarts, giving everything up, and start-up arbitration picks the
// owner) and otherwise logs "Both machines own …" and does nothing. One-way loss (we hear the peer,
// it does not hear us) leaves both holding the address until something unrelated moves it.
// This watch decides, from what the resource manager knows, who gives a contested group up; both
// nodes apply the same rule alone, so exactly one of them yields. Pure: fed `now`, returns verdicts.

import type { ResourceGroup, ResourceRef } from '../config/haresources.js'
import type { RmSnapshot } from '../resources/rm-types.js'
import { RSC_FOREIGN, RSC_LOCAL, RSC_NONE, rscBits } from '../resources/resource-sets.js'

/** A clash must outlast messages in flight (a release announced a moment ago) before anyone acts. */
export const SPLIT_BRAIN_GRACE_MS = 500
/** After keeping a contested group, re-announce it when the peer is seen to let go, within this window. */
export const REANNOUNCE_WINDOW_MS = 30_000

export type SplitBrainVerdict =
  | { kind: 'none' }
  /** We run what the peer also runs and the rule gives it to the peer: release and restart (3.0.6's rule). */
  | { kind: 'yield'; text: string }
  /** We keep; said once per clash. */
  | { kind: 'keep'; text: string }

/** What each side runs, in our terms: `local` = groups haresources gives us. */
interface Clash {
  /** We run groups haresources gives the peer, and the peer says it runs them. */
  foreign: boolean
  /** We run our own groups, and the peer says it runs them too. */
  local: boolean
}

/** The shared rule: a node running the peer's groups yields them; a node running both yields unless it is the first ha.cf node. */
export function yieldsContested(runsForeign: boolean, runsLocal: boolean, firstNode: boolean): boolean {
  if (!runsForeign) return false
  if (!runsLocal) return true
  return !firstNode
}

/** Do we run (or start) a group of our own (`local`), or one haresources gives the peer? */
export function runsGroup(s: RmSnapshot, me: string, local: boolean): boolean {
  return s.groups.some((g) => (g.state === 'running' || g.state === 'starting') && (g.node.toLowerCase() === me) === local)
}

/**
 * What the decision after a heal counts as ours: a group running or starting, or one the manager has
 * claimed (`iHold`: a takeover queued but no agent run yet). Deciding on the running groups alone let a
 * node that had only queued the peer's group keep, then start it: a dual hold until the watch caught it.
 */
export function claimsGroup(s: RmSnapshot, me: string, local: boolean): boolean {
  const bit = local ? 'local' : 'foreign'
  return runsGroup(s, me, local) || s.iHold === 'all' || s.iHold === bit
}

export class SplitBrainWatch {
  private clashSinceMs: number | undefined
  private keptSaid = false
  private reannounceUntilMs: number | undefined
  private lastCheckMs: number | undefined

  /** Look at the manager's view after an event; `firstNode`: we are the first node of ha.cf. */
  check(s: RmSnapshot, nowMs: number, firstNode: boolean): SplitBrainVerdict {
    this.lastCheckMs = nowMs
    const clash = clashOf(s)
    if (!clash.foreign && !clash.local) {
      this.clashSinceMs = undefined
      this.keptSaid = false
      return { kind: 'none' }
    }
    // Whoever keeps re-announces once the peer gives up its copy (its shutdone or restart).
    this.armReannounce(nowMs)
    this.clashSinceMs ??= nowMs
    // Our own start, stop or standby in progress: let it land first.
    if (nowMs < this.clashSinceMs + SPLIT_BRAIN_GRACE_MS || s.busy || s.standby !== 'not') return { kind: 'none' }
    if (yieldsContested(clash.foreign, clash.local, firstNode)) {
      return { kind: 'yield', text: 'Split brain: the peer runs the group(s) haresources gives it, and so do we; giving up our resources and restarting.' }
    }
    if (this.keptSaid) return { kind: 'none' }
    this.keptSaid = true
    return { kind: 'keep', text: 'Split brain: the peer also runs our group(s); keeping them (haresources names us) and re-announcing once it gives them up.' }
  }

  /**
   * When the clash must be looked at again without any event (the grace running out). Never a time
   * already looked at: a clash held back by our own job or standby waits for that to end (an event).
   */
  nextDeadline(): number | undefined {
    if (this.clashSinceMs === undefined || this.keptSaid) return undefined
    const dueMs = this.clashSinceMs + SPLIT_BRAIN_GRACE_MS
    return this.lastCheckMs !== undefined && dueMs <= this.lastCheckMs ? undefined : dueMs
  }

  /** We kept a group the peer also ran: re-announce when it lets go. */
  armReannounce(nowMs: number): void {
    this.reannounceUntilMs = nowMs + REANNOUNCE_WINDOW_MS
  }

  /** The peer gave up what it held (its shutdone, or a new generation): re-announce now? (once per arming) */
  peerLetGo(nowMs: number): boolean {
    if (this.reannounceUntilMs === undefined || nowMs > this.reannounceUntilMs) return false
    this.reannounceUntilMs = undefined
    return true
  }
}

function clashOf(s: RmSnapshot): Clash {
  const mine = rscBits(s.iHold) ?? RSC_NONE
  // The peer's rsc_hold is from its side: its `local` is our foreign.
  const theirs = rscBits(s.otherHolds) ?? RSC_NONE
  return {
    foreign: (mine & RSC_FOREIGN) !== 0 && (theirs & RSC_LOCAL) !== 0,
    local: (mine & RSC_LOCAL) !== 0 && (theirs & RSC_FOREIGN) !== 0,
  }
}

/** The addresses of the groups running here: a `start` of an address already up sends gratuitous ARP only. */
export function addressesToAnnounce(groups: readonly ResourceGroup[], s: RmSnapshot): Array<{ group: string; index: number; resource: ResourceRef }> {
  return addressesOf(groups, s, (state) => state === 'running')
}

/**
 * The addresses of every group not stopped here: a yield can come while a takeover is still
 * starting, its address already up and announced to the LAN.
 */
export function addressesNotStopped(groups: readonly ResourceGroup[], s: RmSnapshot): ResourceRef[] {
  return addressesOf(groups, s, (state) => state !== 'stopped').map((a) => a.resource)
}

function addressesOf(groups: readonly ResourceGroup[], s: RmSnapshot, keep: (state: RmSnapshot['groups'][number]['state']) => boolean): Array<{ group: string; index: number; resource: ResourceRef }> {
  const running = new Set(s.groups.filter((g) => keep(g.state)).map((g) => g.key))
  const out: Array<{ group: string; index: number; resource: ResourceRef }> = []
  for (const g of groups) {
    if (!running.has(g.key)) continue
    g.resources.forEach((resource, index) => {
      if (resource.agent === 'IPaddr' || resource.agent === 'IPaddr2') out.push({ group: g.key, index, resource })
    })
  }
  return out
}
