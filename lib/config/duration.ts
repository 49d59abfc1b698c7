// ha.cf time values as heartbeat reads them (cluster-glue cl_get_msec), with a hint when the text is not one.

import { quote } from './diagnostics.js'

export type DurationResult =
  | { ok: true; ms: number; /** Set when heartbeat accepts the text but ignores part of it. */ note?: string }
  | { ok: false; message: string }

const NUMCHARS = /^[0-9.]*/

/**
 * cl_get_msec: a decimal number (a `.` allowed), directly followed by nothing (seconds),
 * `ms`/`msec` (milliseconds) or `us`/`usec` (microseconds); rounded to the nearest ms.
 * `2s` is refused by heartbeat: we refuse it too, and say what was probably meant.
 */
export function parseDuration(text: string): DurationResult {
  const number = NUMCHARS.exec(text)?.[0] ?? ''
  const units = text.slice(number.length)
  if (number === '' || !/[0-9]/.test(number)) {
    // cl_get_msec needs a digit or '.' first; "." alone reads as 0 but is surely a typo
    return { ok: false, message: `${quote(text)} is not a time (use 2, 500ms or 100us)` }
  }
  // atof reads the longest decimal prefix: "1.2.3" is 1.2
  const decimal = /^[0-9]*\.?[0-9]*/.exec(number)?.[0] ?? number
  const value = Number(decimal === '.' ? '0' : decimal)
  const lower = units.toLowerCase()
  let ms: number
  let rest: string
  // cl_get_msec compares only the first two letters of the unit, case-insensitively
  if (lower.startsWith('ms')) {
    ms = value
    rest = lower.startsWith('msec') ? units.slice(4) : units.slice(2)
  } else if (lower.startsWith('us')) {
    ms = value / 1000
    rest = lower.startsWith('usec') ? units.slice(4) : units.slice(2)
  } else if (units === '') {
    ms = value * 1000
    rest = ''
  } else {
    return { ok: false, message: badUnitMessage(text, value, lower) }
  }
  // cl_get_msec adds 0.5 and truncates
  const rounded = Math.floor(ms + 0.5)
  if (decimal.length < number.length) {
    return { ok: true, ms: rounded, note: `${quote(text)} is read as ${rounded}ms (heartbeat stops at the second ".")` }
  }
  if (rest !== '') {
    return { ok: true, ms: rounded, note: `${quote(text)} is read as ${rounded}ms; heartbeat ignores ${quote(rest)}` }
  }
  return { ok: true, ms: rounded }
}

function badUnitMessage(text: string, value: number, unit: string): string {
  const seconds = secondsPerUnit(unit)
  if (seconds !== undefined) {
    const s = value * seconds
    const asMs = Math.floor(s * 1000 + 0.5)
    return `${quote(text)} is not a time heartbeat accepts (did you mean ${formatNumber(s)} = ${formatNumber(s)} second${s === 1 ? '' : 's'}, or ${asMs}ms?)`
  }
  return `${quote(text)} is not a time (use 2, 500ms or 100us)`
}

function secondsPerUnit(unit: string): number | undefined {
  if (['s', 'sec', 'secs', 'second', 'seconds'].includes(unit)) return 1
  if (['m', 'min', 'mins', 'minute', 'minutes'].includes(unit)) return 60
  if (['h', 'hr', 'hour', 'hours'].includes(unit)) return 3600
  return undefined
}

function formatNumber(n: number): string {
  return Number.isInteger(n) ? String(n) : String(Number(n.toFixed(6)))
}
