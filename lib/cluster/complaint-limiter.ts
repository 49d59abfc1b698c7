// The one rate limiter for complaints about wire input, per kind (pure: `now` is passed in): a flood of bad packets costs a few log lines and one "N more suppressed" summary.
import type { LogLevel } from './actions.js'

/** What the membership complains about when a packet is refused or odd; each kind has its own budget. */
export type ComplaintKind = 'bad packet' | 'unknown node' | 'old generation' | 'lost packets' | 'NAK' | 'rexmit request' | 'repnodes' | 'unchecked datagram'

/** Lines of one kind logged per window before the rest are only counted. */
export const COMPLAINT_BURST = 5
/** Kinds whose every line says the same thing: one per window, then the count. */
const BURST_BY_KIND: Partial<Record<ComplaintKind, number>> = { 'unchecked datagram': 1 }
export const COMPLAINT_WINDOW_MS = 10_000

interface Window {
  startMs: number
  logged: number
  suppressed: number
  /** The most severe level among the suppressed lines: the summary is logged at it. */
  level: LogLevel
}

const SEVERITY: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3, crit: 4 }

export interface LogLine {
  level: LogLevel
  text: string
}

export class ComplaintLimiter {
  private readonly windows = new Map<ComplaintKind, Window>()

  /** Log this complaint now? Returns the lines to log: the complaint (or nothing), after an ended window's summary. */
  complain(kind: ComplaintKind, level: LogLevel, text: string, now: number): LogLine[] {
    const out: LogLine[] = []
    let w = this.windows.get(kind)
    if (w !== undefined && now >= w.startMs + COMPLAINT_WINDOW_MS) {
      const summary = summarize(kind, w)
      if (summary !== undefined) out.push(summary)
      w = undefined
    }
    if (w === undefined) {
      w = { startMs: now, logged: 0, suppressed: 0, level: 'debug' }
      this.windows.set(kind, w)
    }
    if (w.logged < (BURST_BY_KIND[kind] ?? COMPLAINT_BURST)) {
      w.logged++
      out.push({ level, text })
    } else {
      w.suppressed++
      if (SEVERITY[level] > SEVERITY[w.level]) w.level = level
    }
    return out
  }

  /** Summaries of the windows that have ended by `now`. */
  flush(now: number): LogLine[] {
    const out: LogLine[] = []
    for (const [kind, w] of this.windows) {
      if (now < w.startMs + COMPLAINT_WINDOW_MS) continue
      const summary = summarize(kind, w)
      if (summary !== undefined) out.push(summary)
      this.windows.delete(kind)
    }
    return out
  }

  /** When a summary is due (only windows with suppressed lines need a wake-up). */
  nextDueMs(): number | undefined {
    let min: number | undefined
    for (const w of this.windows.values()) {
      if (w.suppressed === 0) continue
      const end = w.startMs + COMPLAINT_WINDOW_MS
      if (min === undefined || end < min) min = end
    }
    return min
  }
}

function summarize(kind: ComplaintKind, w: Window): LogLine | undefined {
  if (w.suppressed === 0) return undefined
  return { level: w.level, text: `${kind}: ${w.suppressed} more suppressed in the last ${COMPLAINT_WINDOW_MS / 1000} s` }
}
