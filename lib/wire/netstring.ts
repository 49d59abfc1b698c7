// cluster-glue's netstring message form (`###\n` fields `%%%\n`), parsed strictly by length, and its encoder.
import type { Field, FieldType } from './message.js'
import { excerpt, failure } from './decode-error.js'
import type { DecodeFailure } from './decode-error.js'

export const NETSTRING_START = Buffer.from('###\n', 'latin1')
export const NETSTRING_END = Buffer.from('%%%\n', 'latin1')

// cl_msg.h MAXDEPTH: how deep struct fields may nest.
export const MAX_STRUCT_DEPTH = 10
// No real length comes near this; it keeps the arithmetic exact.
const MAX_LENGTH_DIGITS = 9

const COLON = 0x3a
const COMMA = 0x2c
const EQUAL = 0x3d

export interface Peeled {
  ok: true
  dataStart: number
  dataEnd: number
  /** Index just past the closing `,`. */
  next: number
}

function startsWith(buf: Uint8Array, at: number, end: number, marker: Uint8Array): boolean {
  if (end - at < marker.length) return false
  for (let i = 0; i < marker.length; i++) if (buf[at + i] !== marker[i]) return false
  return true
}

/** True when buf[at..end) is a proper, non-empty prefix of `marker` (the data stops inside it). */
export function isPrefixOf(buf: Uint8Array, at: number, end: number, marker: Uint8Array): boolean {
  const n = end - at
  if (n <= 0 || n >= marker.length) return false
  for (let i = 0; i < n; i++) if (buf[at + i] !== marker[i]) return false
  return true
}

/**
 * One `LEN:data,` at `at`. cl_netstring.c peel_netstring: the byte after the declared
 * length must be `,`. Stricter than 3.0.6 on purpose: no leading zeros (3.0.6 never writes
 * them) and nothing between the digits and `:`, so what we accept re-encodes to the same bytes.
 */
export function peelNetstring(buf: Uint8Array, at: number, end: number, what: string): Peeled | DecodeFailure {
  let i = at
  let len = 0
  while (i < end && i - at <= MAX_LENGTH_DIGITS) {
    const c = buf[i] as number
    if (c < 0x30 || c > 0x39) break
    len = len * 10 + (c - 0x30)
    i++
  }
  const digits = i - at
  if (i >= end) return failure('truncated', `truncated: the data ends inside the length of ${what} at byte ${at}`)
  if (digits === 0) {
    return failure('bad-length', `${what} at byte ${at} does not start with a decimal length: ${excerpt(buf.subarray(at, end))}`)
  }
  if (digits > MAX_LENGTH_DIGITS) return failure('bad-length', `${what} at byte ${at} declares an absurd length (${digits}+ digits)`)
  if (digits > 1 && buf[at] === 0x30) {
    return failure('bad-length', `${what} at byte ${at} has a length with a leading zero: ${excerpt(buf.subarray(at, i + 1))}`)
  }
  if (buf[i] !== COLON) {
    return failure('bad-length', `${what} at byte ${at}: expected ':' after the length ${len}, found ${excerpt(buf.subarray(i, i + 1))}`)
  }
  const dataStart = i + 1
  const dataEnd = dataStart + len
  if (dataEnd >= end) {
    return failure(
      'truncated',
      `truncated: ${what} at byte ${at} declares ${len} bytes plus ',' but only ${Math.max(0, end - dataStart)} bytes follow`,
    )
  }
  if (buf[dataEnd] !== COMMA) {
    return failure(
      'bad-length',
      `${what} at byte ${at}: the byte after its ${len} declared bytes is ${excerpt(buf.subarray(dataEnd, dataEnd + 1))}, not ','`,
    )
  }
  return { ok: true, dataStart, dataEnd, next: dataEnd + 1 }
}

/**
 * Name rules both encodings share (cl_msg.c: names are non-empty, `=`-free C strings; ha_msg_addraw_ll
 * refuses a name that starts with the whole `>>>\n` marker, and the classic probe saw 3.0.6 act on `>>>info=…`).
 */
export function nameProblem(name: Uint8Array | string): string | undefined {
  // Hot path (every field of every packet both ways): one pass over the characters, no string built.
  if (typeof name === 'string' ? plainName(name) : plainNameBytes(name)) return undefined
  const text = typeof name === 'string' ? name : Buffer.from(name).toString('latin1')
  if (text.length === 0) return 'an empty field name'
  if (text.includes('=')) return `a field name containing '=' (${JSON.stringify(text)})`
  if (text.includes('\0')) return `a field name containing a NUL byte (${JSON.stringify(text)})`
  if (text.startsWith('>>>\n')) return `a field name starting with ">>>\\n" (${JSON.stringify(text)})`
  // Names travel as bytes; a character above U+00FF has no single-byte form.
  if (/[^\x00-\xff]/.test(text)) return `a field name with a character outside Latin-1 (${JSON.stringify(text)})`
  return undefined
}

