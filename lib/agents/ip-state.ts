// Readers for `ip -j addr` and `ip -j route show table main`: the host's addresses and routes as typed values.

import { parseIpv4 } from '../config/ipaddr-spec.js'

export interface IfAddr {
  ip: string
  prefixLen: number
  broadcast?: string
  /** `eth0`, `eth0:0`, `lo:0`: the 2.2-era alias name, kept by the kernel as the address label. */
  label: string
}

export interface Link {
  ifname: string
  up: boolean
  loopback: boolean
  /** Hardware address, absent for links without one. */
  mac?: string
  addrs: IfAddr[]
}

export interface Route {
  /** Destination network address (0.0.0.0 for `default`). */
  dst: string
  prefixLen: number
  dev: string
  /** The kernel's metric; routes without one have 0, as /proc/net/route shows them. */
  metric: number
  gateway?: string
}

export type Parsed<T> = { ok: true; value: T } | { ok: false; message: string }

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

function parseJsonArray(text: string, what: string): Parsed<unknown[]> {
  let data: unknown
  try {
    data = JSON.parse(text === '' ? '[]' : text)
  } catch (err) {
    return { ok: false, message: `${what}: not JSON (${(err as Error).message}): ${JSON.stringify(text.slice(0, 80))}` }
  }
  if (!Array.isArray(data)) return { ok: false, message: `${what}: expected a JSON array` }
  return { ok: true, value: data }
}

/** `ip -j addr` output; IPv6 entries are skipped (IPaddr is IPv4 only, like heartbeat's). */
export function parseIpAddrJson(text: string): Parsed<Link[]> {
  const arr = parseJsonArray(text, 'ip -j addr')
  if (!arr.ok) return arr
  const links: Link[] = []
  for (const item of arr.value) {
    if (!isRecord(item) || typeof item.ifname !== 'string') return { ok: false, message: 'ip -j addr: an entry without "ifname"' }
    const flags = Array.isArray(item.flags) ? item.flags.filter((f): f is string => typeof f === 'string') : []
    const link: Link = {
      ifname: item.ifname,
      up: flags.includes('UP'),
      loopback: flags.includes('LOOPBACK') || item.link_type === 'loopback',
      addrs: [],
    }
    if (typeof item.address === 'string' && item.link_type === 'ether') link.mac = item.address
    const infos = Array.isArray(item.addr_info) ? item.addr_info : []
    for (const info of infos) {
      if (!isRecord(info) || info.family !== 'inet') continue
      if (typeof info.local !== 'string' || typeof info.prefixlen !== 'number') continue
      const addr: IfAddr = {
        ip: info.local,
        prefixLen: info.prefixlen,
        label: typeof info.label === 'string' ? info.label : item.ifname,
      }
      if (typeof info.broadcast === 'string') addr.broadcast = info.broadcast
      link.addrs.push(addr)
    }
    links.push(link)
  }
  return { ok: true, value: links }
}

/** `ip -j route show table main`; only unicast IPv4 routes with a device are kept. */
export function parseIpRouteJson(text: string): Parsed<Route[]> {
  const arr = parseJsonArray(text, 'ip -j route')
  if (!arr.ok) return arr
  const routes: Route[] = []
  for (const item of arr.value) {
    if (!isRecord(item) || typeof item.dst !== 'string' || typeof item.dev !== 'string') continue
    if (typeof item.type === 'string' && item.type !== 'unicast') continue
    let dst = '0.0.0.0'
    let prefixLen = 0
    if (item.dst !== 'default') {
      const [net, len] = item.dst.split('/')
      if (net === undefined || parseIpv4(net) === undefined) continue
      dst = net
      prefixLen = len === undefined ? 32 : Number(len)
      if (!Number.isInteger(prefixLen) || prefixLen < 0 || prefixLen > 32) continue
    }
    const route: Route = { dst, prefixLen, dev: item.dev, metric: typeof item.metric === 'number' ? item.metric : 0 }
    if (typeof item.gateway === 'string') route.gateway = item.gateway
    routes.push(route)
  }
  return { ok: true, value: routes }
}
