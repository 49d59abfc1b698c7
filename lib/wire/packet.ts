// A heartbeat datagram, both ways: decode + authenticate what peers send, encode + sign what Debian's 3.0.6 sends.
import type { AuthKeys, AuthMethod } from './auth-keys.js'
import type { Field, HaMessage } from './message.js'
import { setField, stringField } from './message.js'
import { computeDigest } from './digest.js'
import { MAX_DIGEST_TOKEN, parseAuthValue } from './auth-value.js'
import { excerpt, failure } from './decode-error.js'
import type { DecodeErrorCode, DecodeFailure } from './decode-error.js'
import {
  NETSTRING_START,
  encodeNetstring,
  encodeNetstringMessage,
  isPrefixOf,
  nameProblem,
  parseNetstringMessage,
  peelNetstring,
} from './netstring.js'
import { CLASSIC_START, classicSignatureText, encodeClassicText, parseClassicText } from './classic.js'

export type { DecodeErrorCode }

/** The largest UDP payload IPv4 can carry; anything bigger did not come off the wire. */
export const MAX_DATAGRAM_BYTES = 65507

export type WireFormat = 'netstring' | 'classic'

export interface PacketAuth {
  /** The authkeys index the signature names. */
  index: number
  method: AuthMethod
  /** Which signature was checked: the netstring trailer, or the classic `auth` field. */
  via: 'trailer' | 'field'
}

export type DecodeResult = { ok: true; msg: HaMessage; format: WireFormat; auth: PacketAuth } | DecodeFailure

/** A datagram taken apart but not yet authenticated (what `hbctl decode` shows even for bad keys). */
export type ParsedDatagram =
  | {
      ok: true
      format: 'netstring'
      msg: HaMessage
      /** The signed bytes: `###\n` through `%%%\n`. */
      body: Uint8Array
      /** The trailer payload (`N digest`), or undefined when the packet ends after `%%%\n`. */
      trailer: string | undefined
    }
  | { ok: true; format: 'classic'; msg: HaMessage; sawEnd: boolean }
  | DecodeFailure

/** Split a datagram into fields without checking signatures. Never throws. */
export function parseDatagram(datagram: Uint8Array): ParsedDatagram {
  const n = datagram.length
  if (n === 0) return failure('empty', 'empty datagram (0 bytes)')
  if (n > MAX_DATAGRAM_BYTES) return failure('oversize', `oversize datagram: ${n} bytes, more than the ${MAX_DATAGRAM_BYTES} a UDP/IPv4 payload can hold`)
  const buf = Buffer.from(datagram.buffer, datagram.byteOffset, datagram.byteLength)
  // §1.8: the first four bytes pick the format; anything else is dropped.
  if (buf[0] === 0x3e) {
    const parsed = parseClassicText(buf)
    if (!parsed.ok) return parsed
    return { ok: true, format: 'classic', msg: parsed.msg, sawEnd: parsed.sawEnd }
  }
  if (buf[0] !== 0x23 || (n >= 4 && !buf.subarray(0, 4).equals(NETSTRING_START))) {
    if (isPrefixOf(buf, 0, n, NETSTRING_START) || isPrefixOf(buf, 0, n, CLASSIC_START)) {
      return failure('truncated', `truncated: ${n} bytes, inside the start marker`)
    }
    return failure('bad-start', `not a heartbeat message: starts with neither ">>>\\n" nor "###\\n": ${excerpt(buf)}`)
  }
  const body = parseNetstringMessage(buf, 0, n)
  if (!body.ok) return body
  const rest = buf.subarray(body.end)
  // The read side appends a NUL (§1.1); a lone NUL after `%%%\n` is still "no trailer".
  if (rest.length === 0 || (rest.length === 1 && rest[0] === 0)) {
    return { ok: true, format: 'netstring', msg: { fields: body.fields }, body: buf.subarray(0, body.end), trailer: undefined }
  }
  const peeled = peelNetstring(buf, body.end, n, 'the authentication trailer')
  if (!peeled.ok) return peeled
  // cl_netstring.c copies the trailer into a MAXLINE buffer.
  if (peeled.dataEnd - peeled.dataStart > MAX_DIGEST_TOKEN + 3) {
    return failure('bad-auth', `the authentication trailer is ${peeled.dataEnd - peeled.dataStart} bytes long, more than heartbeat reads`)
  }
  const trailer = buf.subarray(peeled.dataStart, peeled.dataEnd).toString('latin1')
  // Bytes after the trailer are ignored (§1.4).
  return { ok: true, format: 'netstring', msg: { fields: body.fields }, body: buf.subarray(0, body.end), trailer }
}

