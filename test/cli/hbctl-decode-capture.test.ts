// hbctl decode on whole captures (tcpdump -w pcap, and pcapng): every heartbeat datagram decoded and
// verified, a per-node summary with generations and sequence gaps, fragments put back together.
import t from 'tap'
import { chmodSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { main, type DecodeIo } from '../../lib/cli/hbctl-decode.js'
import { readCapture } from '../../lib/wire/pcap.js'
import { VECTORS_DIR } from '../wire/vector-kit.js'

const SCENARIO = join(VECTORS_DIR, 'sha1-on-startup')
const PCAP = readFileSync(join(SCENARIO, 'capture.pcap'))

function fakeIo(): DecodeIo & { out: string; err: string } {
  const io = { out: '', err: '', stdout: (s: string) => void (io.out += s), stderr: (s: string) => void (io.err += s), readStdin: async () => Buffer.alloc(0) }
  return io
}

function keyFile(dir: string, text: string): string {
  const p = join(dir, 'authkeys')
  writeFileSync(p, text)
  chmodSync(p, 0o600)
  return p
}

interface PcapFrame {
  sec: number
  usec: number
  data: Buffer
}

/** The frames of a little-endian microsecond pcap (what the fixtures are). */
function pcapFrames(buf: Buffer): PcapFrame[] {
  const out: PcapFrame[] = []
  for (let off = 24; off + 16 <= buf.length; ) {
    const len = buf.readUInt32LE(off + 8)
    out.push({ sec: buf.readUInt32LE(off), usec: buf.readUInt32LE(off + 4), data: buf.subarray(off + 16, off + 16 + len) })
    off += 16 + len
  }
  return out
}

function pcapOf(frames: readonly PcapFrame[]): Buffer {
  const parts: Buffer[] = [PCAP.subarray(0, 24)]
  for (const f of frames) {
    const h = Buffer.alloc(16)
    h.writeUInt32LE(f.sec, 0)
    h.writeUInt32LE(f.usec, 4)
    h.writeUInt32LE(f.data.length, 8)
    h.writeUInt32LE(f.data.length, 12)
    parts.push(h, f.data)
  }
  return Buffer.concat(parts)
}

/** The same frames as pcapng: section header, one Ethernet interface (microseconds), enhanced packet blocks. */
function pcapngOf(frames: readonly PcapFrame[]): Buffer {
  const block = (type: number, body: Buffer): Buffer => {
    const padded = Buffer.concat([body, Buffer.alloc((4 - (body.length % 4)) % 4)])
    const len = padded.length + 12
    const b = Buffer.alloc(len)
    b.writeUInt32LE(type, 0)
    b.writeUInt32LE(len, 4)
    padded.copy(b, 8)
    b.writeUInt32LE(len, len - 4)
    return b
  }
  const shb = Buffer.alloc(16)
  shb.writeUInt32LE(0x1a2b3c4d, 0)
  shb.writeUInt16LE(1, 4)
  shb.writeBigInt64LE(-1n, 8)
  const idb = Buffer.alloc(8)
  idb.writeUInt16LE(1, 0)
  idb.writeUInt32LE(262144, 4)
  const out: Buffer[] = [block(0x0a0d0d0a, shb), block(1, idb)]
  for (const f of frames) {
    const epb = Buffer.alloc(20)
    const ts = BigInt(f.sec) * 1_000_000n + BigInt(f.usec)
    epb.writeUInt32LE(0, 0)
    epb.writeUInt32LE(Number(ts >> 32n), 4)
    epb.writeUInt32LE(Number(ts & 0xffffffffn), 8)
    epb.writeUInt32LE(f.data.length, 12)
    epb.writeUInt32LE(f.data.length, 16)
    out.push(block(6, Buffer.concat([epb, f.data])))
  }
  return Buffer.concat(out)
}

t.test('a real 3.0.6 capture: every datagram authentic, a summary per node, exit 0', async (t) => {
  const dir = t.testdir({})
  const keys = keyFile(dir, readFileSync(join(SCENARIO, 'config', 'authkeys'), 'latin1'))
  const io = fakeIo()
  t.equal(await main(['--authkeys', keys, join(SCENARIO, 'capture.pcap')], io), 0, io.err)
  const expected = JSON.parse(readFileSync(join(SCENARIO, 'packets.json'), 'utf8')) as unknown[]
  t.match(io.out, new RegExp(`pcap capture, \\d+ frames, ${expected.length} heartbeat datagrams`), 'as many datagrams as the fixture lists')
  t.match(io.out, /#1 2026-\d\d-\d\d [\d:.]+ 10\.99\.0\.\d:\d+ > 10\.99\.0\.255:1001 \d+ bytes t=\S+ src=titanic\d\.etri\.re\.kr/)
  t.match(io.out, /titanic5\.etri\.re\.kr: \d+ packets, \d+ authentic, 0 not; generations \d+; no sequence gaps/)
  t.match(io.out, /titanic6\.etri\.re\.kr: \d+ packets, \d+ authentic, 0 not; generations \d+; no sequence gaps/)
  t.notMatch(io.out, /NOT authentic|MALFORMED/)
})

t.test('pcapng gives the same datagrams; --json carries packets and nodes', async (t) => {
  const dir = t.testdir({})
  const keys = keyFile(dir, readFileSync(join(SCENARIO, 'config', 'authkeys'), 'latin1'))
  const ng = join(dir, 'capture.pcapng')
  writeFileSync(ng, pcapngOf(pcapFrames(PCAP)))
  const a = readCapture(PCAP)
  const b = readCapture(readFileSync(ng))
  if (!a.ok || !b.ok) throw new Error('capture not read')
  t.equal(b.format, 'pcapng')
  t.same(b.datagrams.map((d) => [d.frame, d.src, d.dstPort, d.payload.toString('hex')]), a.datagrams.map((d) => [d.frame, d.src, d.dstPort, d.payload.toString('hex')]))
  t.equal(b.datagrams[0]?.timeSec, a.datagrams[0]?.timeSec, 'same time stamps')
  const io = fakeIo()
  t.equal(await main(['--json', '--authkeys', keys, ng], io), 0)
  const j = JSON.parse(io.out) as { capture: { format: string }; packets: { verdict: string }[]; nodes: { node: string; gaps: unknown[] }[] }
  t.equal(j.capture.format, 'pcapng')
  t.ok(j.packets.length > 10 && j.packets.every((p) => p.verdict === 'authentic'))
  t.same(j.nodes.map((n) => n.node), ['titanic5.etri.re.kr', 'titanic6.etri.re.kr'])
})

t.test('lost packets show as sequence gaps; a wrong key as NOT authentic with exit 1', async (t) => {
  const dir = t.testdir({})
  const frames = pcapFrames(PCAP)
  const all = readCapture(PCAP)
  if (!all.ok) throw new Error('capture not read')
  // Drop titanic5's seq=5 and seq=6 (its reqnodes and repnodes): the summary names them.
  const drop = new Set(all.datagrams.filter((d) => /src=titanic5\.etri\.re\.kr,[^]*\(0\)seq=[56],/.test(d.payload.toString('latin1'))).map((d) => d.frame))
  t.equal(drop.size, 2, 'two frames to drop')
  const lossy = join(dir, 'lossy.pcap')
  writeFileSync(lossy, pcapOf(frames.filter((_, i) => !drop.has(i + 1))))
  const keys = keyFile(dir, readFileSync(join(SCENARIO, 'config', 'authkeys'), 'latin1'))
  const io = fakeIo()
  await main(['--authkeys', keys, lossy], io)
  t.match(io.out, /titanic5\.etri\.re\.kr: .*generation \d+: 2 missing \(5-6\)/)

  const wrong = fakeIo()
  t.equal(await main(['--authkeys', keyFile(dir, 'auth 1\n1 sha1 not-the-key\n'), join(SCENARIO, 'capture.pcap')], wrong), 1)
  t.match(wrong.out, /: NOT authentic: /)
  t.match(wrong.out, /titanic5\.etri\.re\.kr: (\d+) packets, 0 authentic, \1 not/)
})

t.test('IPv4 fragments are reassembled; other traffic and --port filter', async (t) => {
  const all = readCapture(PCAP)
  if (!all.ok) throw new Error('capture not read')
  const [first] = pcapFrames(PCAP)
  if (first === undefined) throw new Error('no frame')
  // Split frame 1's IP payload (UDP header + datagram) into two fragments at byte 64 of the payload.
  const eth = first.data.subarray(0, 14)
  const ip = first.data.subarray(14)
  const ihl = ((ip[0] ?? 0x45) & 0x0f) * 4
  const body = ip.subarray(ihl)
  const frag = (part: Buffer, offset: number, more: boolean): Buffer => {
    const h = Buffer.from(ip.subarray(0, ihl))
    h.writeUInt16BE(ihl + part.length, 2)
    h.writeUInt16BE((more ? 0x2000 : 0) | (offset / 8), 6)
    return Buffer.concat([eth, h, part])
  }
  const split = pcapOf([
    { sec: first.sec, usec: first.usec, data: frag(body.subarray(64), 64, false) },
    { sec: first.sec, usec: first.usec + 1, data: frag(body.subarray(0, 64), 0, true) },
  ])
  const r = readCapture(split)
  if (!r.ok) throw new Error(r.reason)
  t.equal(r.datagrams.length, 1, 'one datagram from two fragments (out of order)')
  t.equal(r.datagrams[0]?.payload.toString('hex'), all.datagrams[0]?.payload.toString('hex'))

  const dir = t.testdir({})
  const io = fakeIo()
  await main(['--port', '9999', '--authkeys', keyFile(dir, 'auth 1\n1 sha1 HI!\n'), join(SCENARIO, 'capture.pcap')], io)
  t.match(io.out, '0 heartbeat datagrams')
  t.match(io.out, 'no heartbeat datagrams on port 9999')
  const bad = fakeIo()
  t.equal(await main(['--port', 'http', join(SCENARIO, 'capture.pcap')], bad), 2)
  t.match(bad.err, '--port takes a UDP port number')
  const cut = readCapture(PCAP.subarray(0, PCAP.length - 10))
  t.match(cut, { ok: false, reason: /truncated/ })
})
