// A heartbeat datagram, both ways: decode + authenticate what peers send, encode + sign what Debian's 3.0.6 sends.
import type { AuthKeys, AuthMethod } from './auth-keys.js'
import type { Field, HaMessage } from './message.js'
import { setField, stringField } from './message.js'
import { computeDigest, digestMatches } from './digest.js'
import { parseAuthValue } from './auth-value.js'
import { failure } from './decode-error.js'
import type { DecodeErrorCode, DecodeFailure } from './decode-error.js'
import { encodeNetstring, nameProblem, netstringMessageBytes, parseNetstringMessage, putDecimal, putLatin1, writeNetstringMessage } from './netstring.js'
import { classicSignatureText, encodeClassicText, parseClassicText } from './classic.js'
import { locateClassic, locateNetstring } from './locate.js'
import type { Located, LocatedClassic, LocatedNetstring } from './locate.js'

export { MAX_FIELDS } from './locate.js'

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
      located: LocatedNetstring
    }
  | { ok: true; format: 'classic'; msg: HaMessage; sawEnd: boolean; located: LocatedClassic }
  | DecodeFailure

/**
 * The framing only (issue 10): size, start marker, field lengths or line ends, the signature's place.
 * Nothing per field is allocated, so a forged datagram costs a walk and one HMAC, never a parse.
 */
export function locateDatagram(datagram: Uint8Array): Located {
  const n = datagram.length
  if (n === 0) return failure('empty', 'empty datagram (0 bytes)')
  if (n > MAX_DATAGRAM_BYTES) return failure('oversize', `oversize datagram: ${n} bytes, more than the ${MAX_DATAGRAM_BYTES} a UDP/IPv4 payload can hold`)
  const buf = Buffer.isBuffer(datagram) ? datagram : Buffer.from(datagram.buffer, datagram.byteOffset, datagram.byteLength)
  // §1.8: the first four bytes pick the format; anything else is dropped.
  if (buf[0] === 0x3e) return locateClassic(buf)
  return locateNetstring(buf)
}

/** The fields of a located datagram (the full parse: only for authentic datagrams, or for `hbctl decode`). */
function parseLocated(buf: Uint8Array, located: LocatedNetstring | LocatedClassic): ParsedDatagram {
  if (located.format === 'classic') {
    const parsed = parseClassicText(buf)
    if (!parsed.ok) return parsed
    return { ok: true, format: 'classic', msg: parsed.msg, sawEnd: parsed.sawEnd, located }
  }
  const body = parseNetstringMessage(buf, 0, located.body.length)
  if (!body.ok) return body
  return { ok: true, format: 'netstring', msg: { fields: body.fields }, body: located.body, trailer: located.trailer, located }
}

/** Split a datagram into fields without checking signatures. Never throws. */
export function parseDatagram(datagram: Uint8Array): ParsedDatagram {
  const located = locateDatagram(datagram)
  if (!located.ok) return located
  return parseLocated(datagram, located)
}

const NO_KEY = Buffer.alloc(0)

function describe(index: number, method: AuthMethod): string {
  return `key index ${index} (${method})`
}

/**
 * Check the signature of a located datagram with the receiver's key rule: a netstring trailer is
 * checked with the method of the index it names and the key of our active index (§1.6b quirk) or, an
 * extension over 3.0.6, the key of the index it names; a classic `auth` field with the method and key
 * of its index (§14.13), the last `auth` field counting (§14.5), over the lines as sent. The inner
 * `auth` field of a netstring packet is not checked, as in 3.0.6. Costs at most two HMACs.
 */
