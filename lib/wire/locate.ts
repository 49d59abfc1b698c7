// Finds what a datagram's signature covers and where the signature is, walking only lengths (netstring)
// or line ends (classic): no field is decoded, copied or allocated before the HMAC is checked (issue 10).
import { excerpt, failure } from './decode-error.js'
import type { DecodeFailure } from './decode-error.js'
import { MAX_DIGEST_TOKEN } from './auth-value.js'
import { NETSTRING_END, NETSTRING_START, isPrefixOf, peelNetstring } from './netstring.js'
import { CLASSIC_END, CLASSIC_START, classicStartProblem } from './classic.js'

/**
 * At most this many fields per message. 3.0.6 itself has no count limit (cl_msg.c grows its arrays 30
 * at a time), but it sends one message per datagram: 65507 bytes hold at most ~8,180 netstring fields
 * (`5:(0)a=,` is the smallest). Classic lines can be shorter (`a=\n`), so the cap bites there only.
 */
export const MAX_FIELDS = 8192

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
  fieldCount: number
  /** What the `auth` field signs, taken from the lines as sent: every non-auth line plus `\n`, blank lines skipped. */
  signed: Uint8Array
  /** The value of the last `auth` line (DC3 read as newline), or undefined when there is none. */
  auth: { value: string; isString: boolean } | undefined
  /** False when the text stopped without a `<<<` line. */
  sawEnd: boolean
}

export type Located = LocatedNetstring | LocatedClassic | DecodeFailure

const LF = 0x0a
const CR = 0x0d
const EQUAL = 0x3d
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
 * `>>>\n`, then line ends, `=` and CR positions only (the structure string2msg_ll rejects), the last
 * `auth` line, and the signed text cut from the lines as sent. Each byte is looked at once.
 */
export function locateClassic(buf: Buffer): LocatedClassic | DecodeFailure {
  const n = buf.length
  const startProblem = classicStartProblem(buf)
  if (startProblem) return startProblem
  // A C string ends at its first NUL (the reader appends one): the text is buf[0, end).
  const nul = buf.indexOf(0, CLASSIC_START.length)
  const end = nul < 0 ? n : nul
  // Signed runs [start, stop) of the datagram, plus whether a `\n` not in the datagram follows the run.
  const runStart: number[] = []
  const runStop: number[] = []
  let signedBytes = 0
  let extraNewline = false
  let auth: { start: number; stop: number; isString: boolean } | undefined
  let fieldCount = 0
  let sawEnd = false
  let sp = CLASSIC_START.length
  for (;;) {
    if (sp >= end) break
    if (markerAt(buf, sp, end, CLASSIC_END)) {
      sawEnd = true
      break
    }
    while (sp < end && (buf[sp] === CR || buf[sp] === LF)) sp++
    if (markerAt(buf, sp, end, CLASSIC_END)) {
      sawEnd = true
      break
    }
    if (sp >= end) {
      // §14.1: a missing `<<<` is tolerated only when the data ends right after a value.
      return failure(
        sp >= n ? 'truncated' : 'bad-field',
        sp >= n
          ? 'truncated: the classic text ends with a newline but no "<<<" line (heartbeat 3.0.6 rejects this)'
          : `a NUL byte at byte ${sp} starts a line (heartbeat 3.0.6 rejects this)`,
      )
    }
    // One pass over the line in JS: a native indexOf per short line costs more than the bytes.
    let lineEnd = sp
    let eq = -1
    let cr = -1
    for (; lineEnd < end; lineEnd++) {
      const c = buf[lineEnd] as number
      if (c === LF) break
      if (c === EQUAL) {
        if (eq < 0) eq = lineEnd
      } else if (c === CR && cr < 0) cr = lineEnd
    }
    if (eq < 0) return failure('bad-field', `line at byte ${sp} has no '=': ${excerpt(buf.subarray(sp, lineEnd))}`)
    if (cr >= 0) {
      const line = excerpt(buf.subarray(sp, lineEnd))
      if (cr < eq) return failure('bad-field', `line at byte ${sp} has a CR in its name: ${line}`)
      return failure('bad-value', `line at byte ${sp} has a CR in its value (heartbeat 3.0.6 would read the rest as another field): ${line}`)
    }
    if (++fieldCount > MAX_FIELDS) return tooMany()
    const nameLen = eq - sp
    const plainAuth = nameLen === 4 && markerAt(buf, sp, eq, AUTH)
    // `(N)auth`: a typed field named auth; the signature skips it too, and it cannot be the signature.
    const typedAuth = nameLen === 7 && buf[sp] === 0x28 && buf[sp + 2] === 0x29 && markerAt(buf, sp + 3, eq, AUTH)
    if (plainAuth || typedAuth) {
      auth = { start: eq + 1, stop: lineEnd, isString: plainAuth }
    } else {
      // The line and its `\n`: in the datagram when the line ended at a newline, added otherwise.
      const hasNewline = lineEnd < end
      const stop = hasNewline ? lineEnd + 1 : lineEnd
      const last = runStop.length - 1
      if (last >= 0 && runStop[last] === sp) runStop[last] = stop
      else {
        runStart.push(sp)
        runStop.push(stop)
      }
      signedBytes += stop - sp
      if (!hasNewline) extraNewline = true
    }
    sp = lineEnd
  }
  return { ok: true, format: 'classic', fieldCount, signed: gather(buf, runStart, runStop, signedBytes, extraNewline), auth: auth && authValue(buf, auth), sawEnd }
}

const AUTH = Buffer.from('auth', 'latin1')

function authValue(buf: Buffer, at: { start: number; stop: number; isString: boolean }): { value: string; isString: boolean } {
  const raw = buf.subarray(at.start, at.stop)
  // §1.3: DC3 in a string value is a newline; "%d %s" reads that as a blank.
  const value = raw.includes(DC3) ? raw.toString('latin1').replaceAll('\x13', '\n') : raw.toString('latin1')
  return { value, isString: at.isString }
}

/** The signed text: one slice of the datagram when the lines are contiguous (what every sender writes), else a copy. */
function gather(buf: Buffer, starts: number[], stops: number[], total: number, extraNewline: boolean): Uint8Array {
  if (starts.length === 1 && !extraNewline) return buf.subarray(starts[0], stops[0])
  if (starts.length === 0 && !extraNewline) return buf.subarray(0, 0)
  const out = Buffer.allocUnsafe(total + (extraNewline ? 1 : 0))
  let o = 0
  for (let r = 0; r < starts.length; r++) {
    const s = starts[r] as number
    const e = stops[r] as number
    // Short runs by hand: a native copy per 3-byte line would cost more than the bytes.
    if (e - s < 32) for (let i = s; i < e; i++) out[o++] = buf[i] as number
    else o += buf.copy(out, o, s, e)
  }
  // Only the last line can end without a newline (at the end of the text).
  if (extraNewline) out[o++] = LF
  return out.subarray(0, o)
}
