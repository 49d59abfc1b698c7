// Issue 10: a datagram without the key is refused before any of its fields is read. The cost itself is
// printed by `npm run bench forged`; here the order of the checks shows in what the refusal says.
import t from 'tap'
import { decodePacket, MAX_FIELDS, parseDatagram, verifyParsed } from '../../lib/wire/packet.js'
import { MAX_CLASSIC_IRREGULAR } from '../../lib/wire/locate.js'
import type { DecodeResult } from '../../lib/wire/packet.js'
import { computeDigest } from '../../lib/wire/digest.js'
import { forgedSet } from '../netns/forged-datagrams.js'
import { sha1Keys, signNetstring } from './wire-kit.js'
import { fuzzWith } from '../../bench/fuzz-wire.js'

const B = (s: string): Buffer => Buffer.from(s, 'latin1')
const codeOf = (r: DecodeResult): string => (r.ok ? 'ok' : r.code)
const nf = (payload: string): string => `${Buffer.byteLength(payload, 'latin1')}:${payload},`
const fakeTrailer = `42:1 ${'0'.repeat(40)},`
/** A classic datagram whose auth line signs `lines` exactly as written (what an honest sender does). */
const signedClassic = (lines: string, key = 'HI!'): Buffer =>
  B(`>>>\n${lines}auth=1 ${computeDigest('sha1', B(key), B(lines))}\n<<<\n`)

t.test('a forged netstring datagram is refused for its signature, whatever its fields hold', async (t) => {
  // Fields 3.0.6 would abort on, a type digit 9, a NUL in a string, a struct nested 12 deep: none is read.
  for (const [what, field] of [
    ['no (N) prefix', nf('t=abc')],
    ['type 9', nf('(9)t=abc')],
    ['NUL in a string', nf('(0)t=a\0c')],
    ['empty name', nf('(0)=abc')],
  ] as const) {
    const r = decodePacket(B(`###\n${nf('(0)t=status')}${field}%%%\n${fakeTrailer}`), sha1Keys)
    t.equal(codeOf(r), 'bad-signature', `${what}: bad-signature, not a complaint about the field`)
  }
  // Signed with the key, the same fields are refused for what they are.
  const signed = decodePacket(signNetstring(`###\n${nf('(9)t=abc')}%%%\n`, 1, 'sha1', 'HI!'), sha1Keys)
  t.equal(codeOf(signed), 'bad-type', 'with the key: the field is judged')
})

t.test('a forged classic datagram is refused for its signature, whatever its lines hold', async (t) => {
  const many = Array.from({ length: 4700 }, (_, i) => `f${i}=v\n`).join('')
  for (const [what, line] of [
    ['type 9', '(9)t=x\n'],
    ['struct field', '(2)s=x\n'],
    ['bad base64', '(1)u=abc\n'],
    ['(0) prefix', '(0)t=x\n'],
  ] as const) {
    const r = decodePacket(B(`>>>\n${many}${line}auth=1 ${'0'.repeat(40)}\n<<<\n`), sha1Keys)
    t.equal(codeOf(r), 'bad-signature', `4,700 lines then ${what}: bad-signature`)
  }
  t.equal(codeOf(decodePacket(signedClassic('t=status\n(9)t=x\n'), sha1Keys)), 'bad-type', 'with the key: the line is judged')
})

t.test('every forged worst case is refused as unsigned, before its fields are taken apart', async (t) => {
  for (const f of forgedSet()) {
    const r = decodePacket(f.bytes, sha1Keys)
    t.notOk(r.ok, `${f.name}: refused`)
    t.ok(f.bytes.length <= 65507, `${f.name}: ${f.bytes.length} bytes, one UDP datagram`)
    if (f.name.startsWith('netstring') || f.name.startsWith('classic')) t.match(codeOf(r), /^(bad-signature|bad-field)$/, `${f.name}: ${codeOf(r)}`)
  }
})

t.test('the field count is capped at what one datagram from 3.0.6 can hold', async (t) => {
  // The smallest netstring field 3.0.6 takes is `5:(0)a=,` (8 bytes): 65507 bytes hold about 8,180.
  t.equal(MAX_FIELDS, 8192)
  const fields = (n: number): string => Array.from({ length: n }, () => nf('(0)a=')).join('')
  const fit = Math.floor((65507 - 8 - 45) / 8)
  const full = decodePacket(signNetstring(`###\n${fields(fit)}%%%\n`, 1, 'sha1', 'HI!'), sha1Keys)
  t.equal(codeOf(full), 'ok', `netstring: ${fit} fields in one datagram: accepted`)
  // Classic lines can be shorter (`a=` and a newline): there the cap bites.
  const lines = (n: number): string => 'a=\n'.repeat(n)
  t.equal(codeOf(decodePacket(signedClassic(lines(MAX_FIELDS - 1)), sha1Keys)), 'ok', `classic: ${MAX_FIELDS} lines with auth: accepted`)
  const over = decodePacket(signedClassic(lines(MAX_FIELDS)), sha1Keys)
  t.equal(codeOf(over), 'oversize', 'classic: one line more: refused even with the key')
  if (!over.ok) t.match(over.reason, /more than 8192 fields/)
})

