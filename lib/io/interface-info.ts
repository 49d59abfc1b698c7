// IPv4 facts about a named interface (address, prefix, broadcast), as `ip -j addr show dev` reports them.

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

/** Parse `ip -j -4 addr show dev <if>` output; undefined when no IPv4 address is there. */
export function parseIpAddrJson(ifname: string, json: string): InterfaceInfo | undefined {
  let parsed: unknown
  try {
    parsed = JSON.parse(json)
  } catch {
    return undefined
  }
  if (!Array.isArray(parsed)) return undefined
  for (const link of parsed as Array<{ addr_info?: unknown }>) {
    const infos = Array.isArray(link.addr_info) ? (link.addr_info as IpJsonAddr[]) : []
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
