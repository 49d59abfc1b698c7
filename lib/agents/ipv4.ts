// IPv4 mask arithmetic for the address agents (findif's prefix, network and broadcast maths).

/** Netmask of a prefix length, as an unsigned 32-bit number. */
export function prefixToMask(prefixLen: number): number {
  return prefixLen <= 0 ? 0 : (0xffffffff << (32 - prefixLen)) >>> 0
}

/** findif: the broadcast is `ip | ~mask` when none is given. */
export function broadcastOf(ip: number, prefixLen: number): number {
  return (ip | ~prefixToMask(prefixLen)) >>> 0
}

export function sameNetwork(a: number, b: number, prefixLen: number): boolean {
  const mask = prefixToMask(prefixLen)
  return ((a & mask) >>> 0) === ((b & mask) >>> 0)
}