t.test('classic: the signature is checked over the lines as sent', async (t) => {
  t.equal(codeOf(decodePacket(signedClassic('t=status\nsrc=alice\n'), sha1Keys)), 'ok', 'plain lines')
  // Blank lines are skipped (3.0.6 skips them too), wherever they are, and the auth line need not be last.
  const lines = 't=status\nsrc=alice\n'
  const digest = computeDigest('sha1', B('HI!'), B(lines))
  t.equal(codeOf(decodePacket(B(`>>>\n\nt=status\n\n\nauth=1 ${digest}\nsrc=alice\n\n<<<\n\0`), sha1Keys)), 'ok', 'blank lines, auth in the middle')
  t.equal(codeOf(decodePacket(B(`>>>\nt=status\nauth=1 ${digest}\nsrc=alice`), sha1Keys)), 'ok', 'no <<< right after a value')
  t.equal(codeOf(decodePacket(B(`>>>\nt=status\nauth=1 ${digest}\nsrc=alice\n`), sha1Keys)), 'truncated', 'a final newline and no <<<: refused as 3.0.6 does')
  // `QR==` is valid base64 for "A" but not the form 3.0.6 re-renders ("QQ=="); 3.0.6 verifies its own rendering.
  const odd = decodePacket(signedClassic('t=status\n(1)u=QR==\n'), sha1Keys)
  t.equal(codeOf(odd), 'bad-signature', 'non-canonical base64 signed as sent: refused (3.0.6 checks its re-rendering)')
  if (!odd.ok) t.match(odd.reason, /re-render/)
})

t.test('the daemon path and the hbctl decode path agree', async (t) => {
  const samples = [
    signNetstring(`###\n${nf('(0)t=status')}%%%\n`, 1, 'sha1', 'HI!'),
    signedClassic('t=status\n(1)u=QR==\n'),
    signedClassic('t=status\n'),
    ...forgedSet().map((f) => f.bytes),
  ]
  for (const s of samples) {
    const fast = decodePacket(s, sha1Keys)
    const full = verifyParsed(parseDatagram(s), sha1Keys)
    t.equal(fast.ok, full.ok, `same verdict (${codeOf(fast)} / ${codeOf(full)})`)
  }
})

t.test('fuzz: the daemon path (check, then parse) accepts exactly what parse-then-check accepts', async (t) => {
  const r = fuzzWith(3000, 20261202, (input, keys) => {
    const parsed = parseDatagram(input)
    const full = verifyParsed(parsed, keys)
    const fast = decodePacket(input, keys)
    if (fast.ok !== full.ok) throw new Error(`verdicts differ: decodePacket ${codeOf(fast)}, parse+verify ${codeOf(full)}`)
    if (fast.ok && full.ok && JSON.stringify(fast.msg) !== JSON.stringify(full.msg)) throw new Error('same verdict, different fields')
    return { parsed, result: fast }
  })
  t.same(r.failures, [], 'no disagreement, no exception')
  t.ok((r.codes.ok ?? 0) > 0, `some accepted (${JSON.stringify(r.codes)})`)
})

t.test('classic: a few blank lines are skipped as 3.0.6 skips them; thousands are refused unread', async (t) => {
  const lines = 't=status\n'
  const digest = computeDigest('sha1', B('HI!'), B(lines))
  const withBlanks = (k: number): Buffer => B(`>>>\n${'\n'.repeat(k)}t=status\n${Array.from({ length: k }, () => '\n').join('')}auth=1 ${digest}\n<<<\n`)
  t.equal(codeOf(decodePacket(withBlanks(1), sha1Keys)), 'ok', 'a blank line before and after')
  const many = B(`>>>\n${'t=status\n\n'.repeat(MAX_CLASSIC_IRREGULAR)}auth=1 ${digest}\n<<<\n`)
  const r = decodePacket(many, sha1Keys)
  t.equal(codeOf(r), 'bad-field', `${MAX_CLASSIC_IRREGULAR} blank lines and an auth line: refused before the HMAC`)
  if (!r.ok) t.match(r.reason, /more than 32 blank lines or auth lines/)
})
