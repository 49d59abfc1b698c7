// Reads tcpdump/wireshark captures (pcap and pcapng) down to the UDP datagrams they hold, so
// `hbctl decode` can take a whole `tcpdump -w` file. Pure: bytes in, datagrams out; IPv4 fragments
// are put back together (a heartbeat message near 64 KB crosses the wire in pieces).

export interface CapturedDatagram {
  /** 1-based frame number in the capture, as wireshark counts. */
  frame: number
  /** Capture time, seconds since the epoch (fractional). */
  timeSec: number
  src: string
  srcPort: number
  dst: string
  dstPort: number
  payload: Buffer
}

export type CaptureResult =
  | { ok: true; format: 'pcap' | 'pcapng'; datagrams: CapturedDatagram[]; frames: number; otherFrames: number }
  | { ok: false; reason: string }

const PCAP_MAGIC_US = 0xa1b2c3d4
const PCAP_MAGIC_NS = 0xa1b23c4d
const PCAPNG_SHB = 0x0a0d0d0a
const PCAPNG_BYTE_ORDER = 0x1a2b3c4d

// Link-layer types (tcpdump's LINKTYPE_*).
const LINK_ETHERNET = 1
const LINK_RAW = 101
const LINK_LINUX_SLL = 113
const LINK_IPV4 = 228
const LINK_IPV6 = 229
const LINK_LINUX_SLL2 = 276

/** Fragments waiting for their siblings are bounded: a capture of garbage cannot grow this without end. */
const MAX_PENDING_FRAGMENT_SETS = 256

/** True when the bytes start like a pcap or pcapng file (rather than one raw datagram). */
export function isCapture(buf: Buffer): boolean {
  if (buf.length < 4) return false
  const le = buf.readUInt32LE(0)
  const be = buf.readUInt32BE(0)
  return le === PCAP_MAGIC_US || be === PCAP_MAGIC_US || le === PCAP_MAGIC_NS || be === PCAP_MAGIC_NS || le === PCAPNG_SHB
}

interface Frame {
  frame: number
  timeSec: number
  linkType: number
  data: Buffer
}

function readPcap(buf: Buffer): { frames: Frame[] } | { reason: string } {
  if (buf.length < 24) return { reason: 'pcap header truncated' }
  const le = buf.readUInt32LE(0) === PCAP_MAGIC_US || buf.readUInt32LE(0) === PCAP_MAGIC_NS
  const u32 = (o: number): number => (le ? buf.readUInt32LE(o) : buf.readUInt32BE(o))
  const nanos = (le ? buf.readUInt32LE(0) : buf.readUInt32BE(0)) === PCAP_MAGIC_NS
  const linkType = u32(20) & 0xffff
  const frames: Frame[] = []
  let off = 24
  while (off + 16 <= buf.length) {
    const sec = u32(off)
    const frac = u32(off + 4)
    const caplen = u32(off + 8)
    if (off + 16 + caplen > buf.length) return { reason: `frame ${frames.length + 1} truncated (capture cut short?)` }
    frames.push({ frame: frames.length + 1, timeSec: sec + frac / (nanos ? 1e9 : 1e6), linkType, data: buf.subarray(off + 16, off + 16 + caplen) })
    off += 16 + caplen
  }
  return { frames }
}

function readPcapng(buf: Buffer): { frames: Frame[] } | { reason: string } {
  const frames: Frame[] = []
  let le = true
  let interfaces: { linkType: number; tsDivisor: number }[] = []
  let off = 0
  while (off + 12 <= buf.length) {
    const type = buf.readUInt32LE(off)
    if (type === PCAPNG_SHB) {
      // A new section: its byte-order magic decides how the rest is read; interfaces start over.
      const magic = buf.readUInt32LE(off + 8)
      le = magic === PCAPNG_BYTE_ORDER
      if (!le && buf.readUInt32BE(off + 8) !== PCAPNG_BYTE_ORDER) return { reason: 'pcapng section header with an unknown byte-order magic' }
      interfaces = []
    }
    const u32 = (o: number): number => (le ? buf.readUInt32LE(o) : buf.readUInt32BE(o))
    const u16 = (o: number): number => (le ? buf.readUInt16LE(o) : buf.readUInt16BE(o))
    const blockType = u32(off)
    const len = u32(off + 4)
    if (len < 12 || len % 4 !== 0 || off + len > buf.length) return { reason: `pcapng block at byte ${off} has a bad length (${len})` }
    if (blockType === 1) {
      // Interface Description Block: link type, and if_tsresol among its options (default microseconds).
      let tsDivisor = 1e6
      let o = off + 16
      while (o + 4 <= off + len - 4) {
        const code = u16(o)
        const olen = u16(o + 2)
        if (code === 0) break
        if (code === 9 && olen >= 1) {
          const r = buf[o + 4] ?? 6
          tsDivisor = r & 0x80 ? 2 ** (r & 0x7f) : 10 ** r
        }
        o += 4 + Math.ceil(olen / 4) * 4
      }
      interfaces.push({ linkType: u16(off + 8), tsDivisor })
    } else if (blockType === 6) {
      // Enhanced Packet Block.
      const iface = interfaces[u32(off + 8)]
      const caplen = u32(off + 20)
      if (iface !== undefined && off + 28 + caplen <= off + len) {
        const ts = u32(off + 12) * 2 ** 32 + u32(off + 16)
        frames.push({ frame: frames.length + 1, timeSec: ts / iface.tsDivisor, linkType: iface.linkType, data: buf.subarray(off + 28, off + 28 + caplen) })
      }
    } else if (blockType === 3) {
      // Simple Packet Block: interface 0, no time stamp.
      const iface = interfaces[0]
      if (iface !== undefined) frames.push({ frame: frames.length + 1, timeSec: 0, linkType: iface.linkType, data: buf.subarray(off + 12, off + len - 4) })
    }
    off += len
  }
  return { frames }
}