export function authenticate(located: LocatedNetstring | LocatedClassic, keys: AuthKeys): { ok: true; auth: PacketAuth } | DecodeFailure {
  if (located.format === 'netstring') {
    if (located.trailer === undefined) return failure('no-auth', 'no authentication trailer after "%%%\\n": heartbeat drops unsigned netstring packets')
    const av = parseAuthValue(located.trailer)
    if (!av) return failure('bad-auth', `the authentication trailer ${JSON.stringify(located.trailer)} is not "<index> <digest>"`)
    const named = keys.keys.get(av.index)
    if (av.index < 0 || av.index > 15 || !named) {
      return failure('unknown-key-index', `the trailer is signed with key index ${av.index}, which authkeys does not configure`)
    }
    const ours = keys.keys.get(keys.active)
    // 3.0.6 checks with our active key only; we also accept the key the packet names, so a
    // key change (auth 1 -> auth 2 on each node in turn) has no window where both sides refuse.
    if (
      !digestMatches(computeDigest(named.method, ours?.key ?? NO_KEY, located.body), av.token) &&
      !(av.index !== keys.active && digestMatches(computeDigest(named.method, named.key, located.body), av.token))
    ) {
      return failure(
        'bad-signature',
        `the trailer signature does not verify with ${describe(av.index, named.method)}, neither with that key nor with this node's key (auth ${keys.active}): the packet was altered or signed with another key`,
      )
    }
    return { ok: true, auth: { index: av.index, method: named.method, via: 'trailer' } }
  }
  const hint = located.sawEnd ? '' : ' (the text has no "<<<" end line: truncated?)'
  const last = located.auth
  if (!last) return failure('no-auth', `classic message has no "auth" field${hint}`)
  if (!last.isString) return failure('bad-auth', `the "auth" field is not a string field${hint}`)
  const av = parseAuthValue(last.value)
  if (!av) return failure('bad-auth', `the "auth" field ${JSON.stringify(last.value)} is not "<index> <digest>"${hint}`)
  const named = keys.keys.get(av.index)
  if (av.index < 0 || av.index > 15 || !named) {
    return failure('unknown-key-index', `the "auth" field is signed with key index ${av.index}, which authkeys does not configure`)
  }
  if (!digestMatches(computeDigest(named.method, named.key, located.signed), av.token)) {
    return failure(
      'bad-signature',
      `the "auth" field signature does not verify with ${describe(av.index, named.method)}: the message was altered or signed with another key${hint}`,
    )
  }
  return { ok: true, auth: { index: av.index, method: named.method, via: 'field' } }
}

/**
 * 3.0.6 checks a classic signature over its own re-rendering of the fields; we check it over the lines
 * as sent. The two differ only for a non-canonical rendering (base64 with stray low bits), which no
 * sender produces: refuse it rather than act on text 3.0.6 would have judged differently.
 */
function canonicalProblem(parsed: ParsedDatagram & { ok: true }): DecodeFailure | undefined {
  if (parsed.format !== 'classic') return undefined
  const text = classicSignatureText(parsed.msg)
  if (!text) return failure('bad-type', 'classic message has fields with no classic rendering')
  if (!text.equals(parsed.located.signed)) {
    return failure('bad-signature', 'the "auth" field signs the lines as sent, but heartbeat 3.0.6 checks its re-rendering of them, which differs (non-canonical base64?)')
  }
  return undefined
}

/** Authenticate a parsed datagram (see `authenticate`); `hbctl decode` parses first to show the fields. */
export function verifyParsed(parsed: ParsedDatagram, keys: AuthKeys): DecodeResult {
  if (!parsed.ok) return parsed
  const checked = authenticate(parsed.located, keys)
  if (!checked.ok) return checked
  const odd = canonicalProblem(parsed)
  if (odd) return odd
  return { ok: true, msg: parsed.msg, format: parsed.format, auth: checked.auth }
}

/**
 * Decode one UDP payload and authenticate it, in that order of cost: framing, HMAC, then the fields
 * (issue 10). Never throws: every defect is a typed failure.
 */
export function decodePacket(datagram: Uint8Array, keys: AuthKeys): DecodeResult {
  try {
    const located = locateDatagram(datagram)
    if (!located.ok) return located
    const checked = authenticate(located, keys)
    if (!checked.ok) return checked
    const parsed = parseLocated(datagram, located)
    if (!parsed.ok) return parsed
    const odd = canonicalProblem(parsed)
    if (odd) return odd
    return { ok: true, msg: parsed.msg, format: parsed.format, auth: checked.auth }
  } catch (err) {
    // Belt and braces for the daemon's read loop; the fuzz suite keeps this path unreached.
    return failure('bad-field', `internal decoder error: ${err instanceof Error ? err.message : String(err)}`)
  }
}

