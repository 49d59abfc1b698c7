// The IPaddr resource argument `ip[/cidr[/nic][/bcast]]`, split the way heartbeat's wrapper and findif split it.

import { formatIpv4, maskToPrefix, parseIpv4 } from './ipv4.js'

export interface IpSpec {
  /** The text as written in haresources (the hooks get it verbatim). */
  raw: string
  ip: string
  /** Prefix length when the spec gives one (bits, or a dotted mask converted). */
  prefixLen?: number
  nic?: string
  broadcast?: string
}

export type IpSpecResult = { ok: true; spec: IpSpec } | { ok: false; message: string }

// Linux IFNAMSIZ is 16 including the NUL; ip(8) refuses longer names.
const NIC_NAME = /^[A-Za-z_][A-Za-z0-9_.@-]{0,14}$/

/**
 * heartbeat 3.0.6 wrapper (hto-mapfuncs): part 1 ip, part 2 cidr (bits or dotted), part 3 a
 * broadcast when it starts with a digit, else the nic with an optional part 4 broadcast.
 */
export function parseIpSpec(raw: string): IpSpecResult {
  const parts = raw.split('/')
  const [ipText, cidrText, third, fourth, ...rest] = parts
  const bad = (why: string): IpSpecResult => ({ ok: false, message: `${JSON.stringify(raw)}: ${why}` })
  if (ipText === undefined || parseIpv4(ipText) === undefined) return bad('the address is not a dotted quad (IPv4 only)')
  if (rest.length > 0) return bad('too many "/" parts (use ip[/cidr[/nic][/broadcast]])')
  const spec: IpSpec = { raw, ip: formatIpv4(parseIpv4(ipText) ?? 0) }
  if (cidrText !== undefined && cidrText !== '') {
    const prefixLen = parseCidr(cidrText)
    if (prefixLen === undefined) return bad(`netmask ${JSON.stringify(cidrText)} is neither 1-32 bits nor a contiguous dotted mask`)
    spec.prefixLen = prefixLen
  }
  let bcastText: string | undefined
  if (third !== undefined && third !== '') {
    if (/^\d/.test(third)) {
      if (fourth !== undefined) return bad('a broadcast in the third part cannot be followed by a fourth')
      bcastText = third
    } else {
      // A label such as eth0:0 names its base interface; the alias number is ours to choose.
      const nic = third.split(':')[0] ?? ''
      if (!NIC_NAME.test(nic)) return bad(`${JSON.stringify(third)} is not an interface name`)
      spec.nic = nic
      if (fourth !== undefined && fourth !== '') bcastText = fourth
    }
  }
  if (bcastText !== undefined) {
    const b = parseIpv4(bcastText)
    if (b === undefined) return bad(`broadcast ${JSON.stringify(bcastText)} is not a dotted quad`)
    spec.broadcast = formatIpv4(b)
  }
  return { ok: true, spec }
}

function parseCidr(text: string): number | undefined {
  if (/^\d{1,2}$/.test(text)) {
    const bits = Number(text)
    return bits >= 1 && bits <= 32 ? bits : undefined
  }
  const mask = parseIpv4(text)
  if (mask === undefined || mask === 0) return undefined
  return maskToPrefix(mask)
}
