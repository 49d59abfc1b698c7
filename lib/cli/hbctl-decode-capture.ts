// hbctl decode on a tcpdump/wireshark capture: every heartbeat datagram in it, decoded and verified,
// then one summary per node (packets, generations, sequence gaps, verdicts).

import type { AuthKeys } from '../wire/auth-keys.js'
import { getString } from '../wire/message.js'
import { parseDatagram, verifyParsed } from '../wire/packet.js'
import type { CapturedDatagram } from '../wire/pcap.js'

export interface DecodedCapturePacket {
  frame: number
  timeSec: number
  from: string
  to: string
  bytes: number
  /** t=, src=, seq= and hg= of the message (undefined when it did not parse). */
  type?: string
  node?: string
  seq?: number
  generation?: number
  verdict: 'authentic' | 'not-authentic' | 'unchecked' | 'malformed'
  reason?: string
}

export interface NodeSummary {
  node: string
  packets: number
  authentic: number
  notAuthentic: number
  generations: number[]
  /** Per generation, the sequence numbers never seen between the lowest and the highest seen. */
  gaps: { generation: number; missing: number; ranges: string[] }[]
}

/** Looks like heartbeat: netstring `###\n` or classic `>>>\n` at the start of the payload. */
export function looksLikeHeartbeat(payload: Buffer): boolean {
  const head = payload.subarray(0, 4).toString('latin1')
  return head === '###\n' || head === '>>>\n'
}

export function decodeCapturePacket(d: CapturedDatagram, keys: AuthKeys | undefined): DecodedCapturePacket {
  const base = { frame: d.frame, timeSec: d.timeSec, from: `${d.src}:${d.srcPort}`, to: `${d.dst}:${d.dstPort}`, bytes: d.payload.length }
  const parsed = parseDatagram(d.payload)
  if (!parsed.ok) return { ...base, verdict: 'malformed', reason: parsed.reason }
  const hex = (name: string): number | undefined => {
    const v = getString(parsed.msg, name)
    return v !== undefined && /^[0-9a-f]{1,13}$/i.test(v) ? parseInt(v, 16) : undefined
  }
  const fields = { type: getString(parsed.msg, 't'), node: getString(parsed.msg, 'src'), seq: hex('seq'), generation: hex('hg') }
  const defined = Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined))
  if (keys === undefined) return { ...base, ...defined, verdict: 'unchecked' }
  const result = verifyParsed(parsed, keys)
  return result.ok ? { ...base, ...defined, verdict: 'authentic' } : { ...base, ...defined, verdict: 'not-authentic', reason: result.reason }
}

function ranges(missing: number[]): string[] {
  const out: string[] = []
  let i = 0
  while (i < missing.length) {
    const start = missing[i] as number
    let end = start
    while (i + 1 < missing.length && missing[i + 1] === end + 1) end = missing[++i] as number
    out.push(start === end ? String(start) : `${start}-${end}`)
    i++
  }
  return out
}

/** A capture can hold millions of packets; a gap report longer than this says "…" instead. */
const MAX_REPORTED_RANGES = 10
/** A sequence span wider than this is not walked number by number (a forged seq would cost a long loop). */
const MAX_WALKED_SPAN = 1_000_000

export function summarizeNodes(packets: readonly DecodedCapturePacket[]): NodeSummary[] {
  const byNode = new Map<string, DecodedCapturePacket[]>()
  for (const p of packets) {
    if (p.node === undefined) continue
    const list = byNode.get(p.node) ?? []
    list.push(p)
    byNode.set(p.node, list)
  }
  const out: NodeSummary[] = []
  for (const [node, list] of [...byNode].sort(([a], [b]) => a.localeCompare(b))) {
    const generations = [...new Set(list.flatMap((p) => (p.generation === undefined ? [] : [p.generation])))].sort((a, b) => a - b)
    const gaps: NodeSummary['gaps'] = []
    for (const g of generations) {
      const seqs = [...new Set(list.filter((p) => p.generation === g && p.seq !== undefined).map((p) => p.seq as number))].sort((a, b) => a - b)
      const lo = seqs[0]
      const hi = seqs[seqs.length - 1]
      if (lo === undefined || hi === undefined) continue
      if (hi - lo > MAX_WALKED_SPAN) {
        gaps.push({ generation: g, missing: hi - lo + 1 - seqs.length, ranges: [`span ${lo}-${hi} too wide to list`] })
        continue
      }
      const seen = new Set(seqs)
      const missing: number[] = []
      for (let s = lo; s <= hi; s++) if (!seen.has(s)) missing.push(s)
      if (missing.length > 0) {
        const r = ranges(missing)
        gaps.push({ generation: g, missing: missing.length, ranges: r.length > MAX_REPORTED_RANGES ? [...r.slice(0, MAX_REPORTED_RANGES), '…'] : r })
      }
    }
    out.push({
      node,
      packets: list.length,
      authentic: list.filter((p) => p.verdict === 'authentic').length,
      notAuthentic: list.filter((p) => p.verdict === 'not-authentic').length,
      generations,
      gaps,
    })
  }
  return out
}

export function packetLine(p: DecodedCapturePacket): string {
  const when = p.timeSec > 0 ? new Date(p.timeSec * 1000).toISOString().replace('T', ' ').replace('Z', '') : '-'
  const what = p.type === undefined ? '' : ` t=${p.type}${p.node === undefined ? '' : ` src=${p.node}`}${p.seq === undefined ? '' : ` seq=${p.seq}`}${p.generation === undefined ? '' : ` hg=${p.generation}`}`
  const verdict = p.verdict === 'authentic' ? 'authentic' : p.verdict === 'unchecked' ? 'not checked' : `${p.verdict === 'malformed' ? 'MALFORMED' : 'NOT authentic'}: ${p.reason ?? ''}`
  return `#${p.frame} ${when} ${p.from} > ${p.to} ${p.bytes} bytes${what}: ${verdict}`
}

export function summaryLine(s: NodeSummary): string {
  const gaps = s.gaps.length === 0 ? 'no sequence gaps' : s.gaps.map((g) => `generation ${g.generation}: ${g.missing} missing (${g.ranges.join(', ')})`).join('; ')
  return `${s.node}: ${s.packets} packets, ${s.authentic} authentic, ${s.notAuthentic} not; generations ${s.generations.join(', ') || '-'}; ${gaps}`
}
