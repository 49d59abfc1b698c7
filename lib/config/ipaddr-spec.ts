// IPv4 dotted quads, IPv6 addresses and the IPaddr resource spec `ip[/cidr[/nic][/bcast]]` used in haresources.

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

/**
 * An IPv6 address as inet_pton(AF_INET6) reads it: eight groups of 1-4 hex digits, one `::` for a run
 * of zero groups, an optional dotted-quad tail. Returns the 16 bytes, or undefined.
 */
export function parseIpv6(text: string): number[] | undefined {
  if (!/^[0-9A-Fa-f:.]+$/.test(text)) return undefined
  const halves = text.split('::')
  if (halves.length > 2) return undefined
  const groups = (part: string): number[] | undefined => {
    if (part === '') return []
    const out: number[] = []
    const words = part.split(':')
    for (const [i, w] of words.entries()) {
      if (i === words.length - 1 && w.includes('.')) {
        const v4 = parseIpv4(w)
        if (v4 === undefined) return undefined
        out.push(Math.floor(v4 / 65536), v4 % 65536)
      } else if (/^[0-9A-Fa-f]{1,4}$/.test(w)) out.push(parseInt(w, 16))
      else return undefined
    }
    return out
  }
  const head = groups(halves[0] ?? '')
  const tail = halves.length === 2 ? groups(halves[1] ?? '') : []
  if (head === undefined || tail === undefined) return undefined
  // a dotted quad only at the very end
  if (halves.length === 2 && (halves[0] ?? '').includes('.')) return undefined
  const missing = 8 - head.length - tail.length
  if (halves.length === 1 ? missing !== 0 : missing < 1) return undefined
  const all = [...head, ...Array<number>(halves.length === 2 ? missing : 0).fill(0), ...tail]
  return all.flatMap((g) => [Math.floor(g / 256), g % 256])
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