function describe(index: number, method: AuthMethod): string {
  return `key index ${index} (${method})`
}

/**
 * Authenticate a parsed datagram with the receiver's key rule: a netstring trailer is checked
 * with the method of the index it names and the key of our active index (§1.6b quirk) or, an
 * extension over 3.0.6, the key of the index it names; a
 * classic `auth` field with the method and key of its index (§14.13), the last `auth` field
 * counting (§14.5). The inner `auth` field of a netstring packet is not checked, as in 3.0.6.
 */
export function verifyParsed(parsed: ParsedDatagram, keys: AuthKeys): DecodeResult {
  if (!parsed.ok) return parsed
  if (parsed.format === 'netstring') {
    if (parsed.trailer === undefined) return failure('no-auth', 'no authentication trailer after "%%%\\n": heartbeat drops unsigned netstring packets')
    const av = parseAuthValue(parsed.trailer)
    if (!av) return failure('bad-auth', `the authentication trailer ${JSON.stringify(parsed.trailer)} is not "<index> <digest>"`)
    const named = keys.keys.get(av.index)
    if (av.index < 0 || av.index > 15 || !named) {
      return failure('unknown-key-index', `the trailer is signed with key index ${av.index}, which authkeys does not configure`)
    }
    const ours = keys.keys.get(keys.active)
    // 3.0.6 checks with our active key only; we also accept the key the packet names, so a
    // key change (auth 1 -> auth 2 on each node in turn) has no window where both sides refuse.
    const verifies = (key: Buffer): boolean => computeDigest(named.method, key, parsed.body) === av.token
    if (!verifies(ours?.key ?? Buffer.alloc(0)) && !(av.index !== keys.active && verifies(named.key))) {
      return failure(
        'bad-signature',
        `the trailer signature does not verify with ${describe(av.index, named.method)}, neither with that key nor with this node's key (auth ${keys.active}): the packet was altered or signed with another key`,
      )
    }
    return { ok: true, msg: parsed.msg, format: 'netstring', auth: { index: av.index, method: named.method, via: 'trailer' } }
  }
  const authFields = parsed.msg.fields.filter((f) => f.name === 'auth')
  const last = authFields[authFields.length - 1]
  const hint = parsed.sawEnd ? '' : ' (the text has no "<<<" end line: truncated?)'
  if (!last) return failure('no-auth', `classic message has no "auth" field${hint}`)
  if (last.type !== 0) return failure('bad-auth', `the "auth" field is not a string field${hint}`)
  const value = last.value.toString('latin1')
  const av = parseAuthValue(value)
  if (!av) return failure('bad-auth', `the "auth" field ${JSON.stringify(value)} is not "<index> <digest>"${hint}`)
  const named = keys.keys.get(av.index)
  if (av.index < 0 || av.index > 15 || !named) {
    return failure('unknown-key-index', `the "auth" field is signed with key index ${av.index}, which authkeys does not configure`)
  }
  const text = classicSignatureText(parsed.msg)
  if (!text) return failure('bad-type', 'classic message has fields with no classic rendering')
  const digest = computeDigest(named.method, named.key, text)
  if (digest !== av.token) {
    return failure(
      'bad-signature',
      `the "auth" field signature does not verify with ${describe(av.index, named.method)}: the message was altered or signed with another key${hint}`,
    )
  }
  return { ok: true, msg: parsed.msg, format: 'classic', auth: { index: av.index, method: named.method, via: 'field' } }
}

