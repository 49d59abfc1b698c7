// Classic (`>>>`) text: round trips, the FIFO parser, and the §14 observations of a running 3.0.6.
import t from 'tap'
import { encodeClassicText, parseClassicText } from '../../lib/wire/classic.js'
import { decodePacket, encodeClassicPacket } from '../../lib/wire/packet.js'
import { computeDigest, crcDigest } from '../../lib/wire/digest.js'
import { binaryField, stringField } from '../../lib/wire/message.js'
import type { Field, HaMessage } from '../../lib/wire/message.js'
import { classicDigest, keysOf, sha1Keys } from './wire-kit.js'

const sample: HaMessage = {
  fields: [
    stringField('t', 'resource'),
    stringField('info', 'line one\nline two'),
    stringField('empty', ''),
    stringField('eq', 'a=b=c'),
    binaryField('srcuuid', Buffer.from('0c1d2e3f405162738495a6b7c8d9eafb', 'hex')),
    { name: 'blob', type: 4, value: Buffer.from([0, 1, 2, 255]) },
  ],
}

function codeOf(r: { ok: true } | { ok: false; code: string }): string {
  return r.ok ? 'ok' : r.code
}

t.test('classic text round trip: newline as 0x13, base64 binary, empty and = in values', async (t) => {
  const text = encodeClassicText(sample)
  const s = text.toString('latin1')
  t.ok(s.startsWith('>>>\nt=resource\ninfo=line one\x13line two\nempty=\neq=a=b=c\n(1)srcuuid=DB0uP0BRYnOElaa3yNnq+w==\n(4)blob=AAEC/w==\n<<<\n'))
  const back = parseClassicText(text)
  t.ok(back.ok)
  if (back.ok) {
    t.same(back.msg.fields, sample.fields)
    t.equal(back.sawEnd, true)
  }
})

t.test('the FIFO-style parser tolerates a trailing NUL and blank lines, stops at <<<', async (t) => {
  const r = parseClassicText(Buffer.from('>>>\n\nt=ip-request\n\nipaddr=10.0.0.1\n<<<\n\0junk after', 'latin1'))
  t.ok(r.ok)
  if (r.ok) t.same(r.msg.fields.map((f) => [f.name, f.value.toString()]), [['t', 'ip-request'], ['ipaddr', '10.0.0.1']])
})

t.test('classic encoding refuses what it cannot carry', async (t) => {
  const bad: Array<[Field, RegExp]> = [
    [stringField('x', 'has\x13dc3'), /0x13/],
    [stringField('x', 'has\rcr'), /CR/],
    [stringField('a\nb', 'v'), /line break/],
    [stringField('(1)x', 'v'), /type prefix/],
    [stringField('a=b', 'v'), /'='/],
    [{ name: 's', type: 2, value: Buffer.from('###\n%%%\n') }, /struct and list/],
  ]
  for (const [field, re] of bad) t.throws(() => encodeClassicText({ fields: [field] }), re, `${JSON.stringify(field.name)} refused`)
})

