// The IPaddr resource argument as the agent needs it: the haresources spec (lib/config/ipaddr-spec.ts) plus the raw text for hooks.

import { parseIpaddrSpec } from '../config/ipaddr-spec.js'

export interface IpSpec {
  /** The text as written in haresources (the rc.d hooks get it verbatim). */
  raw: string
  ip: string
  /** Prefix length when the spec gives one (bits, or a dotted mask converted). */
  prefixLen?: number
  /** Base interface; a label such as `eth0:0` names eth0 (the alias number is ours to choose). */
  nic?: string
  broadcast?: string
}

export type IpSpecResult = { ok: true; spec: IpSpec } | { ok: false; message: string }

export function parseIpSpec(raw: string): IpSpecResult {
  const parsed = parseIpaddrSpec(raw)
  if (!parsed.ok) return parsed
  const spec: IpSpec = { raw, ip: parsed.value.ip }
  if (parsed.value.cidrBits !== undefined) spec.prefixLen = parsed.value.cidrBits
  if (parsed.value.nic !== undefined) spec.nic = parsed.value.nic.split(':')[0] ?? parsed.value.nic
  if (parsed.value.broadcast !== undefined) spec.broadcast = parsed.value.broadcast
  if (spec.nic === '') return { ok: false, message: `${JSON.stringify(raw)}: empty interface name` }
  return { ok: true, spec }
}
