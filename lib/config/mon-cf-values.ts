// mon.cf values: time values, counts, exit ranges and program lines, each reporting its own problem.

import { quote } from './diagnostics.js'
import type { LogicalLine } from './mon-cf-lines.js'
import type { ExitRange, MonAlert, MonCommand } from './mon-cf.js'
import { repairDashes, splitWords } from './mon-words.js'

/** Where a mon.cf reader reports problems. */
export interface Report {
  err(line: number, message: string): void
  warn(line: number, message: string): void
}

export type TimevalResult = { ok: true; ms: number } | { ok: false }

/** mon's dhmstos: a number with an optional fraction and one unit letter s|m|h|d; a bare number is refused. */
export function parseTimeval(text: string): TimevalResult {
  const m = /^\s*(\d+(?:\.\d*)?|\.\d+)([smhd])\s*$/i.exec(text)
  if (!m) return { ok: false }
  const unit = (m[2] ?? 's').toLowerCase()
  const factor = unit === 's' ? 1000 : unit === 'm' ? 60_000 : unit === 'h' ? 3_600_000 : 86_400_000
  return { ok: true, ms: Math.round(Number(m[1]) * factor) }
}

export function timeval(r: Report, line: number, keyword: string, value: string, allowZero = false): number | undefined {
  const t = parseTimeval(value)
  if (!t.ok) {
    const bare = /^\s*\d+(\.\d*)?\s*$/.test(value)
    r.err(line, `${keyword}: ${quote(value)} is not a time value${bare ? ' (mon needs a unit: 5s, 1m, 2h, 1d)' : ' (use e.g. 5s, 1m, 2h, 1d)'}`)
    return undefined
  }
  if (!allowZero && t.ms === 0) {
    r.err(line, `${keyword}: ${quote(value)} must be greater than zero`)
    return undefined
  }
  return t.ms
}

export function count(r: Report, line: number, keyword: string, value: string, min: number): number | undefined {
  if (!/^\d+$/.test(value.trim()) || Number(value) < min) {
    r.err(line, `${keyword}: ${quote(value)} is not ${min === 0 ? 'a non-negative' : 'a positive'} integer`)
    return undefined
  }
  return Number(value)
}

export function exitRange(r: Report, line: number, keyword: string, value: string): ExitRange | undefined {
  const m = /^(\d+)(?:-(\d+))?$/.exec(value.trim())
  if (!m) {
    r.err(line, `${keyword}: bad exit range ${quote(value)} (use N or N-M)`)
    return undefined
  }
  const from = Number(m[1])
  const to = m[2] === undefined ? from : Number(m[2])
  return { from, to }
}

/** A program and its arguments, split as mon's quotewords does, dash look-alikes repaired. */
export function command(r: Report, ll: LogicalLine, keyword: string, rest: string): MonCommand | undefined {
  const split = splitWords(rest)
  if (!split.ok) {
    r.err(ll.line, `${keyword}: ${split.reason} in ${quote(ll.text)}`)
    return undefined
  }
  const [name, ...args] = split.words
  if (name === undefined || name === '') {
    r.err(ll.line, `${keyword} needs a program name`)
    return undefined
  }
  const fixed = repairDashes(args)
  for (const f of fixed.repairs) {
    r.warn(ll.line, `${keyword} argument ${quote(f.original)} starts with an ${f.what}, not "-"; read as ${quote(f.repaired)}`)
  }
  return { name, args: fixed.words, line: ll.line, text: ll.text }
}

/** `alert [exit=N[-M]] program args...`. */
export function alertLine(r: Report, ll: LogicalLine, keyword: string, rest: string): MonAlert | undefined {
  let range: ExitRange | undefined
  const m = /^exit=(\S*)\s*(.*)$/.exec(rest)
  if (m) {
    range = exitRange(r, ll.line, keyword, m[1] ?? '')
    if (range === undefined) return undefined
    rest = m[2] ?? ''
  }
  const c = command(r, ll, keyword, rest)
  if (c === undefined) return undefined
  return range === undefined ? c : { ...c, exitRange: range }
}