/** The network-layer packet inside a link-layer frame: [ethertype-like protocol, bytes]. */
function networkLayer(linkType: number, data: Buffer): { proto: number; ip: Buffer } | undefined {
  let proto: number
  let off: number
  switch (linkType) {
    case LINK_ETHERNET: {
      if (data.length < 14) return undefined
      proto = data.readUInt16BE(12)
      off = 14
      // 802.1Q / 802.1ad tags
      while ((proto === 0x8100 || proto === 0x88a8) && data.length >= off + 4) {
        proto = data.readUInt16BE(off + 2)
        off += 4
      }
      break
    }
    case LINK_LINUX_SLL:
      if (data.length < 16) return undefined
      proto = data.readUInt16BE(14)
      off = 16
      break
    case LINK_LINUX_SLL2:
      if (data.length < 20) return undefined
      proto = data.readUInt16BE(0)
      off = 20
      break
    case LINK_RAW:
    case LINK_IPV4:
    case LINK_IPV6: {
      const version = (data[0] ?? 0) >> 4
      proto = version === 6 ? 0x86dd : 0x0800
      off = 0
      break
    }
    default:
      return undefined
  }
  return { proto, ip: data.subarray(off) }
}

function ipv6Text(b: Buffer): string {
  const groups: string[] = []
  for (let i = 0; i < 16; i += 2) groups.push(b.readUInt16BE(i).toString(16))
  return groups.join(':').replace(/(^|:)0(:0)+(:|$)/, '::').replace(/:{3,}/, '::')
}

interface Udp {
  src: string
  dst: string
  payloadWithHeader: Buffer
}

export function readCapture(buf: Buffer): CaptureResult {
  const isNg = buf.length >= 4 && buf.readUInt32LE(0) === PCAPNG_SHB
  const read = isNg ? readPcapng(buf) : readPcap(buf)
  if ('reason' in read) return { ok: false, reason: read.reason }
  const datagrams: CapturedDatagram[] = []
  let otherFrames = 0
  const fragments = new Map<string, { parts: { offset: number; data: Buffer; last: boolean }[]; src: string; dst: string }>()

  const takeUdp = (f: Frame, udp: Udp): void => {
    const u = udp.payloadWithHeader
    if (u.length < 8) return
    const length = Math.min(u.readUInt16BE(4), u.length)
    datagrams.push({ frame: f.frame, timeSec: f.timeSec, src: udp.src, srcPort: u.readUInt16BE(0), dst: udp.dst, dstPort: u.readUInt16BE(2), payload: u.subarray(8, Math.max(8, length)) })
  }

  for (const f of read.frames) {
    const net = networkLayer(f.linkType, f.data)
    if (net === undefined) {
      otherFrames++
      continue
    }
    const ip = net.ip
    if (net.proto === 0x0800 && ip.length >= 20 && ip[0] !== undefined && ip[0] >> 4 === 4) {
      const ihl = (ip[0] & 0x0f) * 4
      const total = Math.min(ip.readUInt16BE(2), ip.length)
      if (ip[9] !== 17 || ihl < 20 || total < ihl) {
        otherFrames++
        continue
      }
      const src = [...ip.subarray(12, 16)].join('.')
      const dst = [...ip.subarray(16, 20)].join('.')
      const flagsFrag = ip.readUInt16BE(6)
      const moreFragments = (flagsFrag & 0x2000) !== 0
      const fragOffset = (flagsFrag & 0x1fff) * 8
      const body = ip.subarray(ihl, total)
      if (!moreFragments && fragOffset === 0) {
        takeUdp(f, { src, dst, payloadWithHeader: body })
        continue
      }
      const key = `${src}>${dst}#${ip.readUInt16BE(4)}`
      let set = fragments.get(key)
      if (set === undefined) {
        if (fragments.size >= MAX_PENDING_FRAGMENT_SETS) fragments.delete(fragments.keys().next().value as string)
        set = { parts: [], src, dst }
        fragments.set(key, set)
      }
      set.parts.push({ offset: fragOffset, data: body, last: !moreFragments })
      const parts = [...set.parts].sort((a, b) => a.offset - b.offset)
      let next = 0
      for (const p of parts) if (p.offset <= next) next = Math.max(next, p.offset + p.data.length)
      const last = parts.find((p) => p.last)
      if (last !== undefined && next >= last.offset + last.data.length) {
        const whole = Buffer.alloc(next)
        for (const p of parts) p.data.copy(whole, p.offset)
        fragments.delete(key)
        takeUdp(f, { src, dst, payloadWithHeader: whole })
      }
      continue
    }
    if (net.proto === 0x86dd && ip.length >= 40 && ip[6] === 17) {
      const len = Math.min(ip.readUInt16BE(4), ip.length - 40)
      takeUdp(f, { src: ipv6Text(ip.subarray(8, 24)), dst: ipv6Text(ip.subarray(24, 40)), payloadWithHeader: ip.subarray(40, 40 + len) })
      continue
    }
    otherFrames++
  }
  return { ok: true, format: isNg ? 'pcapng' : 'pcap', datagrams, frames: read.frames.length, otherFrames }
}