/** A name nameProblem has nothing against: non-empty, Latin-1, no `=` or NUL, not `>>>…`. */
function plainName(s: string): boolean {
  const n = s.length
  if (n === 0 || (n >= 3 && s.charCodeAt(0) === 0x3e && s.charCodeAt(1) === 0x3e && s.charCodeAt(2) === 0x3e)) return false
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i)
    if (c === EQUAL || c === 0 || c > 0xff) return false
  }
  return true
}

function plainNameBytes(b: Uint8Array): boolean {
  const n = b.length
  if (n === 0 || (n >= 3 && b[0] === 0x3e && b[1] === 0x3e && b[2] === 0x3e)) return false
  for (let i = 0; i < n; i++) {
    const c = b[i] as number
    if (c === EQUAL || c === 0) return false
  }
  return true
}

export interface ParsedMessage {
  ok: true
  fields: Field[]
  /** Index just past `%%%\n`. */
  end: number
}

/**
 * One field payload `(N)name=value` (cl_netstring.c process_netstring_nvpair) at buf[start, end).
 * `buf` is the decoder's own copy of the datagram: the value is a view of it, not another copy.
 */
function parseField(buf: Buffer, start: number, end: number, depth: number): { ok: true; field: Field } | DecodeFailure {
  // 3.0.6 assert()s on these and the receiving process aborts (§1.4); we refuse the packet instead.
  const d = buf[start + 1] as number
  if (end - start < 3 || buf[start] !== 0x28 || buf[start + 2] !== 0x29 || d < 0x30 || d > 0x39) {
    return failure(
      'bad-field',
      `field at byte ${start} does not start with a "(N)" type prefix (heartbeat 3.0.6 aborts on this): ${excerpt(buf.subarray(start, end))}`,
    )
  }
  const digit = d - 0x30
  if (digit > 5) {
    return failure('bad-type', `field at byte ${start} has type ${digit}; only 0..5 exist (3.0.6 would index past its type table): ${excerpt(buf.subarray(start, end))}`)
  }
  const type = digit as FieldType
  let eq = start + 3
  while (eq < end && buf[eq] !== EQUAL) eq++
  if (eq >= end) return failure('bad-field', `field at byte ${start} has no '=' between name and value: ${excerpt(buf.subarray(start, end))}`)
  if (!plainNameBytes(buf.subarray(start + 3, eq))) {
    return failure('bad-field', `field at byte ${start} has ${nameProblem(buf.subarray(start + 3, eq)) ?? 'a bad name'}`)
  }
  const name = buf.toString('latin1', start + 3, eq)
  if (type === 0) {
    for (let i = eq + 1; i < end; i++) {
      if (buf[i] === 0) return failure('bad-value', `string field "${name}" at byte ${start} contains a NUL byte`)
    }
  }
  const value = buf.subarray(eq + 1, end)
  if (type === 2) {
    // A struct is a whole nested message; its fields go through the same checks (3.0.6 asserts on them too).
    if (depth + 1 >= MAX_STRUCT_DEPTH) return failure('bad-value', `struct field "${name}" nests deeper than ${MAX_STRUCT_DEPTH} levels`)
    const inner = parseOwnedMessage(value, 0, value.length, depth + 1)
    if (!inner.ok) return failure('bad-value', `struct field "${name}" at byte ${start}: ${inner.reason}`)
    if (inner.end !== value.length) return failure('bad-value', `struct field "${name}" at byte ${start} has bytes after its "%%%\\n"`)
  }
  return { ok: true, field: { name, type, value } }
}

/**
 * Fields from `###\n` through `%%%\n` (cl_netstring.c netstring2msg_rec). The data is copied once,
 * and each field value is a view of that copy: the caller's buffer may be reused afterwards.
 */
export function parseNetstringMessage(buf: Uint8Array, start: number, end: number, depth = 0): ParsedMessage | DecodeFailure {
  return parseOwnedMessage(Buffer.from(buf), start, end, depth)
}

