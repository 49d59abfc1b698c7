// IPv4 dotted quads and the IPaddr resource spec `ip[/cidr[/nic][/bcast]]` used in haresources.

import { quote } from './diagnostics.js'

export type Parsed<T> = { ok: true; value: T } | { ok: false; message: string }

/** Strict dotted quad: four decimal parts 0-255. Returns the address as an unsigned 32-bit number. */
export function parseIpv4(text: string): number | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text)
  if (!m) return undefined
  let n = 0
  for (let i = 1; i <= 4; i++) {
    const part = Number(m[i])
    if (part > 255) return undefined
    n = n * 256 + part
  }
  return n
}

export function formatIpv4(n: number): string {
  return [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join('.')
}

/** A netmask given as bits (1-32) or as a contiguous dotted quad; returns the bit count. */
export function parseNetmask(text: string): number | undefined {
  if (/^\d{1,2}$/.test(text)) {
    const bits = Number(text)
    return bits >= 1 && bits <= 32 ? bits : undefined
  }
  const n = parseIpv4(text)
  if (n === undefined) return undefined
  let bits = 0
  while (bits < 32 && Math.floor(n / 2 ** (31 - bits)) % 2 === 1) bits++
  // contiguous: everything after the leading ones must be zero
  const expected = bits === 0 ? 0 : (2 ** 32 - 2 ** (32 - bits))
  return n === expected && bits > 0 ? bits : undefined
}

/** Linux interface names: 1-15 bytes, no '/' and no blanks (IFNAMSIZ 16 with its NUL). */
export function isInterfaceName(text: string): boolean {
  return /^[^\s/]{1,15}$/.test(text) && text !== '.' && text !== '..'
}

export interface IpaddrSpec {
  ip: string
  /** Prefix length, when given (bits or a dotted-quad mask, normalised to bits). */
  cidrBits?: number
  /** The netmask as written, when given. */
  netmask?: string
  nic?: string
  broadcast?: string
}

/**
 * The IPaddr wrapper's argument (heartbeat resource.d/IPaddr + hto-mapfuncs): `ip`, `ip/cidr`,
 * `ip/cidr/nic`, `ip/cidr/bcast` (third part starts with a digit), `ip/cidr/nic/bcast`.
 */
export function parseIpaddrSpec(spec: string): Parsed<IpaddrSpec> {
  const parts = spec.split('/')
  const [ip, cidr, third, fourth] = parts
  if (ip === undefined || parseIpv4(ip) === undefined) {
    return { ok: false, message: `${quote(ip ?? spec)} is not an IPv4 address (in ${quote(spec)})` }
  }
  if (parts.length > 4) {
    return { ok: false, message: `${quote(spec)} has ${parts.length} parts; IPaddr takes ip[/cidr[/nic][/broadcast]]` }
  }
  const out: IpaddrSpec = { ip }
  if (cidr !== undefined) {
    const bits = parseNetmask(cidr)
    if (bits === undefined) {
      return { ok: false, message: `${quote(cidr)} is not a netmask (1-32 bits or a dotted quad) in ${quote(spec)}` }
    }
    out.cidrBits = bits
    out.netmask = cidr
  }
  if (third !== undefined) {
    if (/^[0-9]/.test(third)) {
      // hto-mapfuncs: a third part starting with a digit is the broadcast address
      if (parseIpv4(third) === undefined) {
        return { ok: false, message: `${quote(third)} is not a broadcast address in ${quote(spec)}` }
      }
      if (fourth !== undefined) {
        return { ok: false, message: `${quote(spec)}: a fourth part only follows an interface name (ip/cidr/nic/broadcast)` }
      }
      out.broadcast = third
    } else {
      if (!isInterfaceName(third)) {
        return { ok: false, message: `${quote(third)} is not an interface name in ${quote(spec)}` }
      }
      out.nic = third
      if (fourth !== undefined) {
        if (parseIpv4(fourth) === undefined) {
          return { ok: false, message: `${quote(fourth)} is not a broadcast address in ${quote(spec)}` }
        }
        out.broadcast = fourth
      }
    }
  }
  return { ok: true, value: out }
}
