// The serial reader (issue 12 point 3): 3.0.6's `>>>`…`<<<` framing taken out of a byte stream that
// arrives in any pieces, with line noise, cut-short and over-long frames; memory stays bounded.
import t from 'tap'
import { SerialFrameReader, type SerialFrameEvent } from '../../lib/wire/serial-frame.js'
import { decodePacket, encodeClassicPacket } from '../../lib/wire/packet.js'
import { messageOf } from '../../lib/wire/message.js'
import { sha1Keys } from './wire-kit.js'

const frameOf = (seq: number): Buffer =>
  encodeClassicPacket(messageOf([['t', 'status'], ['st', 'active'], ['src', 'titanic5.etri.re.kr'], ['seq', String(seq)], ['info', 'two\nlines']]), sha1Keys, { trailingNul: false })

function frames(events: readonly SerialFrameEvent[]): Buffer[] {
  return events.flatMap((e) => (e.kind === 'frame' ? [e.bytes] : []))
}

function drops(events: readonly SerialFrameEvent[]): string[] {
  return events.flatMap((e) => (e.kind === 'dropped' ? [e.reason] : []))
}

/** A small deterministic generator, so a failure replays. */
function prng(seed: number): () => number {
  let x = seed >>> 0 || 1
  return () => {
    x ^= x << 13
    x >>>= 0
    x ^= x >>> 17
    x ^= x << 5
    x >>>= 0
    return x / 2 ** 32
  }
}

t.test('a frame read one byte at a time is the frame sent, and verifies', async (t) => {
  const r = new SerialFrameReader()
  const sent = frameOf(7)
  const out: SerialFrameEvent[] = []
  for (const b of sent) out.push(...r.push(Buffer.from([b])))
  t.same(frames(out), [sent], 'one frame, byte for byte')
  const d = decodePacket(frames(out)[0] ?? Buffer.alloc(0), sha1Keys)
  t.ok(d.ok, 'its auth field verifies')
})

t.test('line noise before, between and after frames is skipped', async (t) => {
  const r = new SerialFrameReader()
  const a = frameOf(1)
  const b = frameOf(2)
  const out = r.push(Buffer.concat([Buffer.from('\x00\xff garbage\n<<<\nno=start\n'), a, Buffer.from('ATZ\r\nOK\n'), b, Buffer.from('trailing')]))
  t.same(frames(out), [a, b], 'both frames, nothing else')
  t.same(drops(out), [], 'noise outside a frame is not a dropped frame')
})

t.test('a frame cut short by the next start is dropped; the next frame is whole', async (t) => {
  const r = new SerialFrameReader()
  const b = frameOf(2)
  const out = r.push(Buffer.concat([Buffer.from('>>>\nt=status\nseq=1\n'), b]))
  t.same(frames(out), [b], 'the whole frame after it is taken')
  t.same(drops(out), ['frame cut short by a new ">>>" line'], 'the cut one is reported dropped')
})

t.test('an over-long frame is dropped once, its rest skipped, and the next frame taken', async (t) => {
  const r = new SerialFrameReader(4096)
  const huge = Buffer.concat([Buffer.from('>>>\n'), Buffer.from(`${'x=y\n'.repeat(5000)}<<<\n`)])
  const next = frameOf(3)
  const out = r.push(Buffer.concat([huge, next]))
  t.same(drops(out), ['frame longer than 4096 bytes'], 'one drop for the long frame')
  t.same(frames(out), [next], 'the frame after it is taken whole')
  t.ok(r.bufferedBytes === 0, 'nothing held after a whole frame')
})

t.test('an endless line holds no more than the bound', async (t) => {
  const r = new SerialFrameReader(4096)
  const noise = Buffer.alloc(1024 * 1024, 0x41)
  let most = 0
  for (let i = 0; i < 8; i++) {
    r.push(noise)
    most = Math.max(most, r.bufferedBytes)
  }
  t.ok(most <= 3, `hunting for a start keeps only a marker's worth (${most} bytes)`)
  r.push(Buffer.from('\n>>>\n'))
  for (let i = 0; i < 8; i++) {
    r.push(noise)
    most = Math.max(most, r.bufferedBytes)
  }
  t.ok(most <= 4096, `inside a frame at most the bound (${most} bytes)`)
  const next = frameOf(4)
  t.same(frames(r.push(Buffer.concat([Buffer.from('\n'), next]))), [next], 'the reader recovers at the next frame')
})

t.test('fuzz: frames in random noise, split at random places, all come out whole and in order', async (t) => {
  const rnd = prng(12)
  const alphabet = Buffer.from('><=\n\r\x00\xffab<<<>>>')
  for (let round = 0; round < 200; round++) {
    const r = new SerialFrameReader(2048)
    const sent: Buffer[] = []
    const parts: Buffer[] = []
    for (let i = 0; i < 5; i++) {
      const noise = Buffer.alloc(Math.floor(rnd() * 3000))
      for (let j = 0; j < noise.length; j++) noise[j] = alphabet[Math.floor(rnd() * alphabet.length)] ?? 0
      const f = frameOf(round * 10 + i)
      sent.push(f)
      // a frame starts on a line of its own, as every writer puts it
      parts.push(noise, Buffer.from('\n'), f)
    }
    const stream = Buffer.concat(parts)
    const out: SerialFrameEvent[] = []
    let at = 0
    let most = 0
    while (at < stream.length) {
      const n = 1 + Math.floor(rnd() * 700)
      out.push(...r.push(stream.subarray(at, at + n)))
      most = Math.max(most, r.bufferedBytes)
      at += n
    }
    const got = frames(out).filter((f) => decodePacket(f, sha1Keys).ok)
    if (got.length !== sent.length || got.some((f, i) => !f.equals(sent[i] ?? Buffer.alloc(0))) || most > 2048) {
      t.fail(`round ${round}: ${got.length} of ${sent.length} frames verified, ${most} bytes held at most`)
      return
    }
  }
  t.pass('200 rounds: every frame verified, in order, never more than the bound held')
})