/** Why a field must not be sent (a real peer would crash or drop it), or undefined. */
export function fieldProblem(f: Field): string | undefined {
  if (!plainSendName(f.name)) {
    const problem = nameProblem(f.name)
    if (problem) return problem
    if (/[\r\n]/.test(f.name)) return `a field name containing a line break (${JSON.stringify(f.name)})`
  }
  if (!Number.isInteger(f.type) || f.type < 0 || f.type > 5) return `field "${f.name}" has type ${String(f.type)}; only 0..5 exist`
  if (f.type === 0 && hasNul(f.value)) return `string field "${f.name}" contains a NUL byte`
  if (f.type === 2) {
    const inner = parseNetstringMessage(f.value, 0, f.value.length, 1)
    if (!inner.ok || inner.end !== f.value.length) return `struct field "${f.name}" is not one well-formed netstring message`
  }
  return undefined
}

/** A name fieldProblem passes without a second look: non-empty, Latin-1, no `=`, NUL, CR or LF, not `>>>…`. */
function plainSendName(s: string): boolean {
  const n = s.length
  if (n === 0 || s.startsWith('>>>')) return false
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i)
    if (c === 0x3d || c === 0 || c === 0x0a || c === 0x0d || c > 0xff) return false
  }
  return true
}

function hasNul(value: Uint8Array): boolean {
  // Short values (most of them) are looked at in place; a native search pays off on long ones.
  if (value.length > 64) return value.includes(0)
  for (let i = 0; i < value.length; i++) if (value[i] === 0) return true
  return false
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
  let plain = true
  for (const f of msg.fields) if (f.type !== 0 && f.type !== 1) plain = false
  const signed = (opts.innerAuth ?? true) && plain ? withInnerAuth(msg, keys) : msg
  // One buffer for body and trailer, with room for the longest trailer (`NN:NN <40 hex digits>,`).
  const bodyBytes = netstringMessageBytes(signed.fields)
  // A body this big cannot be sent; say so before filling it.
  if (bodyBytes > MAX_DATAGRAM_BYTES) throw new Error(`refusing to encode a ${bodyBytes}+-byte message: more than one UDP datagram holds`)
  const out = Buffer.allocUnsafe(bodyBytes + TRAILER_ROOM)
  const bodyEnd = writeNetstringMessage(signed.fields, out, 0)
  const payload = `${keys.active} ${computeDigest(method, key, out.subarray(0, bodyEnd))}`
  let packet: Buffer
  if (payload.length + 12 > TRAILER_ROOM) {
    packet = Buffer.concat([out.subarray(0, bodyEnd), encodeNetstring(payload)])
  } else {
    let o = putDecimal(out, bodyEnd, payload.length)
    out[o++] = 0x3a
    o = putLatin1(out, o, payload)
    out[o++] = 0x2c
    packet = out.subarray(0, o)
  }
  if (packet.length > MAX_DATAGRAM_BYTES) throw new Error(`refusing to encode a ${packet.length}-byte message: more than one UDP datagram holds`)
  return packet
}

// `LEN:` + `<index> <digest>` + `,`: 64 bytes hold any index 0..15 with a SHA-1 digest.
const TRAILER_ROOM = 64

/**
 * What heartbeat ≤ 2.x and glue ≤ 1.0.9 send: classic text with the `auth` field, plus the
 * NUL that `strlen+1` put on the wire (§1.3). For talking to old peers and for tests.
 */
export function encodeClassicPacket(msg: HaMessage, keys: AuthKeys, opts: { trailingNul?: boolean } = {}): Buffer {
  const text = encodeClassicText(withInnerAuth(msg, keys))
  return opts.trailingNul === false ? text : Buffer.concat([text, Buffer.alloc(1)])
}
