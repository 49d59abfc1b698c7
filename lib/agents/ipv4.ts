// IPv4 dotted-quad arithmetic shared by the address agents (findif's mask and broadcast maths).

/** Parses a strict dotted quad (four decimal octets 0-255) to an unsigned 32-bit number. */
export function parseIpv4(text: string): number | undefined {
  const parts = text.split('.')
  if (parts.length !== 4) return undefined
  let value = 0
  for (const part of parts) {
    if (!/^\d{1,3}$/.test(part)) return undefined
    const octet = Number(part)
    if (octet > 255) return undefined
    value = value * 256 + octet
  }
  return value
}

export function formatIpv4(value: number): string {
  const v = value >>> 0
  return [v >>> 24, (v >>> 16) & 255, (v >>> 8) & 255, v & 255].join('.')
}

/** Netmask of a prefix length, as an unsigned 32-bit number. */
export function prefixToMask(prefixLen: number): number {
  return prefixLen <= 0 ? 0 : (0xffffffff << (32 - prefixLen)) >>> 0
}

/** Prefix length of a contiguous dotted netmask; undefined when the bits are not contiguous. */
export function maskToPrefix(mask: number): number | undefined {
  const m = mask >>> 0
  let len = 0
  while (len < 32 && ((m >>> (31 - len)) & 1) === 1) len++
  return prefixToMask(len) === m ? len : undefined
}

/** findif: the broadcast is `ip | ~mask` when none is given. */
export function broadcastOf(ip: number, prefixLen: number): number {
  return (ip | ~prefixToMask(prefixLen)) >>> 0
}

export function sameNetwork(a: number, b: number, prefixLen: number): boolean {
  const mask = prefixToMask(prefixLen)
  return ((a & mask) >>> 0) === ((b & mask) >>> 0)
}
