// Adaptive status copies (heartbeat-ts.conf status_copies; not in 3.0.6): while loss is evident each status goes out again, verbatim.
import type { HaMessage } from '../wire/message.js'
import type { NodeEntry } from './node-table.js'

/**
 * Copies go out only while loss is evident, i.e. for this long after the last sign of it (a gap in a
 * peer's seqs, a peer asking us to retransmit). Evidence is rarer while copies hide losses, so the
 * memory spans many keepalives: 30 s, or 4 dead times when longer.
 */
const LOSS_MEMORY_MS = 30_000
const LOSS_MEMORY_DEADTIMES = 4
/** Nothing is known at start: copies from the first status for 2 dead times, so peers hear us early. */
const STARTUP_COPIES_DEADTIMES = 2

export interface StatusCopiesConfig {
  /** status_copies: each status goes out this many times in all (1 = 3.0.6, never a copy). */
  copies: number
  keepaliveMs: number
  deadtimeMs: number
}

/** A copy due now: the status as first stamped (same seq, ts, so the same bytes) and its number k (1 ..). */
export interface DueCopy {
  msg: HaMessage
  k: number
}

interface StatusArrivals {
  seq: number
  /** When `seq` first arrived on this medium. */
  firstMs: number
  count: number
  /** Arrivals of the two statuses before `seq` (0 until known). */
  previous: number
  before: number
}

export class StatusCopies {
  private readonly cfg: StatusCopiesConfig
  private startMs = 0
  /** The latest status while its copies are due: copy k goes out at sentMs + k*keepalive/copies. */
  private pending: { msg: HaMessage; sentMs: number; k: number } | undefined
  /** The latest status we sent, so copies can start for it as soon as loss shows. */
  private lastStatus: { msg: HaMessage; sentMs: number } | undefined
  /** Our `shutdone` went out: from then on statuses go out once each, as 3.0.6 sends them. */
  private shutdoneSent = false
  /** Copies are sent until then: start-up, then LOSS_MEMORY after the last sign of loss. */
  private copiesUntilMs = -Infinity
  private startupLossSigns = 0
  /** Per peer and medium: how many times its latest statuses arrived (their copies included). */
  private readonly arrivals = new WeakMap<NodeEntry, Map<string, StatusArrivals>>()

  constructor(cfg: StatusCopiesConfig) {
    this.cfg = cfg
  }

  start(now: number): void {
    this.startMs = now
    this.copiesUntilMs = now + STARTUP_COPIES_DEADTIMES * this.cfg.deadtimeMs
  }

  stop(): void {
    this.pending = undefined
    this.lastStatus = undefined
  }

  /** Copies only while loss is evident: a loss-free cluster sends one status per keepalive, as 3.0.6. */
  active(now: number): boolean {
    return this.cfg.copies > 1 && !this.shutdoneSent && now < this.copiesUntilMs
  }

  /** A status went out: it supersedes the pending copies of the previous one (peers need the latest st/dt). */
  statusSent(stamped: HaMessage, now: number): void {
    this.lastStatus = this.shutdoneSent ? undefined : { msg: stamped, sentMs: now }
    this.pending = this.active(now) && this.lastStatus !== undefined ? { ...this.lastStatus, k: 1 } : undefined
  }

  /**
   * Another sequenced message went out. A copy goes out only while its status is our newest sequenced
   * message: sent after a newer one, it would reach a peer that has just started listening as an old
   * seq, and that peer would log (and re-request) a gap that loss never made.
   */
  otherSequencedSent(): void {
    this.pending = undefined
  }

  /**
   * Our `shutdone` went out: peers take our groups now and should declare us dead one deadtime after
   * our last status, exactly as with a 3.0.6 node (§5.5). Copies would only push that back.
   */
  shutdone(): void {
    this.shutdoneSent = true
    this.pending = undefined
    this.lastStatus = undefined
  }

  /** A sign of loss: keep copies on, and start them for the status already sent if none are pending. */
  noteLoss(now: number): void {
    // One start-up gap (a peer's packet sent before we listened) is no sign: it takes a second one.
    // Copies are on during start-up anyway; this only decides whether they go on afterwards.
    if (now < this.startMs + STARTUP_COPIES_DEADTIMES * this.cfg.deadtimeMs && ++this.startupLossSigns < 2) return
    this.copiesUntilMs = Math.max(this.copiesUntilMs, now + Math.max(LOSS_MEMORY_MS, LOSS_MEMORY_DEADTIMES * this.cfg.deadtimeMs))
    const last = this.lastStatus
    if (this.pending !== undefined || last === undefined || !this.active(now)) return
    // the next copy slot of the current status still ahead of us (none left: the keepalive is next)
    const c = { ...last, k: 1 }
    this.pending = c
    for (let due = this.dueMs(); due !== undefined && due <= now; due = this.dueMs()) c.k++
    if (c.k >= this.cfg.copies) this.pending = undefined
  }

  dueMs(): number | undefined {
    const c = this.pending
    return c === undefined ? undefined : c.sentMs + Math.floor((c.k * this.cfg.keepaliveMs) / this.cfg.copies)
  }

  /**
   * The copy due at `now`, if any. A peer that got the original counts the copy as a duplicate (it
   * still refreshes the link); one that lost it takes the copy as the in-order status, or as the missing
   * seq if later traffic made a gap (§3.3). Nothing is added to the history or looped back.
   */
  takeDue(now: number): DueCopy | undefined {
    const c = this.pending
    let due = this.dueMs()
    if (c === undefined || due === undefined || due > now) return undefined
    const copy = { msg: c.msg, k: c.k }
    // a late tick sends one copy, not a burst: skip any others that are already due
    while (due !== undefined && due <= now) {
      c.k++
      due = c.k < this.cfg.copies ? this.dueMs() : undefined
    }
    if (due === undefined) this.pending = undefined
    return copy
  }

  /**
   * A peer's status arrived on `link`; true when that is a sign of loss. A peer that sends copies sees
   * loss; if its copies reach us short too, the medium is lossy both ways and ours need copies as well
   * (gaps alone rarely show it: the peer's copies fill most of them). Short means a dip on one medium: a
   * status that arrived fewer times than both the one before and the one after it. A peer that simply
   * stops copying (3, 1, 1 …) is no dip, so two peers cannot keep each other copying on a clean network;
   * nor is a status superseded within half a keepalive (a status change sends the next one at once,
   * cutting the copies short), which is left out of the count.
   */
  statusArrived(node: NodeEntry, link: string, seq: number, now: number): boolean {
    let links = this.arrivals.get(node)
    if (links === undefined) this.arrivals.set(node, (links = new Map<string, StatusArrivals>()))
    const a = links.get(link)
    if (a === undefined || seq < a.seq) {
      links.set(link, { seq, firstMs: now, count: 1, previous: 0, before: 0 })
      return false
    }
    if (seq === a.seq) {
      a.count++
      return false
    }
    let dip = false
    if (now - a.firstMs >= this.cfg.keepaliveMs / 2) {
      dip = a.previous < a.before && a.previous < a.count
      a.before = a.previous
      a.previous = a.count
    }
    a.seq = seq
    a.firstMs = now
    a.count = 1
    return dip
  }
}
