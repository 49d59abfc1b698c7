// OwnEcho: our own looped-back datagrams are recognised byte for byte; anything else is left to the decoder.
import t from 'tap'
import { OwnEcho } from '../../lib/daemon/own-echo.js'
import { encodePacket, decodePacket } from '../../lib/wire/packet.js'
import { messageOf } from '../../lib/wire/message.js'
import type { AuthKeys } from '../../lib/wire/auth-keys.js'

const keys: AuthKeys = { active: 1, keys: new Map([[1, { method: 'sha1', key: Buffer.from('t14-echo') }]]) }
const status = (seq: number) =>
  messageOf([['t', 'status'], ['st', 'active'], ['src', 'alpha'], ['seq', seq.toString(16)], ['hg', '5'], ['ts', '6925f0a1'], ['ttl', '3']])

t.test('a datagram equal to one we sent gives back the stamped message we sent', async (t) => {
  const echo = new OwnEcho()
  const msgs = [1, 2, 3].map(status)
  const bytes = msgs.map((m) => encodePacket(m, keys))
  msgs.forEach((m, i) => echo.remember(bytes[i] as Buffer, m))
  t.equal(echo.match(Buffer.from(bytes[1] as Buffer)), msgs[1], 'a fresh buffer with the same bytes: the second message')
  t.equal(echo.match(Buffer.concat([bytes[2] as Buffer, Buffer.alloc(1)])), msgs[2], 'with the NUL a 3.0.6 reader appends')
  t.equal(echo.match(Buffer.concat([bytes[2] as Buffer, Buffer.from('x')])), undefined, 'another trailing byte: not ours')
  // the peer's status with the same fields but its own name differs in bytes
  const peer = encodePacket(messageOf([['t', 'status'], ['st', 'active'], ['src', 'beta'], ['seq', '2'], ['hg', '5'], ['ts', '6925f0a1'], ['ttl', '3']]), keys)
  t.equal(echo.match(peer), undefined, "a peer's packet is not taken for ours")
  const flipped = Buffer.from(bytes[0] as Buffer)
  flipped.writeUInt8((flipped.at(-3) ?? 0) ^ 1, flipped.length - 3)
  t.equal(echo.match(flipped), undefined, 'one bit changed (a forged or damaged copy): decoded as usual')
  t.notOk(decodePacket(flipped, keys).ok, 'and the decoder refuses it')
})

t.test('only the last few sends are kept; a status copy (same buffer) takes no extra room; new keys forget them', async (t) => {
  const echo = new OwnEcho()
  const msgs = Array.from({ length: 10 }, (_, i) => status(i + 1))
  const bytes = msgs.map((m) => encodePacket(m, keys))
  msgs.forEach((m, i) => {
    echo.remember(bytes[i] as Buffer, m)
    echo.remember(bytes[i] as Buffer, m)
  })
  t.equal(echo.match(bytes[0] as Buffer), undefined, 'the oldest two of ten are forgotten')
  t.equal(echo.match(bytes[1] as Buffer), undefined)
  t.equal(echo.match(bytes[2] as Buffer), msgs[2], 'the last eight are known, even though each was remembered twice')
  t.equal(echo.match(bytes[9] as Buffer), msgs[9])
  echo.clear()
  t.equal(echo.match(bytes[9] as Buffer), undefined, 'after clear() nothing is ours')
})
