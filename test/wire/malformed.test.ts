// Malformed datagrams each get a typed refusal (never an exception), and the encoder never emits what crashes a peer.
import t from 'tap'
import { decodePacket, encodePacket, MAX_DATAGRAM_BYTES } from '../../lib/wire/packet.js'
import type { DecodeErrorCode } from '../../lib/wire/packet.js'
import { encodeNetstringMessage } from '../../lib/wire/netstring.js'
import { stringField } from '../../lib/wire/message.js'
import type { Field, HaMessage } from '../../lib/wire/message.js'
import { keysOf, sha1Keys, signNetstring } from './wire-kit.js'
import { computeDigest } from '../../lib/wire/digest.js'

const sign = (body: string): Buffer => signNetstring(body, 1, 'sha1', 'HI!')
/** Classic lines with an `auth` line signing them as sent: the signature is checked before the lines are read. */
const signClassic = (lines: string): Buffer =>
  Buffer.from(`>>>\n${lines}auth=1 ${computeDigest('sha1', Buffer.from('HI!', 'latin1'), Buffer.from(lines, 'latin1'))}\n<<<\n`, 'latin1')
const B = (s: string): Buffer => Buffer.from(s, 'latin1')
/** One netstring field with its length computed: `LEN:payload,`. */
const nf = (payload: string): string => `${Buffer.byteLength(payload, 'latin1')}:${payload},`

/** A struct nested `depth` levels deep. */
function nested(depth: number): string {
  let inner = '###\n8:(0)t=abc,%%%\n'
  for (let i = 0; i < depth; i++) inner = `###\n${nf(`(2)s=${inner}`)}%%%\n`
  return inner
}

const junk = Buffer.from(Array.from({ length: 300 }, (_, i) => (i * 151 + 7) % 256))
const bigField = `(0)pad=${'x'.repeat(MAX_DATAGRAM_BYTES)}`

