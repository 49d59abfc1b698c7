// Receive-side sequence state for one sending node: generation, last seq, the missing list (heartbeat's struct seqtrack).

/** heartbeat MAXMISSING: at most 499 missing seqs are remembered; beyond that the lowest is replaced. */
const MAX_MISSING = 500
/** heartbeat ACK_MSG_DIV: an ack every 10th seq. */
export const ACK_DIV = 10

export class SeqTracker {
  /** Highest generation seen in a status message (0 = none yet). */
  generation = 0
  /** Last in-order (or newest) seq; undefined after a reset (heartbeat NOSEQUENCE). */
  lastSeq: number | undefined = undefined
  /** Lowest missing seq, 0 when nothing is missing (gates acks). */
  firstMissingSeq = 0
  private missing: number[] = []

  /** reset_seqtrack: forget last seq and missing list; the caller cancels rexmit timers. Generation stays. */
  reset(): number[] {
    const dropped = this.missing
    this.missing = []
    this.firstMissingSeq = 0
    this.lastSeq = undefined
    return dropped
  }

  missingSeqs(): readonly number[] {
    return this.missing
  }

  /**
   * Record seqs (from..to) as missing after a gap. Returns the older missing seqs this pushed out of the
   * full list: the caller stops asking for them (heartbeat 3.0.6 kept re-requesting them for ever).
   */
  recordGap(from: number, to: number): number[] {
    if (this.firstMissingSeq === 0 || this.firstMissingSeq > from) this.firstMissingSeq = from
    const forgotten: number[] = []
    for (let k = from; k <= to; k++) {
      if (this.missing.length < MAX_MISSING - 1) {
        this.missing.push(k)
      } else {
        // heartbeat: replace the lowest numbered missing seq with this one
        let min = 0
        for (let j = 1; j < this.missing.length; j++) if ((this.missing[j] ?? 0) < (this.missing[min] ?? 0)) min = j
        forgotten.push(this.missing[min] ?? 0)
        this.missing[min] = k
      }
    }
    return forgotten
  }

  /**
   * is_lost_packet: if `seq` is missing, forget it. Returns undefined when it was not missing,
   * else whether the list is now empty and the seq to ack (flow control) when the first gap closed.
   */
  takeMissing(seq: number, ackTrigger: number): { nowEmpty: boolean; ackSeq: number | undefined } | undefined {
    const i = this.missing.indexOf(seq)
    if (i < 0) return undefined
    this.missing.splice(i, 1)
    if (this.missing.length === 0) {
      // heartbeat zeroes first_missing_seq here, so closing the last gap sends no ack (the next in-order one will)
      this.firstMissingSeq = 0
      return { nowEmpty: true, ackSeq: undefined }
    }
    if (seq !== this.firstMissingSeq) return { nowEmpty: false, ackSeq: undefined }
    const oldFirst = this.firstMissingSeq
    this.firstMissingSeq = Math.min(...this.missing)
    // ack the highest seq ending in our trigger digit below the next gap, if the closed gap uncovered one
    const upTo = this.firstMissingSeq - 1
    const base = Math.floor(upTo / ACK_DIV) * ACK_DIV
    const candidate = upTo % ACK_DIV >= ackTrigger ? base + ackTrigger : base - ACK_DIV + ackTrigger
    return { nowEmpty: false, ackSeq: candidate >= oldFirst ? candidate : undefined }
  }
}