t.test('§14 observations, each as the 3.0.6 daemon judged it', async (t) => {
  const base = '>>>\nt=status\nsrc=alice\nts=6745a3c2\n'
  const good = classicDigest(`${base}<<<\n`, 'sha1', 'HI!')
  // Signed over the lines as sent: the packet gets past the signature (checked first) to the check a case is about.
  const asSent = (lines: string): string => computeDigest('sha1', Buffer.from('HI!', 'latin1'), Buffer.from(lines, 'latin1'))

  t.equal(codeOf(decodePacket(Buffer.from(`${base}auth=1 ${good}\n<<<\n`, 'latin1'), sha1Keys)), 'ok', 'well formed')
  t.equal(codeOf(decodePacket(Buffer.from(`${base}auth=1 ${good}\n<<<\n\0`, 'latin1'), sha1Keys)), 'ok', 'with the NUL of strlen+1')

  // 1. Missing <<<: fine right after the last value, refused after a final newline.
  t.equal(codeOf(decodePacket(Buffer.from(`${base}auth=1 ${good}`, 'latin1'), sha1Keys)), 'ok', 'no <<< and no final newline')
  const nl = decodePacket(Buffer.from(`${base}auth=1 ${good}\n`, 'latin1'), sha1Keys)
  t.equal(codeOf(nl), 'truncated', 'no <<< but a final newline')
  if (!nl.ok) t.match(nl.reason, 'no "<<<" line')

  // 2. A line without '=' rejects the message.
  t.equal(codeOf(decodePacket(Buffer.from(`${base}garbage\nauth=1 ${asSent(`${base.slice(4)}garbage\n`)}\n<<<\n`, 'latin1'), sha1Keys)), 'bad-field')

  // 3. (0) in classic text is "wrong type".
  const zero = decodePacket(Buffer.from(`>>>\n(0)t=status\nauth=1 ${asSent('(0)t=status\n')}\n<<<\n`, 'latin1'), sha1Keys)
  t.equal(codeOf(zero), 'bad-type')
  if (!zero.ok) t.match(zero.reason, '(0)')

  // 4. base64 must be standard and padded; a non-canonical encoding fails the signature.
  const uuid = Buffer.from('0c1d2e3f405162738495a6b7c8d9eafb', 'hex')
  const withUuid = `${base}(1)srcuuid=${uuid.toString('base64')}\n`
  const uuidDigest = classicDigest(`${withUuid}<<<\n`, 'sha1', 'HI!')
  t.equal(codeOf(decodePacket(Buffer.from(`${withUuid}auth=1 ${uuidDigest}\n<<<\n`, 'latin1'), sha1Keys)), 'ok', 'padded base64')
  const unpadded = `${base}(1)srcuuid=${uuid.toString('base64').replace(/=+$/, '')}\n`
  t.equal(codeOf(decodePacket(Buffer.from(`${unpadded}auth=1 ${uuidDigest}\n<<<\n`, 'latin1'), sha1Keys)), 'bad-signature', 'unpadded base64, signed as 3.0.6 would render it')
  t.equal(codeOf(decodePacket(Buffer.from(`${unpadded}auth=1 ${asSent(unpadded.slice(4))}\n<<<\n`, 'latin1'), sha1Keys)), 'bad-value', 'unpadded base64, signed as sent: the field is judged')
  const urlsafe = `${base}(1)srcuuid=${Buffer.from([0xfb, 0xff, 0xfe]).toString('base64url')}\n`
  t.equal(codeOf(decodePacket(Buffer.from(`${urlsafe}auth=1 ${asSent(urlsafe.slice(4))}\n<<<\n`, 'latin1'), sha1Keys)), 'bad-value', 'url-safe alphabet')

  // 5. Several auth fields: the last one counts.
  t.equal(codeOf(decodePacket(Buffer.from(`${base}auth=1 0000\nauth=1 ${good}\n<<<\n`, 'latin1'), sha1Keys)), 'ok', 'bad first, good last')
  t.equal(codeOf(decodePacket(Buffer.from(`${base}auth=1 ${good}\nauth=1 0000\n<<<\n`, 'latin1'), sha1Keys)), 'bad-signature', 'good first, bad last')

  // 6. "%d %s": a tab works, trailing tokens are ignored, comparison is exact.
  t.equal(codeOf(decodePacket(Buffer.from(`${base}auth=1\t${good} trailing words\n<<<\n`, 'latin1'), sha1Keys)), 'ok', 'tab and trailing tokens')
  t.equal(codeOf(decodePacket(Buffer.from(`${base}auth=1 ${good.toUpperCase()}\n<<<\n`, 'latin1'), sha1Keys)), 'bad-signature', 'uppercase hex')
  t.equal(codeOf(decodePacket(Buffer.from(`${base}auth=one ${good}\n<<<\n`, 'latin1'), sha1Keys)), 'bad-auth', 'index not a number')
  t.equal(codeOf(decodePacket(Buffer.from(`${base}auth=1\n<<<\n`, 'latin1'), sha1Keys)), 'bad-auth', 'no digest')
  t.equal(codeOf(decodePacket(Buffer.from(`${base}<<<\n`, 'latin1'), sha1Keys)), 'no-auth', 'no auth field')

  // crc: a short digest must stay short; zero-padded is refused.
  const crcKeys = keysOf(1, [1, 'crc', ''])
  let shortText = ''
  for (let i = 0; i < 5000 && !shortText; i++) {
    const text = `>>>\nt=status\nseq=${i.toString(16)}\n<<<\n`
    if (classicDigest(text, 'crc', '').length < 8) shortText = text
  }
  t.ok(shortText, 'found a message whose crc has fewer than 8 digits')
  const short = classicDigest(shortText, 'crc', '')
  const body = shortText.slice(0, -4)
  t.equal(codeOf(decodePacket(Buffer.from(`${body}auth=1 ${short}\n<<<\n`, 'latin1'), crcKeys)), 'ok', `crc ${short}`)
  t.equal(codeOf(decodePacket(Buffer.from(`${body}auth=1 ${short.padStart(8, '0')}\n<<<\n`, 'latin1'), crcKeys)), 'bad-signature', 'zero-padded crc')

  // 8. A bad start marker is dropped.
  const crlf = decodePacket(Buffer.from('>>>\r\nt=status\r\n<<<\r\n', 'latin1'), sha1Keys)
  t.equal(codeOf(crlf), 'bad-start')
  if (!crlf.ok) t.match(crlf.reason, 'CRLF')

  // 13. Several keys: a classic packet is checked with the method and key of the index it names.
  const multi = keysOf(1, [1, 'sha1', 'HI!'], [3, 'md5', 'Hello!'])
  const md5 = classicDigest(`${base}<<<\n`, 'md5', 'Hello!')
  const via3 = decodePacket(Buffer.from(`${base}auth=3 ${md5}\n<<<\n`, 'latin1'), multi)
  t.same(via3.ok ? via3.auth : via3, { index: 3, method: 'md5', via: 'field' })
  const unknown = decodePacket(Buffer.from(`${base}auth=2 ${md5}\n<<<\n`, 'latin1'), multi)
  t.equal(codeOf(unknown), 'unknown-key-index')
  if (!unknown.ok) t.match(unknown.reason, 'key index 2')
})

