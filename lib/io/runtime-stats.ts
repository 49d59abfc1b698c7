// What limits fast timers inside the daemon: event-loop delay (perf_hooks' sampling timer), the lateness of the
// daemon's own deadline timer past the deadline it was armed for, and V8's GC pauses. Only with
// HBTS_RUNTIME_STATS=<seconds>: the sampling timer itself wakes the process every few ms.

import { constants, createHistogram, monitorEventLoopDelay, PerformanceObserver, type PerformanceEntry, type RecordableHistogram } from 'node:perf_hooks'

/** perf_hooks' sampling period: fine enough for 20 ms keepalives, coarse enough to cost little. */
const LOOP_RESOLUTION_MS = 5

export interface RuntimeStats {
  /** One firing of the daemon's deadline timer, `lateMs` past its deadline. */
  timerLate(lateMs: number): void
  /** The figures since the last report (or the start), as one log line; starts a new interval. */
  report(): string
  stop(): void
}

const GC_KINDS: ReadonlyArray<[number, string]> = [
  [constants.NODE_PERFORMANCE_GC_MINOR, 'minor'],
  [constants.NODE_PERFORMANCE_GC_MAJOR, 'major'],
  [constants.NODE_PERFORMANCE_GC_INCREMENTAL, 'incremental'],
  [constants.NODE_PERFORMANCE_GC_WEAKCB, 'weakcb'],
]

const ms = (ns: number): string => (ns / 1e6).toFixed(1)

export function startRuntimeStats(): RuntimeStats {
  const loop = monitorEventLoopDelay({ resolution: LOOP_RESOLUTION_MS })
  loop.enable()
  // Timer lateness in µs (histograms take integers ≥ 1).
  const late: RecordableHistogram = createHistogram()
  let gcCount = 0
  let gcTotalMs = 0
  let gcMaxMs = 0
  const gcByKind = new Map<string, number>()
  const gc = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      gcCount++
      gcTotalMs += e.duration
      if (e.duration > gcMaxMs) gcMaxMs = e.duration
      const kind = (e as PerformanceEntry & { detail?: { kind?: number } }).detail?.kind
      const name = GC_KINDS.find(([k]) => k === kind)?.[1] ?? 'other'
      gcByKind.set(name, (gcByKind.get(name) ?? 0) + 1)
    }
  })
  gc.observe({ entryTypes: ['gc'] })
  let since = Date.now()

  return {
    timerLate(lateMs) {
      late.record(Math.max(1, Math.round(lateMs * 1000)))
    },
    report() {
      const secs = ((Date.now() - since) / 1000).toFixed(0)
      const lateText =
        late.count === 0
          ? 'no timer firings'
          : `timer lateness p50 ${(late.percentile(50) / 1000).toFixed(1)} ms, p99 ${(late.percentile(99) / 1000).toFixed(1)} ms, max ${(late.max / 1000).toFixed(1)} ms over ${late.count} firings`
      const kinds = [...gcByKind].map(([k, n]) => `${n} ${k}`).join(', ')
      const heapMb = (process.memoryUsage().heapUsed / 1048576).toFixed(1)
      const text =
        `runtime stats (last ${secs} s): event-loop delay p50 ${ms(loop.percentile(50))} ms, p99 ${ms(loop.percentile(99))} ms, max ${ms(loop.max)} ms; ` +
        `${lateText}; GC ${gcCount} pauses${kinds === '' ? '' : ` (${kinds})`}, ${gcTotalMs.toFixed(1)} ms in all, longest ${gcMaxMs.toFixed(1)} ms; heap used ${heapMb} MB`
      loop.reset()
      late.reset()
      gcCount = 0
      gcTotalMs = 0
      gcMaxMs = 0
      gcByKind.clear()
      since = Date.now()
      return text
    },
    stop() {
      loop.disable()
      gc.disconnect()
    },
  }
}

/** HBTS_RUNTIME_STATS: the report interval in seconds (whole, 1-3600), else off. */
export function runtimeStatsIntervalMs(value: string | undefined): number | undefined {
  if (value === undefined || !/^\d+$/.test(value)) return undefined
  const s = Number(value)
  return s >= 1 && s <= 3600 ? s * 1000 : undefined
}

/** One report line's worst figures, read back (the benches read them from the node's log). */
export interface RuntimeStatsLine {
  loopP99Ms: number
  loopMaxMs: number
  /** NaN when the timer did not fire in the interval. */
  lateP99Ms: number
  lateMaxMs: number
  gcPauses: number
  gcTotalMs: number
  gcLongestMs: number
}

const LINE_RE =
  /event-loop delay p50 [\d.]+ ms, p99 ([\d.]+) ms, max ([\d.]+) ms; (?:timer lateness p50 [\d.]+ ms, p99 ([\d.]+) ms, max ([\d.]+) ms over \d+ firings|no timer firings); GC (\d+) pauses(?: \([^)]*\))?, ([\d.]+) ms in all, longest ([\d.]+) ms/g

/** Every report line in `text` (a log), in order. */
export function parseRuntimeStats(text: string): RuntimeStatsLine[] {
  return [...text.matchAll(LINE_RE)].map((m) => ({
    loopP99Ms: Number(m[1]),
    loopMaxMs: Number(m[2]),
    lateP99Ms: m[3] === undefined ? Number.NaN : Number(m[3]),
    lateMaxMs: m[4] === undefined ? Number.NaN : Number(m[4]),
    gcPauses: Number(m[5]),
    gcTotalMs: Number(m[6]),
    gcLongestMs: Number(m[7]),
  }))
}
