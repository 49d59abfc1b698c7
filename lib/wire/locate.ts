// Finds what a datagram's signature covers and where the signature is, walking only lengths (netstring)
// or line ends (classic): no field is decoded, copied or allocated before the HMAC is checked (issue 10).
import { excerpt, failure } from './decode-error.js'
import type { DecodeFailure } from './decode-error.js'
import { MAX_DIGEST_TOKEN } from './auth-value.js'
import { NETSTRING_END, NETSTRING_START, isPrefixOf, peelNetstring } from './netstring.js'
import { CLASSIC_START, classicStartProblem } from './classic.js'
import { MAX_FIELDS } from './message.js'

export { MAX_FIELDS } from './message.js'

export interface LocatedNetstring {
  ok: true
  format: 'netstring'
  /** Top-level fields counted on the way (not yet parsed). */
  fieldCount: number
  /** The signed bytes: `###\n` through `%%%\n`. */
  body: Uint8Array
  /** The trailer payload (`N digest`), or undefined when the packet ends after `%%%\n`. */
  trailer: string | undefined
}

export interface LocatedClassic {
  ok: true
  format: 'classic'
  /** What the `auth` field signs, taken from the lines as sent: every non-auth line plus `\n`, blank lines skipped. */
  signed: Uint8Array
  /** The value of the last `auth` line (DC3 read as newline), or undefined when there is none. */
  auth: { value: string; isString: boolean } | undefined
  /** False when the text stopped without a `<<<` line. */
  sawEnd: boolean
}

export type Located = LocatedNetstring | LocatedClassic | DecodeFailure

const LF = 0x0a
const DC3 = 0x13
const COLON = 0x3a
const COMMA = 0x2c
// netstring.ts peels at most 9 digits; a 10th digit is an "absurd length".
const MAX_LENGTH_DIGITS = 9

function markerAt(buf: Uint8Array, at: number, end: number, marker: Uint8Array): boolean {
  if (end - at < marker.length) return false
  for (let i = 0; i < marker.length; i++) if (buf[at + i] !== marker[i]) return false
  return true
}

function tooMany(): DecodeFailure {
  return failure('oversize', `more than ${MAX_FIELDS} fields: more than a 3.0.6 peer puts in one datagram`)
}

/**
 * Where the netstring at `at` ends (just past its `,`), or -1 when peelNetstring would refuse it:
 * the same rules without building a result per field (thousands of fields fit in one datagram).
 */
function skipNetstring(buf: Uint8Array, at: number, end: number): number {
  let i = at
  let len = 0
  for (; i < end && i - at < MAX_LENGTH_DIGITS; i++) {
    const c = buf[i] as number
    if (c < 0x30 || c > 0x39) break
    len = len * 10 + (c - 0x30)
  }
  if (i === at || i >= end || buf[i] !== COLON || (i - at > 1 && buf[at] === 0x30)) return -1
  const comma = i + 1 + len
  return comma < end && buf[comma] === COMMA ? comma + 1 : -1
}

/** `###\n`, then field lengths only, up to `%%%\n` and the trailer (the framing cl_netstring.c checks). */
export function locateNetstring(buf: Buffer): LocatedNetstring | DecodeFailure {
  const n = buf.length
  if (!markerAt(buf, 0, n, NETSTRING_START)) {
    if (isPrefixOf(buf, 0, n, NETSTRING_START)) return failure('truncated', `truncated: ${n} bytes, inside the start marker`)
    return failure('bad-start', `not a heartbeat message: starts with neither ">>>\\n" nor "###\\n": ${excerpt(buf)}`)
  }
  let sp = NETSTRING_START.length
  let fieldCount = 0
  for (;;) {
    if (sp >= n) return failure('truncated', `truncated: the data ends after ${fieldCount} fields, before the "%%%\\n" end marker`)
    if (markerAt(buf, sp, n, NETSTRING_END)) break
    if (isPrefixOf(buf, sp, n, NETSTRING_END)) return failure('truncated', 'truncated: the data ends inside the "%%%\\n" end marker')
    if (fieldCount >= MAX_FIELDS) return tooMany()
    const next = skipNetstring(buf, sp, n)
    // The full peel again, only to say what is wrong.
    if (next < 0) return peelNetstring(buf, sp, n, `field ${fieldCount + 1}`) as DecodeFailure
    fieldCount++
    sp = next
  }
  const bodyEnd = sp + NETSTRING_END.length
  const body = buf.subarray(0, bodyEnd)
  const rest = n - bodyEnd
  // The read side appends a NUL (§1.1); a lone NUL after `%%%\n` is still "no trailer".
  if (rest === 0 || (rest === 1 && buf[bodyEnd] === 0)) return { ok: true, format: 'netstring', fieldCount, body, trailer: undefined }
  const peeled = peelNetstring(buf, bodyEnd, n, 'the authentication trailer')
  if (!peeled.ok) return peeled
  // cl_netstring.c copies the trailer into a MAXLINE buffer.
  if (peeled.dataEnd - peeled.dataStart > MAX_DIGEST_TOKEN + 3) {
    return failure('bad-auth', `the authentication trailer is ${peeled.dataEnd - peeled.dataStart} bytes long, more than heartbeat reads`)
  }
  // Bytes after the trailer are ignored (§1.4).
  return { ok: true, format: 'netstring', fieldCount, body, trailer: buf.toString('latin1', peeled.dataStart, peeled.dataEnd) }
}