t.test('a classic packet signed by us verifies, and a wrong key says which index and method failed', async (t) => {
  const pkt = encodeClassicPacket(sample, sha1Keys)
  t.equal(codeOf(decodePacket(pkt, sha1Keys)), 'ok')
  const wrong = decodePacket(pkt, keysOf(1, [1, 'sha1', 'nope']))
  t.equal(codeOf(wrong), 'bad-signature')
  if (!wrong.ok) t.match(wrong.reason, 'does not verify with key index 1 (sha1)')
  const cut = decodePacket(pkt.subarray(0, pkt.indexOf('auth=') + 20), sha1Keys)
  t.equal(codeOf(cut), 'bad-signature')
  if (!cut.ok) t.match(cut.reason, 'truncated?')
  t.equal(crcDigest(Buffer.from('')), 'ffffffff')
})

t.test('what the classic probe saw 3.0.6 act on (test/interop/classic-probe.test.ts), we accept too', async (t) => {
  const head = 't=probe\nsrc=alice\nseq=1\nts=6745a3c2\n'
  const signedAsSent = (lines: string, tail = '\n<<<\n'): Buffer =>
    Buffer.from(`>>>\n${lines}auth=1 ${computeDigest('sha1', Buffer.from('HI!', 'latin1'), Buffer.from(lines, 'latin1'))}${tail}`, 'latin1')
  const value = (pkt: Buffer, name: string): string | undefined => {
    const r = decodePacket(pkt, sha1Keys)
    return r.ok ? r.msg.fields.find((f) => f.name === name)?.value.toString('latin1') : `refused: ${r.code}`
  }

  // cluster-glue 1.0.12 ends a line at the newline only: a CR stays in the name or value it is in.
  t.equal(value(signedAsSent(`${head}info=hello\r\n`), 'info'), 'hello\r', 'a value ending in CR keeps it')
  t.equal(value(signedAsSent(`${head}info=hel\rlo\n`), 'info'), 'hel\rlo', 'a CR inside a value is not a line end')
  t.equal(value(signedAsSent(`${head}in\rfo=hello\n`), 'in\rfo'), 'hello', 'a CR inside a name')
  t.equal(value(signedAsSent(`${head}info=hello\r\n`, '\r\n<<<\n'), 'info'), 'hello\r', 'CRLF on the last lines, the auth line too')
  const parsed = parseClassicText(Buffer.from(`>>>\n${head}info=hello\r\n<<<\n`, 'latin1'))
  t.same(parsed.ok ? parsed.msg.fields.map((f) => f.value.toString('latin1')).slice(-1) : parsed, ['hello\r'], 'the FIFO parser reads it the same way')
  // A CR-led line is a name starting with CR, not a blank line: signed without it, it fails.
  const crLine = `${head}\rinfo=hello\n`
  t.equal(value(signedAsSent(crLine), '\rinfo'), 'hello', 'a line starting with CR: the CR belongs to the name')
  const sansCr = `>>>\n${crLine}auth=1 ${computeDigest('sha1', Buffer.from('HI!', 'latin1'), Buffer.from(`${head}info=hello\n`, 'latin1'))}\n<<<\n`
  t.equal(codeOf(decodePacket(Buffer.from(sansCr, 'latin1'), sha1Keys)), 'bad-signature', 'signed as if the CR were skipped')

  // ha_msg_addraw_ll refuses only names starting with the whole ">>>\n" marker.
  t.equal(value(signedAsSent(`${head}>>>info=hello\n`), '>>>info'), 'hello', 'a name starting with ">>>"')

  // Deliberately refused (heartbeat(8)): 3.0.6 reads "garbage\ninfo" as one name, then "info=hello" again.
  const odd = `>>>\n${head}garbage\ninfo=hello\nauth=1 ${computeDigest('sha1', Buffer.from('HI!', 'latin1'), Buffer.from(`${head}garbage\ninfo=hello\ninfo=hello\n`, 'latin1'))}\n<<<\n`
  t.equal(codeOf(decodePacket(Buffer.from(odd, 'latin1'), sha1Keys)), 'bad-signature', "a line without '=', signed over 3.0.6's double reading")
})
