// cluster-glue's classic text form (`>>>\n` name=value lines `<<<\n`): parser, encoder, signature text.
import type { Field, FieldType, HaMessage } from './message.js'
import { MAX_FIELDS } from './message.js'
import { excerpt, failure } from './decode-error.js'
import type { DecodeFailure } from './decode-error.js'
import { nameProblem, putLatin1 } from './netstring.js'

export const CLASSIC_START = Buffer.from('>>>\n', 'latin1')
export const CLASSIC_END = Buffer.from('<<<\n', 'latin1')

const LF = 0x0a
const CR = 0x0d
const EQUAL = 0x3d
// §1.3: a newline inside a string value travels as DC3.
const DC3 = 0x13

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/

export interface ParsedClassic {
  ok: true
  msg: HaMessage
  /** False when the text stopped without a `<<<` line (tolerated by 3.0.6 only right after a value). */
  sawEnd: boolean
}

function startsWith(buf: Uint8Array, at: number, marker: Uint8Array): boolean {
  if (buf.length - at < marker.length) return false
  for (let i = 0; i < marker.length; i++) if (buf[at + i] !== marker[i]) return false
  return true
}

function typedValue(type: FieldType, name: string, raw: Buffer, at: number): { ok: true; field: Field } | DecodeFailure {
  if (type === 0) {
    const value = Buffer.from(raw)
    for (let i = 0; i < value.length; i++) if (value[i] === DC3) value[i] = LF
    return { ok: true, field: { name, type, value } }
  }
  if (type === 1 || type === 4) {
    // §14.4: base64 must be standard and padded.
    const text = raw.toString('latin1')
    if (!BASE64.test(text)) return failure('bad-value', `field "${name}" at byte ${at} is not standard padded base64: ${excerpt(raw)}`)
    return { ok: true, field: { name, type, value: Buffer.from(text, 'base64') } }
  }
  return failure('bad-type', `field "${name}" at byte ${at} has type ${type}; struct and list fields in classic text are not supported (release 1 never sends them)`)
}

/** Why `buf` does not start as classic text, or undefined when it starts with `>>>\n`. */
export function classicStartProblem(buf: Buffer): DecodeFailure | undefined {
  if (startsWith(buf, 0, CLASSIC_START)) return undefined
  const n = buf.length
  if (n < CLASSIC_START.length && CLASSIC_START.subarray(0, n).equals(buf)) {
    return failure('truncated', 'truncated: the data ends inside the ">>>\\n" start marker')
  }
  // §14.8: `>>>\r\n` is dropped, like anything else that is not `>>>\n`.
  const crlf = buf.subarray(0, 5).toString('latin1') === '>>>\r\n' ? ' (CRLF line ends are not accepted)' : ''
  return failure('bad-start', `classic message does not start with ">>>\\n"${crlf}: ${excerpt(buf)}`)
}

/**
 * Parse classic text (cl_msg.c string2msg_ll) without checking any signature: the FIFO and the
 * packet decoder share it. The end of the data counts as the NUL heartbeat's reader appends.
 * Lines end at a newline only: a CR is an ordinary byte of a name or value, as in 3.0.6's
 * cluster-glue 1.0.12 (the classic probe saw it act on `info=hel\rlo` signed as sent).
 * Where 3.0.6 would read a name across a newline and then the same line again as a field of
 * its own (§14.2), we refuse the message: such a packet can only verify if the sender signed
 * heartbeat's odd re-rendering, which no honest sender does.
 */
export function parseClassicText(data: Uint8Array): ParsedClassic | DecodeFailure {
  const buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength)
  const n = buf.length
  const at = (i: number): number => (i < n ? (buf[i] as number) : 0)
  const startProblem = classicStartProblem(buf)
  if (startProblem) return startProblem
  const fields: Field[] = []
  let sp = CLASSIC_START.length
  for (;;) {
    if (at(sp) === 0) return { ok: true, msg: { fields }, sawEnd: false }
    if (startsWith(buf, sp, CLASSIC_END)) return { ok: true, msg: { fields }, sawEnd: true }
    // string2msg_ll skips newlines only; a CR starts a name.
    while (at(sp) === LF) sp++
    if (startsWith(buf, sp, CLASSIC_END)) return { ok: true, msg: { fields }, sawEnd: true }
    if (at(sp) === 0) {
      // §14.1: a missing `<<<` is tolerated only when the data ends right after a value.
      return failure(
        sp >= n ? 'truncated' : 'bad-field',
        sp >= n
          ? 'truncated: the classic text ends with a newline but no "<<<" line (heartbeat 3.0.6 rejects this)'
          : `a NUL byte at byte ${sp} starts a line (heartbeat 3.0.6 rejects this)`,
      )
    }
    let lineEnd = sp
    while (lineEnd < n && buf[lineEnd] !== LF && buf[lineEnd] !== 0) lineEnd++
    const line = buf.subarray(sp, lineEnd)
    const eq = line.indexOf(EQUAL)
    if (eq < 0) return failure('bad-field', `line at byte ${sp} has no '=': ${excerpt(line)}`)
    const rawName = line.subarray(0, eq)
    const raw = Buffer.from(line.subarray(eq + 1))
    let name = rawName.toString('latin1')
    let type: FieldType = 0
    if (name.startsWith('(')) {
      const m = /^\((\d)\)(.+)$/s.exec(name)
      if (!m) return failure('bad-field', `line at byte ${sp} has a malformed "(N)" type prefix: ${excerpt(line)}`)
      const digit = Number(m[1])
      // §14.3: `(0)` in classic text is an error (`wrong type`): strings carry no prefix.
      if (digit === 0) return failure('bad-type', `line at byte ${sp} has a "(0)" prefix; classic string fields carry none: ${excerpt(line)}`)
      if (digit > 5) return failure('bad-type', `line at byte ${sp} has type ${digit}; only 0..5 exist: ${excerpt(line)}`)
      type = digit as FieldType
      name = m[2] as string
    }
    const problem = nameProblem(name)
    if (problem) return failure('bad-field', `line at byte ${sp} has ${problem}`)
    if (fields.length >= MAX_FIELDS) return failure('oversize', `more than ${MAX_FIELDS} fields: more than a 3.0.6 peer puts in one datagram`)
    const typed = typedValue(type, name, raw, sp)
    if (!typed.ok) return typed
    fields.push(typed.field)
    sp = lineEnd
  }
}

