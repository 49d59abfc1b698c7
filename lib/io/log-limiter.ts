// At most N log lines per kind of complaint per interval, then one "N more suppressed" summary.
// Pure: the caller passes `now` (ms) and logs what it is told to; no clock, no timer, no I/O.
//
// Use: kinds are fixed words chosen by the caller ('bad-packet', 'unknown-node', 'nak'), never
// text from the wire, so the table stays small; past maxKinds, new kinds share one bucket.

export interface LogLimiterOptions {
  /** Lines of one kind logged per interval; the rest are counted. */
  maxPerInterval: number
  intervalMs: number
  /** Distinct kinds tracked (default 64); beyond, kinds share the OTHER_KIND bucket. */
  maxKinds?: number
}

/** A kind's window ended with lines held back: log `suppressedSummary(s)` for it. */
export interface Suppressed {
  kind: string
  count: number
  intervalMs: number
}

export interface Admission {
  /** Log this line. */
  log: boolean
  /** A summary of the kind's previous window, due now (log it before the line). */
  summary: Suppressed | undefined
}

export const OTHER_KIND = '(other)'

interface Window {
  startMs: number
  logged: number
  suppressed: number
}

export class LogLimiter {
  private readonly windows = new Map<string, Window>()
  private readonly maxKinds: number
  private readonly opts: LogLimiterOptions

  constructor(opts: LogLimiterOptions) {
    this.opts = opts
    this.maxKinds = Math.max(1, opts.maxKinds ?? 64)
  }

  /** Whether a line of `kind` may be logged at nowMs; a line refused is counted for the summary. */
  admit(kind: string, nowMs: number): Admission {
    const key = this.windows.has(kind) || this.windows.size < this.maxKinds - 1 ? kind : OTHER_KIND
    let w = this.windows.get(key)
    let summary: Suppressed | undefined
    if (w !== undefined && nowMs - w.startMs >= this.opts.intervalMs) {
      if (w.suppressed > 0) summary = { kind: key, count: w.suppressed, intervalMs: this.opts.intervalMs }
      w = undefined
    }
    if (w === undefined) {
      w = { startMs: nowMs, logged: 0, suppressed: 0 }
      this.windows.set(key, w)
    }
    if (w.logged < this.opts.maxPerInterval) {
      w.logged++
      return { log: true, summary }
    }
    w.suppressed++
    return { log: false, summary }
  }

  /**
   * Summaries of windows that ended by nowMs with lines held back, for a caller that wants them
   * without waiting for the next line of that kind (call at nextDeadlineMs()). Ended windows are dropped.
   */
  due(nowMs: number): Suppressed[] {
    const out: Suppressed[] = []
    for (const [kind, w] of this.windows) {
      if (nowMs - w.startMs < this.opts.intervalMs) continue
      if (w.suppressed > 0) out.push({ kind, count: w.suppressed, intervalMs: this.opts.intervalMs })
      this.windows.delete(kind)
    }
    return out
  }

  /** When the earliest window holding suppressed lines ends (for the caller's deadline), or undefined. */
  nextDeadlineMs(): number | undefined {
    let next: number | undefined
    for (const w of this.windows.values()) {
      if (w.suppressed === 0) continue
      const end = w.startMs + this.opts.intervalMs
      if (next === undefined || end < next) next = end
    }
    return next
  }
}

/** The words for a summary: "12 more 'bad-packet' messages suppressed in the last 10 s". */
export function suppressedSummary(s: Suppressed): string {
  const secs = s.intervalMs / 1000
  return `${s.count} more '${s.kind}' message${s.count === 1 ? '' : 's'} suppressed in the last ${Number.isInteger(secs) ? secs : secs.toFixed(1)} s`
}