function parseOwnedMessage(buf: Buffer, start: number, end: number, depth: number): ParsedMessage | DecodeFailure {
  if (!startsWith(buf, start, end, NETSTRING_START)) {
    if (isPrefixOf(buf, start, end, NETSTRING_START) || start >= end) return failure('truncated', 'truncated: the data ends inside the "###\\n" start marker')
    return failure('bad-start', `netstring message does not start with "###\\n": ${excerpt(buf.subarray(start, end))}`)
  }
  const fields: Field[] = []
  let sp = start + NETSTRING_START.length
  for (;;) {
    if (sp >= end) return failure('truncated', `truncated: the data ends after ${fields.length} fields, before the "%%%\\n" end marker`)
    if (startsWith(buf, sp, end, NETSTRING_END)) return { ok: true, fields, end: sp + NETSTRING_END.length }
    if (isPrefixOf(buf, sp, end, NETSTRING_END)) return failure('truncated', 'truncated: the data ends inside the "%%%\\n" end marker')
    // peelNetstring's rules inline (no result object per field); it runs only to say what is wrong.
    let i = sp
    let len = 0
    for (; i < end && i - sp < MAX_LENGTH_DIGITS; i++) {
      const c = buf[i] as number
      if (c < 0x30 || c > 0x39) break
      len = len * 10 + (c - 0x30)
    }
    const comma = i + 1 + len
    if (i === sp || i >= end || buf[i] !== COLON || (i - sp > 1 && buf[sp] === 0x30) || comma >= end || buf[comma] !== COMMA) {
      return peelNetstring(buf, sp, end, `field ${fields.length + 1}`) as DecodeFailure
    }
    const parsed = parseField(buf, i + 1, comma, depth)
    if (!parsed.ok) return parsed
    fields.push(parsed.field)
    sp = comma + 1
  }
}

/** Number of decimal digits of a non-negative integer. */
export function decimalDigits(n: number): number {
  let d = 1
  while (n >= 10) {
    n = Math.floor(n / 10)
    d++
  }
  return d
}

/** Write `n` in decimal at `at`; returns the index after it. */
export function putDecimal(buf: Buffer, at: number, n: number): number {
  const end = at + decimalDigits(n)
  for (let i = end - 1; i >= at; i--) {
    buf[i] = 0x30 + (n % 10)
    n = Math.floor(n / 10)
  }
  return end
}

/** Write the Latin-1 string `s` at `at` (names are short: a byte loop beats a native call); returns the index after it. */
export function putLatin1(buf: Buffer, at: number, s: string): number {
  const n = s.length
  if (n > 32) return at + buf.write(s, at, n, 'latin1')
  for (let i = 0; i < n; i++) buf[at + i] = s.charCodeAt(i)
  return at + n
}

/** Bytes of one field `LEN:(T)name=value,`. */
function fieldBytes(f: Field): number {
  const len = 4 + f.name.length + f.value.length
  return decimalDigits(len) + 1 + len + 1
}

/** Bytes encodeNetstringMessage writes for `fields`. */
export function netstringMessageBytes(fields: readonly Field[]): number {
  let n = NETSTRING_START.length + NETSTRING_END.length
  for (const f of fields) n += fieldBytes(f)
  return n
}

/** Write the message at `at` (room checked by the caller with netstringMessageBytes); returns the index after it. */
export function writeNetstringMessage(fields: readonly Field[], buf: Buffer, at: number): number {
  let o = at
  NETSTRING_START.copy(buf, o)
  o += NETSTRING_START.length
  for (const f of fields) {
    o = putDecimal(buf, o, 4 + f.name.length + f.value.length)
    buf[o++] = COLON
    buf[o++] = 0x28
    buf[o++] = 0x30 + f.type
    buf[o++] = 0x29
    o = putLatin1(buf, o, f.name)
    buf[o++] = EQUAL
    buf.set(f.value, o)
    o += f.value.length
    buf[o++] = COMMA
  }
  NETSTRING_END.copy(buf, o)
  return o + NETSTRING_END.length
}

/** `###\n` + `LEN:(T)name=value,` per field + `%%%\n`, exactly as cl_netstring.c writes it. No checks. */
export function encodeNetstringMessage(fields: readonly Field[]): Buffer {
  const out = Buffer.allocUnsafe(netstringMessageBytes(fields))
  writeNetstringMessage(fields, out, 0)
  return out
}

/** `LEN:payload,`: the authentication trailer's framing. */
export function encodeNetstring(payload: string): Buffer {
  return Buffer.from(`${Buffer.byteLength(payload, 'latin1')}:${payload},`, 'latin1')
}