/**
 * At most this many blank-line runs and auth lines in a classic datagram. 3.0.6 skips any number of
 * blank lines, but no heartbeat writes one; each costs a native search, so a forger gets a few, not thousands.
 */
export const MAX_CLASSIC_IRREGULAR = 32
/** A blank-line run longer than this is refused (checked byte by byte, so it is kept short). */
const MAX_BLANK_RUN = 64

/**
 * Every place the classic signed text is not the lines as they stand: a blank line, an `auth` or
 * `(N)auth` line, the `<<<` line. One compiled regex over the text (a native scan) finds them all.
 */
const IRREGULAR = /\n(?:\n|auth=|\(\d\)auth=|<<<\n)/g

/**
 * `>>>\n`, then the places listed by IRREGULAR, found in one native scan, never by a walk over the
 * lines: a forged datagram costs that scan and one HMAC. The signed text is cut from the lines as
 * sent (what every sender signs); the lines are judged by parseClassicText once the signature verifies.
 */
export function locateClassic(buf: Buffer): LocatedClassic | DecodeFailure {
  const n = buf.length
  const startProblem = classicStartProblem(buf)
  if (startProblem) return startProblem
  // A C string ends at its first NUL (the reader appends one).
  const nul = buf.indexOf(0, CLASSIC_START.length)
  const end = nul < 0 ? n : nul
  // From the newline of `>>>\n` (byte 3): it ends a virtual line before the first one.
  const text = buf.toString('latin1', 3, end)
  // Byte ranges of [3, textEnd) left out of the signed text: byte 3, surplus newlines, auth lines.
  const cuts: Array<[number, number]> = [[3, 4]]
  let irregular = 0
  let auth: { start: number; stop: number; isString: boolean } | undefined
  let textEnd = end
  let sawEnd = false
  const lineStop = (start: number): number => {
    const lf = buf.indexOf(LF, start)
    return lf < 0 || lf >= end ? end : lf
  }
  IRREGULAR.lastIndex = 0
  for (let m = IRREGULAR.exec(text); m; m = IRREGULAR.exec(text)) {
    const at = m.index + 3
    const kind = buf[at + 1]
    if (kind === 0x3c) {
      sawEnd = true
      textEnd = at + 1
      break
    }
    if (++irregular > MAX_CLASSIC_IRREGULAR) {
      return failure('bad-field', `more than ${MAX_CLASSIC_IRREGULAR} blank lines or auth lines: no heartbeat writes these, and each costs work before the signature is known`)
    }
    if (kind === LF) {
      let runEnd = at + 1
      while (runEnd < end && buf[runEnd] === LF) {
        if (runEnd - at > MAX_BLANK_RUN) return failure('bad-field', `more than ${MAX_BLANK_RUN} blank lines in a row at byte ${at}`)
        runEnd++
      }
      cuts.push([at + 1, runEnd])
      // Resume at the run's last newline: the line after it may be an auth or `<<<` line.
      IRREGULAR.lastIndex = runEnd - 1 - 3
      continue
    }
    // An auth line: `auth=…` (the signature) or `(N)auth=…` (a typed field the signature skips too).
    const stop = lineStop(at + 1)
    cuts.push([at + 1, stop < end ? stop + 1 : stop])
    auth = kind === 0x28 ? { start: at + 1 + '(0)auth='.length, stop, isString: false } : { start: at + 1 + 'auth='.length, stop, isString: true }
  }
  if (!sawEnd && textEnd > CLASSIC_START.length && buf[textEnd - 1] === LF) {
    // §14.1: a missing `<<<` is tolerated only when the data ends right after a value.
    return textEnd >= n
      ? failure('truncated', 'truncated: the classic text ends with a newline but no "<<<" line (heartbeat 3.0.6 rejects this)')
      : failure('bad-field', `a NUL byte at byte ${textEnd} starts a line (heartbeat 3.0.6 rejects this)`)
  }
  return { ok: true, format: 'classic', signed: signedText(buf, textEnd, cuts), auth: auth && authValue(buf, auth), sawEnd }
}

/** [3, textEnd) without the cut ranges, ending in a newline (the last line may stop without one). */
function signedText(buf: Buffer, textEnd: number, cuts: Array<[number, number]>): Uint8Array {
  cuts.sort((a, b) => a[0] - b[0])
  const keep: Array<[number, number]> = []
  let from = 3
  for (const [s, e] of cuts) {
    if (s > from) keep.push([from, s])
    if (e > from) from = e
  }
  if (textEnd > from) keep.push([from, textEnd])
  const lastKept = keep[keep.length - 1]
  const needsNewline = lastKept !== undefined && buf[lastKept[1] - 1] !== LF
  if (keep.length === 1 && !needsNewline && lastKept) return buf.subarray(lastKept[0], lastKept[1])
  const parts = keep.map(([s, e]) => buf.subarray(s, e))
  if (needsNewline) parts.push(NEWLINE)
  return Buffer.concat(parts)
}

const NEWLINE = Buffer.from('\n', 'latin1')

function authValue(buf: Buffer, at: { start: number; stop: number; isString: boolean }): { value: string; isString: boolean } {
  const raw = buf.subarray(at.start, at.stop)
  // §1.3: DC3 in a string value is a newline; "%d %s" reads that as a blank.
  const value = raw.includes(DC3) ? raw.toString('latin1').replaceAll('\x13', '\n') : raw.toString('latin1')
  return { value, isString: at.isString }
}
