// Facts about a named interface, as `ip -j addr show dev` reports them: its IPv4 address, prefix and
// broadcast; its IPv6 addresses.

import { execa } from 'execa'
import { networkInterfaces } from 'node:os'

export interface InterfaceInfo {
  ifname: string
  /** Primary IPv4 address. */
  address: string
  prefixLength: number
  /** The broadcast address configured on the interface (SIOCGIFBRDADDR). */
  broadcast: string
}

export type InterfaceLookup = (ifname: string) => Promise<InterfaceInfo>

function ipToInt(ip: string): number {
  return ip.split('.').reduce((acc, part) => ((acc << 8) | (Number(part) & 255)) >>> 0, 0)
}

function intToIp(n: number): string {
  return [24, 16, 8, 0].map((s) => (n >>> s) & 255).join('.')
}

/** address | ~mask: the broadcast address a netmask implies. */
export function impliedBroadcast(address: string, prefixLength: number): string {
  const mask = prefixLength === 0 ? 0 : (0xffffffff << (32 - prefixLength)) >>> 0
  return intToIp((ipToInt(address) | (~mask >>> 0)) >>> 0)
}

interface IpJsonAddr {
  family?: unknown
  local?: unknown
  prefixlen?: unknown
  broadcast?: unknown
  secondary?: unknown
}

/** The `addr_info` lists of `ip -j addr show` output, link by link; undefined when it is not that JSON. */
function addrInfoLists<T>(json: string): T[][] | undefined {
  let parsed: unknown
  try {
    parsed = JSON.parse(json)
  } catch {
    return undefined
  }
  if (!Array.isArray(parsed)) return undefined
  return (parsed as Array<{ addr_info?: unknown }>).map((link) => (Array.isArray(link.addr_info) ? (link.addr_info as T[]) : []))
}

/** Parse `ip -j -4 addr show dev <if>` output; undefined when no IPv4 address is there. */
export function parseIpAddrJson(ifname: string, json: string): InterfaceInfo | undefined {
  for (const infos of addrInfoLists<IpJsonAddr>(json) ?? []) {
    // The first non-secondary inet address is the one SIOCGIFADDR/SIOCGIFBRDADDR report.
    const a = infos.find((i) => i.family === 'inet' && i.secondary !== true && typeof i.local === 'string')
    if (a && typeof a.local === 'string') {
      const prefixLength = typeof a.prefixlen === 'number' ? a.prefixlen : 32
      const broadcast = typeof a.broadcast === 'string' ? a.broadcast : impliedBroadcast(a.local, prefixLength)
      return { ifname, address: a.local, prefixLength, broadcast }
    }
  }
  return undefined
}

/** Read an interface with iproute2; fall back to os.networkInterfaces() (broadcast then implied). */
export const lookupInterface: InterfaceLookup = async (ifname) => {
  const r = await execa('ip', ['-j', '-4', 'addr', 'show', 'dev', ifname], { reject: false, timeout: 10_000 })
  if (r.exitCode === 0) {
    const info = parseIpAddrJson(ifname, String(r.stdout))
    if (info) return info
  }
  const entry = networkInterfaces()[ifname]?.find((a) => a.family === 'IPv4')
  if (entry?.cidr) {
    const prefixLength = Number(entry.cidr.split('/')[1] ?? '32')
    return { ifname, address: entry.address, prefixLength, broadcast: impliedBroadcast(entry.address, prefixLength) }
  }
  throw new Error(`interface ${ifname}: no IPv4 address (ip -j -4 addr show dev ${ifname}: exit ${r.exitCode ?? '?'}${r.stderr ? `, ${String(r.stderr).trim()}` : ''})`)
}

/** One IPv6 address of an interface. */
export interface Ipv6Address {
  address: string
  prefixLength: number
  /** fe80::/10: usable only with the interface as scope (`fe80::1%eth0`). */
  linkLocal: boolean
}

export interface Interface6Info {
  ifname: string
  /** Global/unique-local addresses first, then link-local; none that failed duplicate detection. */
  addresses: Ipv6Address[]
}

export type Interface6Lookup = (ifname: string) => Promise<Interface6Info>

interface IpJsonAddr6 {
  family?: unknown
  local?: unknown
  prefixlen?: unknown
  scope?: unknown
  dadfailed?: unknown
}

/** Parse `ip -j -6 addr show dev <if>` output; undefined when no usable IPv6 address is there. */
export function parseIp6AddrJson(ifname: string, json: string): Interface6Info | undefined {
  const lists = addrInfoLists<IpJsonAddr6>(json)
  if (lists === undefined) return undefined
  const addresses: Ipv6Address[] = []
  for (const infos of lists) {
    for (const a of infos) {
      // host scope (::1) reaches no peer; an address that failed DAD can never be bound
      if (a.family !== 'inet6' || typeof a.local !== 'string' || a.scope === 'host' || a.dadfailed === true) continue
      addresses.push({ address: a.local, prefixLength: typeof a.prefixlen === 'number' ? a.prefixlen : 128, linkLocal: isLinkLocal6(a.local) })
    }
  }
  addresses.sort((x, y) => Number(x.linkLocal) - Number(y.linkLocal))
  return addresses.length > 0 ? { ifname, addresses } : undefined
}

/** fe80::/10. */
export function isLinkLocal6(address: string): boolean {
  return /^fe[89ab][0-9a-f]:/i.test(address)
}

/** Read an interface's IPv6 addresses with iproute2; fall back to os.networkInterfaces(). */
export const lookupInterface6: Interface6Lookup = async (ifname) => {
  const r = await execa('ip', ['-j', '-6', 'addr', 'show', 'dev', ifname], { reject: false, timeout: 10_000 })
  if (r.exitCode === 0) {
    const info = parseIp6AddrJson(ifname, String(r.stdout))
    if (info) return info
  }
  const entries = (networkInterfaces()[ifname] ?? []).filter((a) => a.family === 'IPv6' && !a.internal)
  if (entries.length > 0) {
    const addresses = entries.map((a) => ({ address: a.address, prefixLength: Number((a.cidr ?? '/128').split('/')[1] ?? '128'), linkLocal: isLinkLocal6(a.address) }))
    addresses.sort((x, y) => Number(x.linkLocal) - Number(y.linkLocal))
    return { ifname, addresses }
  }
  throw new Error(`interface ${ifname}: no IPv6 address (ip -j -6 addr show dev ${ifname}: exit ${r.exitCode ?? '?'}${r.stderr ? `, ${String(r.stderr).trim()}` : ''})`)
}
