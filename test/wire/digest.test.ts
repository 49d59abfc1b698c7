// The three digests against heartbeat's own test vectors (§1.6) and the worked examples of §1.9.
import t from 'tap'
import { computeDigest, crcDigest } from '../../lib/wire/digest.js'
import { encodePacket } from '../../lib/wire/packet.js'
import { classicSignatureText } from '../../lib/wire/classic.js'
import { binaryField, stringField } from '../../lib/wire/message.js'
import type { HaMessage } from '../../lib/wire/message.js'
import type { AuthKeys, AuthMethod } from '../../lib/wire/auth-keys.js'

const text = Buffer.from('t=status\nst=active\n', 'latin1')
const key = Buffer.from('Hello!', 'latin1')

t.test('§1.6 test vectors: t=status st=active, key Hello!', async (t) => {
  t.equal(computeDigest('crc', key, text), 'b7e1ed97')
  t.equal(computeDigest('md5', key, text), '64ffda9fbd066d260f3634f4960ccda2')
  t.equal(computeDigest('sha1', key, text), 'de3c4ea1398c4e9654183649ef482b39a7fa7b20')
})

t.test('crc ignores the key and prints no leading zeros', async (t) => {
  t.equal(computeDigest('crc', Buffer.from('other'), text), 'b7e1ed97')
  // POSIX cksum of "" without the length is ~0; single bytes give shorter values somewhere.
  t.equal(crcDigest(Buffer.alloc(0)), 'ffffffff')
  const short = Array.from({ length: 256 }, (_, i) => crcDigest(Buffer.from([i, 0x41]))).filter((d) => d.length < 8)
  t.ok(short.length > 0, 'some digests are shorter than 8 hex digits')
  for (const d of short) t.notMatch(d, /^0/, `${d} has no leading zero`)
})

function keysOf(index: number, method: AuthMethod, secret: string): AuthKeys {
  return { active: index, keys: new Map([[index, { method, key: Buffer.from(secret, 'latin1') }]]) }
}

t.test('§1.9 example A: status from alice, auth 2 sha1 HI!', async (t) => {
  const msg: HaMessage = {
    fields: [
      stringField('t', 'status'),
      stringField('st', 'active'),
      stringField('dt', '7530'),
      stringField('protocol', '1'),
      stringField('src', 'alice'),
      binaryField('srcuuid', Buffer.from('5f3c3a8e2b1c4d2e9a0b1c2d3e4f5061', 'hex')),
      stringField('seq', '2a'),
      stringField('hg', '4'),
      stringField('ts', '6745a3c2'),
      stringField('ld', '0.08 0.03 0.01 1/183 4242'),
      stringField('ttl', '3'),
    ],
  }
  t.equal(
    classicSignatureText(msg)?.toString('latin1'),
    't=status\nst=active\ndt=7530\nprotocol=1\nsrc=alice\n(1)srcuuid=Xzw6jiscTS6aCxwtPk9QYQ==\nseq=2a\nhg=4\nts=6745a3c2\nld=0.08 0.03 0.01 1/183 4242\nttl=3\n',
  )
  const wire = encodePacket(msg, keysOf(2, 'sha1', 'HI!'))
  t.equal(wire.length, 303)
  const s = wire.toString('latin1')
  t.ok(s.includes(',50:(0)auth=2 c242229c704ed79b9fc4e6e3ea4552864a109b3d,%%%\n'), 'inner auth field')
  t.ok(s.endsWith('%%%\n42:2 ae64d4e79062f7254df23c6c47fa296f34052acc,'), 'trailer')
})

t.test('§1.9 example B: NS_ackmsg from bob, auth 1 crc (a 7-digit crc)', async (t) => {
  const msg: HaMessage = {
    fields: [
      stringField('t', 'NS_ackmsg'),
      stringField('dest', 'alice'),
      stringField('ackseq', '2a'),
      binaryField('destuuid', Buffer.from('5f3c3a8e2b1c4d2e9a0b1c2d3e4f5061', 'hex')),
      stringField('src', 'bob'),
      binaryField('srcuuid', Buffer.from('0c1d2e3f405162738495a6b7c8d9eafb', 'hex')),
      stringField('hg', '9'),
      stringField('ts', '6745a3c3'),
      stringField('ttl', '3'),
    ],
  }
  const s = encodePacket(msg, keysOf(1, 'crc', '')).toString('latin1')
  t.ok(s.includes(',17:(0)auth=1 27df41c,%%%\n'), 'inner crc without zero padding')
  t.ok(s.endsWith('%%%\n10:1 8cf56e1c,'), 'trailer')
})