/** One field as classic text renders it, without the newline; undefined for struct/list types. */
function renderField(f: Field): Buffer | undefined {
  if (f.type === 0) {
    const value = Buffer.from(f.value)
    for (let i = 0; i < value.length; i++) if (value[i] === LF) value[i] = DC3
    return Buffer.concat([Buffer.from(`${f.name}=`, 'latin1'), value])
  }
  if (f.type === 1 || f.type === 4) return Buffer.from(`(${f.type})${f.name}=${f.value.toString('base64')}`, 'latin1')
  return undefined
}

/**
 * The bytes the inner `auth` field signs (§1.6a, cl_msg.c msg2string_buf with NOHEAD): every
 * field not named `auth`, rendered as classic text, each followed by `\n`, no `>>>`/`<<<`.
 * Undefined when a field has no classic rendering here (struct/list: 3.0.6 adds no auth field then).
 * Written into one buffer sized up front: every packet we send is signed over this text.
 */
export function classicSignatureText(msg: HaMessage): Buffer | undefined {
  let size = 0
  for (const f of msg.fields) {
    if (f.name === 'auth') continue
    if (f.type === 0) size += f.name.length + 1 + f.value.length + 1
    else if (f.type === 1 || f.type === 4) size += 3 + f.name.length + 1 + 4 * Math.ceil(f.value.length / 3) + 1
    else return undefined
  }
  const out = Buffer.allocUnsafe(size)
  let o = 0
  for (const f of msg.fields) {
    if (f.name === 'auth') continue
    if (f.type === 0) {
      o = putLatin1(out, o, f.name)
      out[o++] = EQUAL
      const v = f.value
      for (let i = 0; i < v.length; i++) {
        const c = v[i] as number
        out[o++] = c === LF ? DC3 : c
      }
    } else {
      out[o++] = 0x28
      out[o++] = 0x30 + f.type
      out[o++] = 0x29
      o = putLatin1(out, o, f.name)
      out[o++] = EQUAL
      o += out.write(Buffer.from(f.value.buffer, f.value.byteOffset, f.value.byteLength).toString('base64'), o, 'latin1')
    }
    out[o++] = LF
  }
  return out
}

/** Why `f` cannot travel as classic text and come back unchanged, or undefined. */
export function classicFieldProblem(f: Field): string | undefined {
  const problem = nameProblem(f.name)
  if (problem) return problem
  if (/[\r\n]/.test(f.name)) return `a field name containing a line break (${JSON.stringify(f.name)})`
  if (f.type === 0 && f.name.startsWith('(')) return `a string field name starting with "(" (${JSON.stringify(f.name)}), read back as a type prefix`
  if (f.type !== 0 && f.type !== 1 && f.type !== 4) return `field "${f.name}" of type ${f.type}: struct and list fields have no classic form here`
  if (f.type === 0) {
    if (f.value.includes(DC3)) return `string field "${f.name}" contains byte 0x13, which classic text cannot carry`
    // 3.0.6 (cluster-glue 1.0.12) keeps a CR in the value; older glue read it as a line end, so we never send one.
    if (f.value.includes(CR)) return `string field "${f.name}" contains a CR, which older heartbeat releases read as a line end`
    if (f.value.includes(0)) return `string field "${f.name}" contains a NUL byte`
  }
  return undefined
}

/** `>>>\n` fields `<<<\n` (no NUL). Throws when a field cannot be represented (see classicFieldProblem). */
export function encodeClassicText(msg: HaMessage): Buffer {
  const parts: Buffer[] = [CLASSIC_START]
  const nl = Buffer.from('\n', 'latin1')
  for (const f of msg.fields) {
    const problem = classicFieldProblem(f)
    if (problem) throw new Error(`cannot encode as classic text: ${problem}`)
    parts.push(renderField(f) as Buffer, nl)
  }
  parts.push(CLASSIC_END)
  return Buffer.concat(parts)
}
