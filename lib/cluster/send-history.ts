// Our transmit history: the last sequenced messages as stamped (resent verbatim on NS_rexmit) and what peers acked.
import type { HaMessage } from '../wire/message.js'

/** heartbeat MAXMSGHIST */
export const HISTORY_SIZE = 500
/** heartbeat MAX_REXMIT_BATCH: at most this many resends per request (we count NAKs too; 3.0.6 does not). */
export const MAX_REXMIT_BATCH = 50
/** We never walk more seqs than this for one request (heartbeat would loop over any range a peer names). */
const MAX_REQUEST_SPAN = 1000

interface Slot {
  seq: number
  msg: HaMessage
  lastRexmitMs: number | undefined
}

export type RexmitStep =
  | { kind: 'resend'; seq: number; msg: HaMessage }
  | { kind: 'nak'; seq: number; reason: 'seqno too low' | 'seqno not found' }
  | { kind: 'too-high'; seq: number; hiSeq: number }

export class SendHistory {
  private readonly slots: Array<Slot | undefined>
  /** Highest seq sent (hist->hiseq). */
  hiSeq = 0
  /** Cluster-wide acknowledged seq (hist->ackseq). */
  ackSeq = 0

  readonly capacity: number

  constructor(capacity = HISTORY_SIZE) {
    this.capacity = capacity
    this.slots = new Array<Slot | undefined>(capacity).fill(undefined)
  }

  /** Seqs at or below this are gone (heartbeat's lowseq). */
  get lowSeq(): number {
    return Math.max(0, this.hiSeq - this.capacity)
  }

  add(seq: number, msg: HaMessage): void {
    this.slots[seq % this.capacity] = { seq, msg, lastRexmitMs: undefined }
    if (seq > this.hiSeq) this.hiSeq = seq
  }

  get(seq: number): HaMessage | undefined {
    const s = this.slots[seq % this.capacity]
    return s !== undefined && s.seq === seq ? s.msg : undefined
  }

  /**
   * process_rexmit, minus 3.0.6's off-by-one that never finds the newest message: what to do for
   * each seq a peer asked for. Seqs the requester already acked are skipped; a message resent less
   * than `minResendGapMs` ago is skipped silently. Resends and NAKs together are at most `maxAnswers`
   * (and MAX_REXMIT_BATCH); seqs beyond our newest end the plan with one `too-high` step.
   */
  planRexmit(first: number, last: number, requesterAckedSeq: number, now: number, minResendGapMs: number, maxAnswers = MAX_REXMIT_BATCH): RexmitStep[] {
    const steps: RexmitStep[] = []
    const limit = Math.min(maxAnswers, MAX_REXMIT_BATCH)
    let answers = 0
    const end = Math.min(last, first + MAX_REQUEST_SPAN - 1)
    for (let seq = first; seq <= end && answers < limit; seq++) {
      if (seq <= requesterAckedSeq) continue
      if (seq <= this.lowSeq) {
        answers++
        steps.push({ kind: 'nak', seq, reason: 'seqno too low' })
        continue
      }
      if (seq > this.hiSeq) {
        // every seq after it is beyond our newest too
        steps.push({ kind: 'too-high', seq, hiSeq: this.hiSeq })
        break
      }
      const slot = this.slots[seq % this.capacity]
      if (slot === undefined || slot.seq !== seq) {
        answers++
        steps.push({ kind: 'nak', seq, reason: 'seqno not found' })
        continue
      }
      if (slot.lastRexmitMs !== undefined && now - slot.lastRexmitMs < minResendGapMs) continue
      answers++
      slot.lastRexmitMs = now
      steps.push({ kind: 'resend', seq, msg: slot.msg })
    }
    return steps
  }
}
