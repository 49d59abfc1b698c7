// Splitting config text into lines and ha.cf-style lines into a directive and its values.

import type { Diagnostic } from './diagnostics.js'

export interface SourceLine {
  /** 1-based line number. */
  number: number
  /** The line without its terminating LF. */
  text: string
}

/** heartbeat's WHITESPACE: what separates a directive from its values. */
export const WHITESPACE = ' \t\n\r\f'
/** heartbeat's DELIMS: what separates the values of an option directive (note the comma). */
export const DELIMS = ', \t\n\r\f'
/** fgets(buf, MAXLINE=5120): at most 5119 bytes per read, the LF included. */
export const MAX_LINE_CHARS = 5118

/** Physical lines, numbered from 1. A final LF does not start an extra empty line. */
export function splitLines(text: string): SourceLine[] {
  const parts = text.split('\n')
  if (parts.length > 1 && parts[parts.length - 1] === '') parts.pop()
  return parts.map((t, i) => ({ number: i + 1, text: t }))
}

/** Length of the run at `from` made only of characters in `set` (C strspn). */
export function span(text: string, set: string, from = 0): number {
  let i = from
  while (i < text.length && set.includes(text[i] ?? '')) i++
  return i - from
}

/** Length of the run at `from` made of characters not in `set` (C strcspn). */
export function cspan(text: string, set: string, from = 0): number {
  let i = from
  while (i < text.length && !set.includes(text[i] ?? '')) i++
  return i - from
}

/** Split on any of the characters in `set`, dropping empty pieces. */
export function splitOn(text: string, set: string): string[] {
  const out: string[] = []
  let i = 0
  while (i < text.length) {
    i += span(text, set, i)
    const n = cspan(text, set, i)
    if (n > 0) out.push(text.slice(i, i + n))
    i += n
  }
  return out
}

export interface DirectiveLine {
  line: number
  /** The first word, as written (heartbeat compares it case-sensitively). */
  directive: string
  /** Everything after the directive and the delimiters that follow it: what whole-line directives get. */
  rest: string
  /** `rest` split on blanks and commas: what option directives get, one assignment each. */
  values: string[]
}

/**
 * heartbeat 3.0.6 parse_config lexing: skip leading blanks, a `#` anywhere ends the line,
 * so does the first CR or LF, blank lines are skipped, the directive ends at the first blank.
 */
export function tokenizeDirectives(text: string, path: string): { lines: DirectiveLine[]; diagnostics: Diagnostic[] } {
  const lines: DirectiveLine[] = []
  const diagnostics: Diagnostic[] = []
  for (const { number, text: raw } of splitLines(text)) {
    let body = raw
    if (body.length > MAX_LINE_CHARS) {
      diagnostics.push({
        path,
        line: number,
        severity: 'error',
        message: `line is ${body.length} characters long; heartbeat reads at most ${MAX_LINE_CHARS} and would take the rest as another line`,
      })
      continue
    }
    const nul = body.indexOf('\0')
    if (nul >= 0) {
      // a C string ends at the NUL byte: heartbeat never sees the rest
      diagnostics.push({ path, line: number, severity: 'warning', message: `NUL byte in the line; heartbeat ignores everything after it` })
      body = body.slice(0, nul)
    }
    let start = span(body, WHITESPACE)
    body = body.slice(start)
    const hash = body.indexOf('#')
    if (hash >= 0) body = body.slice(0, hash)
    const crlf = cspan(body, '\r\n')
    body = body.slice(0, crlf)
    if (body === '') continue
    const dirLength = cspan(body, WHITESPACE)
    const directive = body.slice(0, dirLength)
    start = dirLength + span(body, DELIMS, dirLength)
    const rest = body.slice(start)
    lines.push({ line: number, directive, rest, values: splitOn(rest, DELIMS) })
  }
  return { lines, diagnostics }
}