/** Decode one UDP payload and authenticate it. Never throws: every defect is a typed failure. */
export function decodePacket(datagram: Uint8Array, keys: AuthKeys): DecodeResult {
  try {
    return verifyParsed(parseDatagram(datagram), keys)
  } catch (err) {
    // Belt and braces for the daemon's read loop; the fuzz suite keeps this path unreached.
    return failure('bad-field', `internal decoder error: ${err instanceof Error ? err.message : String(err)}`)
  }
}

/** Why a field must not be sent (a real peer would crash or drop it), or undefined. */
export function fieldProblem(f: Field): string | undefined {
  const problem = nameProblem(f.name)
  if (problem) return problem
  if (/[\r\n]/.test(f.name)) return `a field name containing a line break (${JSON.stringify(f.name)})`
  if (!Number.isInteger(f.type) || f.type < 0 || f.type > 5) return `field "${f.name}" has type ${String(f.type)}; only 0..5 exist`
  if (f.type === 0 && f.value.includes(0)) return `string field "${f.name}" contains a NUL byte`
  if (f.type === 2) {
    const inner = parseNetstringMessage(f.value, 0, f.value.length, 1)
    if (!inner.ok || inner.end !== f.value.length) return `struct field "${f.name}" is not one well-formed netstring message`
  }
  return undefined
}

function activeKey(keys: AuthKeys): { method: AuthMethod; key: Buffer } {
  const k = keys.keys.get(keys.active)
  if (!k) throw new Error(`cannot sign: authkeys has no key for the active index ${keys.active}`)
  return k
}

/** ha_msg_internal.c add_msg_auth: set (modify in place, else append) `auth=<N> <digest>`. */
export function withInnerAuth(msg: HaMessage, keys: AuthKeys): HaMessage {
  const { method, key } = activeKey(keys)
  const text = classicSignatureText(msg)
  if (!text) throw new Error('cannot add an inner auth field to a message with struct or list fields')
  return setField(msg, stringField('auth', `${keys.active} ${computeDigest(method, key, text)}`))
}

export interface EncodeOptions {
  /** Add the classic-style inner `auth` field, as `msgfmt classic` (the default) does. Default true. */
  innerAuth?: boolean
}

/**
 * What Debian's 3.0.6 puts on the wire (§1.5): netstring fields, the inner `auth` field
 * (default on, skipped like 3.0.6 when the message has struct/list/compressed fields), then
 * `LEN:N digest,` over `###\n`…`%%%\n` with the active key. Throws on a field a real peer
 * could not take (name with '=', type outside 0..5, …): 3.0.6 aborts on some of them.
 */
export function encodePacket(msg: HaMessage, keys: AuthKeys, opts: EncodeOptions = {}): Buffer {
  for (const f of msg.fields) {
    const problem = fieldProblem(f)
    if (problem) throw new Error(`refusing to encode ${problem}`)
  }
  const { method, key } = activeKey(keys)
  const plain = msg.fields.every((f) => f.type === 0 || f.type === 1)
  const signed = (opts.innerAuth ?? true) && plain ? withInnerAuth(msg, keys) : msg
  const body = encodeNetstringMessage(signed.fields)
  const trailer = encodeNetstring(`${keys.active} ${computeDigest(method, key, body)}`)
  const out = Buffer.concat([body, trailer])
  if (out.length > MAX_DATAGRAM_BYTES) throw new Error(`refusing to encode a ${out.length}-byte message: more than one UDP datagram holds`)
  return out
}

/**
 * What heartbeat ≤ 2.x and glue ≤ 1.0.9 send: classic text with the `auth` field, plus the
 * NUL that `strlen+1` put on the wire (§1.3). For talking to old peers and for tests.
 */
export function encodeClassicPacket(msg: HaMessage, keys: AuthKeys, opts: { trailingNul?: boolean } = {}): Buffer {
  const text = encodeClassicText(withInnerAuth(msg, keys))
  return opts.trailingNul === false ? text : Buffer.concat([text, Buffer.alloc(1)])
}
