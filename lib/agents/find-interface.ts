// findif for IPaddr: which interface, prefix and broadcast a service address gets, from the routing table.

import type { IpSpec } from './ip-spec.js'
import type { Link, Route } from './ip-state.js'
import { formatIpv4, parseIpv4 } from '../config/ipaddr-spec.js'
import { broadcastOf, sameNetwork } from './ipv4.js'

export interface Placement {
  nic: string
  prefixLen: number
  broadcast: string
}

export type PlacementResult =
  | { ok: true; placement: Placement }
  /** exitCode follows OCF: 6 = configuration (no such nic), 1 = no usable route. */
  | { ok: false; exitCode: 1 | 6; message: string }

/**
 * findif.c chooses among main-table routes covering the address; heartbeat-ts prefers the
 * longest prefix and then the lowest metric (a /24 beats the default route whatever their
 * metrics). Routes through `lo` are never chosen: a leftover `route add -host VIP dev lo:0`
 * would otherwise put the service address back on loopback (lvs-mon-agents §4.3).
 */
export function chooseRoute(ip: string, routes: readonly Route[], nic?: string): Route | undefined {
  const target = parseIpv4(ip)
  if (target === undefined) return undefined
  let best: Route | undefined
  for (const r of routes) {
    if (r.dev === 'lo' || (nic !== undefined && r.dev !== nic)) continue
    const dst = parseIpv4(r.dst)
    if (dst === undefined || !sameNetwork(target, dst, r.prefixLen)) continue
    if (best === undefined || r.prefixLen > best.prefixLen || (r.prefixLen === best.prefixLen && r.metric < best.metric)) best = r
  }
  return best
}

export function findInterface(spec: IpSpec, links: readonly Link[], routes: readonly Route[]): PlacementResult {
  const ipNum = parseIpv4(spec.ip)
  if (ipNum === undefined) return { ok: false, exitCode: 6, message: `${spec.ip} is not an IPv4 address` }
  if (spec.nic !== undefined && !links.some((l) => l.ifname === spec.nic)) {
    return { ok: false, exitCode: 6, message: `interface ${spec.nic} (from ${JSON.stringify(spec.raw)}) does not exist on this host` }
  }
  const route = chooseRoute(spec.ip, routes, spec.nic)
  let nic = spec.nic
  let prefixLen = spec.prefixLen
  if (route !== undefined) {
    nic ??= route.dev
    // findif: a default route alone gives no netmask.
    if (prefixLen === undefined && route.prefixLen === 0) {
      return { ok: false, exitCode: 1, message: `only the default route covers ${spec.ip}: give a netmask (${spec.ip}/<bits>) or an interface with a route for it` }
    }
    prefixLen ??= route.prefixLen
  }
  if (nic === undefined) return { ok: false, exitCode: 1, message: `no route covers ${spec.ip}: cannot tell which interface should carry it (give ${spec.ip}/<bits>/<nic>)` }
  if (prefixLen === undefined) return { ok: false, exitCode: 1, message: `no route on ${nic} covers ${spec.ip}: give a netmask (${spec.ip}/<bits>/${nic})` }
  const broadcast = spec.broadcast ?? formatIpv4(broadcastOf(ipNum, prefixLen))
  return { ok: true, placement: { nic, prefixLen, broadcast } }
}
