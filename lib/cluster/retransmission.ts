// Reliable delivery's retransmission (hb_rexmit.c, process_rexmit): asking peers for what we missed, answering what they missed, both bounded per peer.
import { atoi } from '../config/atoi.js'
import { firstRexmitDelayMs, PerPeerBudget, RexmitSchedule } from './rexmit-schedule.js'
import { MAX_REXMIT_BATCH, type RexmitStep, type SendHistory } from './send-history.js'

export interface RetransmissionConfig {
  maxRexmitDelayMs: number
  random: () => number
}

/** A request to send now: NS_rexmit to `node` for `seq`. */
export interface RexmitRequest {
  node: string
  seq: number
}

export type RexmitAnswer = { kind: 'invalid' } | { kind: 'steps'; steps: RexmitStep[] }

export class Retransmission {
  private readonly cfg: RetransmissionConfig
  private readonly history: SendHistory
  private readonly pending = new RexmitSchedule()
  /** NS_rexmit requests we send to each peer, per max_rexmit_delay (3.0.6: one per missing seq, unbounded). */
  private readonly requestBudget: PerPeerBudget
  /** Resends and NAKs we send for each peer's requests, per max_rexmit_delay. */
  private readonly answerBudget: PerPeerBudget

  constructor(cfg: RetransmissionConfig, history: SendHistory) {
    this.cfg = cfg
    this.history = history
    this.requestBudget = new PerPeerBudget(MAX_REXMIT_BATCH, cfg.maxRexmitDelayMs)
    this.answerBudget = new PerPeerBudget(MAX_REXMIT_BATCH, cfg.maxRexmitDelayMs)
  }

  // ------------------------------------------------------------ asking

  /** A gap from..to: ask for each after its own random delay; stop asking for `forgotten` (missing list full). */
  gap(node: string, from: number, to: number, forgotten: readonly number[], now: number): void {
    for (let s = from; s <= to; s++) this.pending.schedule(node, s, now + firstRexmitDelayMs(this.cfg.maxRexmitDelayMs, this.cfg.random))
    // 3.0.6 kept asking for these for ever
    for (const s of forgotten) this.pending.cancel(node, s)
  }

  /** The seq arrived or was NAKed. */
  recovered(node: string, seq: number): void {
    this.pending.cancel(node, seq)
  }

  /** Its tracking was reset (death, restart, a huge gap): nothing more to ask it. */
  forgetNode(node: string): void {
    this.pending.cancelNode(node)
  }

  nextDueMs(): number | undefined {
    return this.pending.nextDueMs()
  }

  /**
   * The requests to send at `now`, each re-armed for max_rexmit_delay later. A request to a node that
   * is not up lapses (hb_rexmit.c); one beyond the peer's budget waits for its next window.
   */
  takeDueRequests(now: number, isUp: (node: string) => boolean): RexmitRequest[] {
    const out: RexmitRequest[] = []
    for (const due of this.pending.takeDue(now)) {
      if (!isUp(due.node)) continue
      if (this.requestBudget.remaining(due.node, now) <= 0) {
        this.pending.schedule(due.node, due.seq, this.requestBudget.refillMs(due.node, now))
        continue
      }
      this.requestBudget.use(due.node, 1, now)
      this.pending.schedule(due.node, due.seq, now + this.cfg.maxRexmitDelayMs)
      out.push(due)
    }
    return out
  }

  // ------------------------------------------------------------ answering

  /**
   * process_rexmit: what to resend or NAK for a peer's NS_rexmit (firstseq, lastseq as atoi reads
   * them), within what is left of that peer's budget; the resends and NAKs planned are charged to it.
   */
  answer(from: string, firstText: string | undefined, lastText: string | undefined, requesterAckedSeq: number, now: number): RexmitAnswer {
    const first = atoi(firstText)
    const last = atoi(lastText)
    if (first <= 0 || last <= 0 || first > last) return { kind: 'invalid' }
    const budget = this.answerBudget.remaining(from, now)
    if (budget <= 0) return { kind: 'steps', steps: [] }
    const steps = this.history.planRexmit(first, last, requesterAckedSeq, now, this.cfg.maxRexmitDelayMs - 10, budget)
    this.answerBudget.use(from, steps.filter((s) => s.kind !== 'too-high').length, now)
    return { kind: 'steps', steps }
  }
}
