// Time::Period (the Perl module mon uses for `period` lines): parse a period spec once, test a wall-clock time against it.

/** Broken-down local wall-clock time; the I/O edge builds it, the pure code only reads it. */
export interface WallTime {
  /** Seconds since the epoch (mon passes it to alerts as `-t`). */
  unixSec: number
  year: number
  /** 1..12 */
  month: number
  /** 1..31 */
  mday: number
  /** 1..7, 1 = Sunday (Time::Period's numbering). */
  wday: number
  /** 1..366 */
  yday: number
  hour: number
  minute: number
  second: number
}

/** Local wall time of a Date (pure: the caller supplies the Date). */
export function wallTimeOf(date: Date): WallTime {
  const startOfYear = new Date(date.getFullYear(), 0, 1)
  const startOfDay = new Date(date.getFullYear(), date.getMonth(), date.getDate())
  const yday = Math.round((startOfDay.getTime() - startOfYear.getTime()) / 86_400_000) + 1
  return {
    unixSec: Math.floor(date.getTime() / 1000),
    year: date.getFullYear(),
    month: date.getMonth() + 1,
    mday: date.getDate(),
    wday: date.getDay() + 1,
    yday,
    hour: date.getHours(),
    minute: date.getMinutes(),
    second: date.getSeconds(),
  }
}

export type PeriodScale = 'year' | 'month' | 'week' | 'yday' | 'mday' | 'wday' | 'hour' | 'minute' | 'second'

export interface PeriodRange {
  from: number
  to: number
}

/** One sub-period: every scale present must match (AND); ranges of one scale are OR-ed. */
export type SubPeriod = Partial<Record<PeriodScale, PeriodRange[]>>

/** `always` = blank spec; `never` = "none"; otherwise sub-periods OR-ed. */
export type TimePeriod = { kind: 'always' } | { kind: 'never' } | { kind: 'spec'; subPeriods: SubPeriod[] }

export type ParsePeriodResult = { ok: true; period: TimePeriod } | { ok: false; reason: string }

const scaleNames: Record<string, PeriodScale> = {
  year: 'year', yr: 'year',
  month: 'month', mo: 'month',
  week: 'week', wk: 'week',
  yday: 'yday', yd: 'yday',
  mday: 'mday', md: 'mday',
  wday: 'wday', wd: 'wday',
  hour: 'hour', hr: 'hour',
  minute: 'minute', min: 'minute',
  second: 'second', sec: 'second',
}

const limits: Record<PeriodScale, [number, number]> = {
  year: [1970, 9999],
  month: [1, 12],
  week: [1, 6],
  yday: [1, 366],
  mday: [1, 31],
  wday: [1, 7],
  hour: [0, 23],
  minute: [0, 59],
  second: [0, 59],
}

const monthNames = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec']
// Time::Period: only the first two letters of a weekday name matter (`Sun` = `su`).
const dayNames = ['su', 'mo', 'tu', 'we', 'th', 'fr', 'sa']

function parseValue(scale: PeriodScale, text: string): number | undefined {
  const t = text.toLowerCase()
  if (scale === 'month' && /^[a-z]{3,}$/.test(t)) {
    const i = monthNames.indexOf(t.slice(0, 3))
    return i < 0 ? undefined : i + 1
  }
  if (scale === 'wday' && /^[a-z]{2,}$/.test(t)) {
    const i = dayNames.indexOf(t.slice(0, 2))
    return i < 0 ? undefined : i + 1
  }
  if (scale === 'hour') {
    if (t === '12noon' || t === '12pm') return 12
    if (t === '12am') return 0
    const m = /^(\d{1,2})(am|pm)$/.exec(t)
    if (m) {
      const h = Number(m[1])
      if (h < 1 || h > 11) return undefined
      return m[2] === 'pm' ? h + 12 : h
    }
  }
  if (!/^\d+$/.test(t)) return undefined
  let n = Number(t)
  // Time::Period: a year of 0..99 is a two-digit year.
  if (scale === 'year' && n <= 99) n += n < 70 ? 2000 : 1900
  const [lo, hi] = limits[scale]
  return n >= lo && n <= hi ? n : undefined
}

/** Parse a Time::Period spec (`wd {Sun-Sat}`, `wd {Mon-Fri} hr {9am-4pm}, wd {Sat}`); never throws. */
export function parseTimePeriod(spec: string): ParsePeriodResult {
  const text = spec.trim()
  if (text === '') return { ok: true, period: { kind: 'always' } }
  if (text.toLowerCase() === 'none') return { ok: true, period: { kind: 'never' } }
  const subPeriods: SubPeriod[] = []
  for (const part of text.split(',')) {
    const sub: SubPeriod = {}
    let rest = part.trim()
    if (rest === '') return { ok: false, reason: 'empty sub-period between commas' }
    while (rest !== '') {
      const m = /^([A-Za-z]+)\s*\{([^{}]*)\}\s*/.exec(rest)
      if (!m) return { ok: false, reason: `expected "scale {range ...}" at ${JSON.stringify(rest)}` }
      const scale = scaleNames[(m[1] ?? '').toLowerCase()]
      if (scale === undefined) return { ok: false, reason: `unknown scale ${JSON.stringify(m[1])}` }
      const words = (m[2] ?? '').trim().split(/\s+/).filter((w) => w !== '')
      if (words.length === 0) return { ok: false, reason: `no range in ${JSON.stringify(m[0].trim())}` }
      const ranges = sub[scale] ?? []
      for (const w of words) {
        const dash = w.indexOf('-')
        const fromText = dash < 0 ? w : w.slice(0, dash)
        const toText = dash < 0 ? w : w.slice(dash + 1)
        const from = parseValue(scale, fromText)
        const to = parseValue(scale, toText)
        if (from === undefined || to === undefined) return { ok: false, reason: `bad ${scale} range ${JSON.stringify(w)}` }
        if (scale === 'year' && from > to) return { ok: false, reason: `year range ${JSON.stringify(w)} goes backwards (years do not wrap)` }
        ranges.push({ from, to })
      }
      // Time::Period: a repeated scale extends the ranges of the same scale.
      sub[scale] = ranges
      rest = rest.slice(m[0].length)
    }
    subPeriods.push(sub)
  }
  return { ok: true, period: { kind: 'spec', subPeriods } }
}

/** Week of the month, 1..6, weeks starting on Sunday. */
function weekOfMonth(w: WallTime): number {
  const firstWday0 = (((w.wday - 1 - (w.mday - 1)) % 7) + 7) % 7
  return Math.floor((w.mday - 1 + firstWday0) / 7) + 1
}

function valueOf(scale: PeriodScale, w: WallTime): number {
  switch (scale) {
    case 'year': return w.year
    case 'month': return w.month
    case 'week': return weekOfMonth(w)
    case 'yday': return w.yday
    case 'mday': return w.mday
    case 'wday': return w.wday
    case 'hour': return w.hour
    case 'minute': return w.minute
    case 'second': return w.second
  }
}

// Time::Period: ranges are inclusive; `from > to` wraps around (except years, refused at parse).
function inRange(v: number, r: PeriodRange): boolean {
  return r.from <= r.to ? v >= r.from && v <= r.to : v >= r.from || v <= r.to
}

export function inPeriod(period: TimePeriod, w: WallTime): boolean {
  if (period.kind === 'always') return true
  if (period.kind === 'never') return false
  return period.subPeriods.some((sub) =>
    (Object.keys(sub) as PeriodScale[]).every((scale) => (sub[scale] ?? []).some((r) => inRange(valueOf(scale, w), r))),
  )
}