const table: Array<[string, Buffer, DecodeErrorCode, RegExp]> = [
  ['empty datagram', B(''), 'empty', /0 bytes/],
  ['oversize datagram (> 64 KiB)', sign(`###\n${bigField.length}:${bigField},%%%\n`), 'oversize', /oversize datagram: \d+ bytes/],
  ['binary junk', junk, 'bad-start', /starts with neither/],
  ['an HTTP request', B('GET / HTTP/1.0\r\n\r\n'), 'bad-start', /"GET/],
  ['leading NUL', B('\0###\n%%%\n'), 'bad-start', /neither/],
  ['half a start marker', B('##'), 'truncated', /start marker/],
  ['field without (N) (aborts 3.0.6)', sign('###\n5:t=abc,%%%\n'), 'bad-field', /\(N\)" type prefix .*aborts/],
  ['(N without )', sign('###\n8:(0t=abcd,%%%\n'), 'bad-field', /type prefix/],
  ['type letter', sign('###\n8:(x)t=abc,%%%\n'), 'bad-field', /type prefix/],
  ['type digit 7', sign('###\n8:(7)t=abc,%%%\n'), 'bad-type', /type 7/],
  ['field without =', sign('###\n8:(0)tabcd,%%%\n'), 'bad-field', /no '='/],
  ['empty name', sign('###\n7:(0)=abc,%%%\n'), 'bad-field', /empty field name/],
  ['name starting with the classic start marker', sign('###\n11:(0)>>>\na=bc,%%%\n'), 'bad-field', /starting with ">>>\\n"/],
  ['NUL inside a string', sign('###\n8:(0)t=a\0c,%%%\n'), 'bad-value', /NUL/],
  ['length too long for the field', sign('###\n10:(0)t=abc,%%%\n'), 'bad-length', /not ','/],
  ['length too short for the field', sign('###\n6:(0)t=abc,%%%\n'), 'bad-length', /not ','/],
  ['length past the end', sign('###\n99:(0)t=abc,%%%\n'), 'truncated', /declares 99 bytes/],
  ['length with a leading zero', sign('###\n08:(0)t=abc,%%%\n'), 'bad-length', /leading zero/],
  ['no colon after the length', sign('###\n8;(0)t=abc,%%%\n'), 'bad-length', /expected ':'/],
  ['no length at all', sign('###\n(0)t=abc,%%%\n'), 'bad-length', /decimal length/],
  ['absurd length', sign('###\n99999999999:(0)t=abc,%%%\n'), 'bad-length', /absurd/],
  ['no %%% end marker', B('###\n8:(0)t=abc,'), 'truncated', /before the "%%%\\n" end marker/],
  ['cut inside %%%', B('###\n8:(0)t=abc,%%'), 'truncated', /inside the "%%%\\n"/],
  ['no trailer', B('###\n8:(0)t=abc,%%%\n'), 'no-auth', /no authentication trailer/],
  ['truncated trailer', sign('###\n8:(0)t=abc,%%%\n').subarray(0, 30), 'truncated', /trailer/],
  ['trailer without comma', B('###\n8:(0)t=abc,%%%\n6:1 abcd;'), 'bad-length', /trailer.*not ','/],
  ['trailer not "N digest"', B('###\n8:(0)t=abc,%%%\n3:abc,'), 'bad-auth', /not "<index> <digest>"/],
  ['trailer index 9 not configured', signNetstring('###\n8:(0)t=abc,%%%\n', 9, 'sha1', 'HI!'), 'unknown-key-index', /key index 9/],
  ['trailer index 16', signNetstring('###\n8:(0)t=abc,%%%\n', 16, 'sha1', 'HI!'), 'unknown-key-index', /key index 16/],
  ['trailer index -1', signNetstring('###\n8:(0)t=abc,%%%\n', -1, 'sha1', 'HI!'), 'unknown-key-index', /key index -1/],
  ['malformed nested struct', sign(`###\n${nf('(2)s=###\n4:t=ab,%%%\n')}%%%\n`), 'bad-value', /struct field "s".*type prefix/],
  ['struct with bytes after its end marker', sign(`###\n${nf('(2)s=###\n%%%\nextra')}%%%\n`), 'bad-value', /bytes after its "%%%\\n"/],
  ['structs nested too deep', sign(nested(12)), 'bad-value', /nests deeper than 10 levels/],
  ['trailer longer than heartbeat reads', B(`###\n%%%\n${nf(`1 ${'a'.repeat(6000)}`)}`), 'bad-auth', /more than heartbeat reads/],
  ['classic: CRLF start', B('>>>\r\nt=x\r\n<<<\r\n'), 'bad-start', /CRLF/],
  ['classic: line without =', signClassic('t=x\nnonsense\n'), 'bad-field', /no '='/],
  // A CR is part of the value (3.0.6 keeps it too): a signature over the line without it does not verify.
  ['classic: CR before the newline', B(`>>>\nt=x\r\nauth=1 ${computeDigest('sha1', B('HI!'), B('t=x\n'))}\n<<<\n`), 'bad-signature', /does not verify/],
  ['classic: (0) prefix', signClassic('(0)t=x\n'), 'bad-type', /\(0\)/],
  ['classic: (9) prefix', signClassic('(9)t=x\n'), 'bad-type', /type 9/],
  ['classic: struct field', signClassic('(2)s=x\n'), 'bad-type', /struct and list/],
  ['classic: bad base64', signClassic('(1)u=abc\n'), 'bad-value', /base64/],
  ['classic: unsigned, with a bad type', B('>>>\n(9)t=x\n<<<\n'), 'no-auth', /no "auth" field/],
  ['classic: final newline, no <<<', B('>>>\nt=x\n'), 'truncated', /no "<<<" line/],
  ['classic: no auth field', B('>>>\nt=x\n<<<\n'), 'no-auth', /no "auth" field/],
]

t.test('malformed datagrams: typed refusals with reasons', async (t) => {
  for (const [what, bytes, code, reason] of table) {
    let r
    try {
      r = decodePacket(bytes, sha1Keys)
    } catch (err) {
      t.fail(`${what}: threw ${String(err)}`)
      continue
    }
    t.equal(r.ok ? 'ok' : r.code, code, what)
    if (!r.ok) t.match(r.reason, reason, `${what}: ${r.reason}`)
  }
  t.ok(table.length >= 35)
})

t.test('a well-formed nested struct and bytes after the trailer are accepted', async (t) => {
  const inner = '###\n8:(0)t=abc,%%%\n'
  const field = `(2)s=${inner}`
  const pkt = sign(`###\n${field.length}:${field},%%%\n`)
  const r = decodePacket(Buffer.concat([pkt, B('\0ignored')]), sha1Keys)
  t.ok(r.ok, r.ok ? 'ok' : r.reason)
  if (r.ok) t.equal(r.msg.fields[0]?.value.toString('latin1'), inner)
})

t.test('the receiver key rule: a trailer is checked with the method of its index, under our active key or its own', async (t) => {
  const body = '###\n11:(0)t=status,%%%\n'
  const signed3 = signNetstring(body, 3, 'md5', 'Hello!')
  const named = decodePacket(signed3, keysOf(1, [1, 'sha1', 'HI!'], [3, 'md5', 'Hello!']))
  t.same(named.ok ? named.auth : named, { index: 3, method: 'md5', via: 'trailer' }, 'our active key differs from key 3: 3.0.6 refuses, we accept key 3 itself (key change without a gap)')
  const stranger = decodePacket(signed3, keysOf(1, [1, 'sha1', 'HI!'], [3, 'md5', 'other']))
  t.equal(stranger.ok ? 'ok' : stranger.code, 'bad-signature', 'neither our key nor key 3 verifies: refused')
  if (!stranger.ok) t.match(stranger.reason, /key index 3 \(md5\), neither with that key nor with this node's key \(auth 1\)/)
  const same = decodePacket(signed3, keysOf(1, [1, 'sha1', 'Hello!'], [3, 'md5', 'Hello!']))
  t.same(same.ok ? same.auth : same, { index: 3, method: 'md5', via: 'trailer' }, 'same secret at our active index: accepted as md5')
  const innerAuthIgnored = decodePacket(sign(`###\n11:(0)t=status,${nf('(0)auth=1 not-checked')}%%%\n`), sha1Keys)
  t.ok(innerAuthIgnored.ok, 'the inner auth field of a netstring packet is not checked (as in 3.0.6)')
})

const msg: HaMessage = { fields: [stringField('t', 'status'), stringField('src', 'alice'), stringField('ts', '6745a3c2')] }

t.test('encodePacket: inner auth on by default, off on request, replaced in place when present', async (t) => {
  const withAuth = decodePacket(encodePacket(msg, sha1Keys), sha1Keys)
  t.same(withAuth.ok && withAuth.msg.fields.map((f) => f.name), ['t', 'src', 'ts', 'auth'])
  const plain = decodePacket(encodePacket(msg, sha1Keys, { innerAuth: false }), sha1Keys)
  t.same(plain.ok && plain.msg.fields.map((f) => f.name), ['t', 'src', 'ts'])
  const stale: HaMessage = { fields: [stringField('t', 'status'), stringField('auth', '1 stale'), stringField('ts', '1')] }
  const re = decodePacket(encodePacket(stale, sha1Keys), sha1Keys)
  t.same(re.ok && re.msg.fields.map((f) => f.name), ['t', 'auth', 'ts'], 'ha_msg_mod keeps the position')
  t.not(re.ok && re.msg.fields[1]?.value.toString(), '1 stale', 'and recomputes the value')
  const struct: HaMessage = { fields: [...msg.fields, { name: 's', type: 2, value: B('###\n8:(0)t=abc,%%%\n') }] }
  const s = decodePacket(encodePacket(struct, sha1Keys), sha1Keys)
  t.same(s.ok && s.msg.fields.map((f) => f.name), ['t', 'src', 'ts', 's'], 'no inner auth with a struct field (3.0.6 must_use_netstring)')
})

t.test('encodePacket refuses fields a real peer would crash on or misread', async (t) => {
  const bad: Array<[Field, RegExp]> = [
    [stringField('a=b', 'v'), /'='/],
    [stringField('', 'v'), /empty field name/],
    [{ name: 'x', type: 7 as unknown as 0, value: B('v') }, /type 7/],
    [{ name: 'x', type: -1 as unknown as 0, value: B('v') }, /type -1/],
    [stringField('x', 'a\0b'), /NUL/],
    [stringField('a\nb', 'v'), /line break/],
    [stringField('nämé€', 'v'), /Latin-1/],
    [{ name: 's', type: 2, value: B('###\n5:t=ab,%%%\n') }, /struct field "s"/],
  ]
  for (const [field, re] of bad) t.throws(() => encodePacket({ fields: [field] }, sha1Keys), re, `${JSON.stringify(field.name)} refused`)
  t.throws(() => encodePacket(msg, keysOf(2, [1, 'sha1', 'HI!'])), /active index 2/)
  const huge: HaMessage = { fields: [stringField('pad', 'x'.repeat(MAX_DATAGRAM_BYTES))] }
  t.throws(() => encodePacket(huge, sha1Keys), /more than one UDP datagram/)
  t.equal(encodeNetstringMessage([]).toString('latin1'), '###\n%%%\n')
})
