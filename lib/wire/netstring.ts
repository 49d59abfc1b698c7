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
  const text = typeof name === 'string' ? name : Buffer.from(name).toString('latin1')
  if (text.length === 0) return 'an empty field name'
  if (text.includes('=')) return `a field name containing '=' (${JSON.stringify(text)})`
  if (text.includes('\0')) return `a field name containing a NUL byte (${JSON.stringify(text)})`
  if (text.startsWith('>>>\n')) return `a field name starting with ">>>\\n" (${JSON.stringify(text)})`
  // Names travel as bytes; a character above U+00FF has no single-byte form.
  if (/[^\x00-\xff]/.test(text)) return `a field name with a character outside Latin-1 (${JSON.stringify(text)})`
  return undefined
}

export interface ParsedMessage {
  ok: true
  fields: Field[]
  /** Index just past `%%%\n`. */
  end: number
}

/** One field payload `(N)name=value` (cl_netstring.c process_netstring_nvpair). */
function parseField(buf: Uint8Array, start: number, end: number, depth: number): { ok: true; field: Field } | DecodeFailure {
  const payload = buf.subarray(start, end)
  // 3.0.6 assert()s on these and the receiving process aborts (§1.4); we refuse the packet instead.
  if (payload.length < 3 || payload[0] !== 0x28 || payload[2] !== 0x29 || (payload[1] as number) < 0x30 || (payload[1] as number) > 0x39) {
    return failure(
      'bad-field',
      `field at byte ${start} does not start with a "(N)" type prefix (heartbeat 3.0.6 aborts on this): ${excerpt(payload)}`,
    )
  }
  const digit = (payload[1] as number) - 0x30
  if (digit > 5) {
    return failure('bad-type', `field at byte ${start} has type ${digit}; only 0..5 exist (3.0.6 would index past its type table): ${excerpt(payload)}`)
  }
  const type = digit as FieldType
  const eq = payload.indexOf(EQUAL, 3)
  if (eq < 0) return failure('bad-field', `field at byte ${start} has no '=' between name and value: ${excerpt(payload)}`)
  const nameBytes = payload.subarray(3, eq)
  const problem = nameProblem(nameBytes)
  if (problem) return failure('bad-field', `field at byte ${start} has ${problem}`)
  const name = Buffer.from(nameBytes).toString('latin1')
  const value = Buffer.from(payload.subarray(eq + 1))
  if (type === 0 && value.includes(0)) {
    return failure('bad-value', `string field "${name}" at byte ${start} contains a NUL byte`)
  }
  if (type === 2) {
    // A struct is a whole nested message; its fields go through the same checks (3.0.6 asserts on them too).
    if (depth + 1 >= MAX_STRUCT_DEPTH) return failure('bad-value', `struct field "${name}" nests deeper than ${MAX_STRUCT_DEPTH} levels`)
    const inner = parseNetstringMessage(value, 0, value.length, depth + 1)
    if (!inner.ok) return failure('bad-value', `struct field "${name}" at byte ${start}: ${inner.reason}`)
    if (inner.end !== value.length) return failure('bad-value', `struct field "${name}" at byte ${start} has bytes after its "%%%\\n"`)
  }
  return { ok: true, field: { name, type, value } }
}

/** Fields from `###\n` through `%%%\n` (cl_netstring.c netstring2msg_rec). */
export function parseNetstringMessage(buf: Uint8Array, start: number, end: number, depth = 0): ParsedMessage | DecodeFailure {
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
    const peeled = peelNetstring(buf, sp, end, `field ${fields.length + 1}`)
    if (!peeled.ok) return peeled
    const parsed = parseField(buf, peeled.dataStart, peeled.dataEnd, depth)
    if (!parsed.ok) return parsed
    fields.push(parsed.field)
    sp = peeled.next
  }
}

/** `###\n` + `LEN:(T)name=value,` per field + `%%%\n`, exactly as cl_netstring.c writes it. No checks. */
export function encodeNetstringMessage(fields: readonly Field[]): Buffer {
  const parts: Buffer[] = [NETSTRING_START]
  for (const f of fields) {
    const head = `(${f.type})${f.name}=`
    const len = Buffer.byteLength(head, 'latin1') + f.value.length
    parts.push(Buffer.from(`${len}:${head}`, 'latin1'), f.value, Buffer.from(',', 'latin1'))
  }
  parts.push(NETSTRING_END)
  return Buffer.concat(parts)
}

/** `LEN:payload,`: the authentication trailer's framing. */
export function encodeNetstring(payload: string): Buffer {
  return Buffer.from(`${Buffer.byteLength(payload, 'latin1')}:${payload},`, 'latin1')
}
