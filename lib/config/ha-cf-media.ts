// ha.cf heartbeat media and ping nodes as 3.0.6's HBcomm plugins parse them (bcast.c, ucast.c, mcast.c,
// ucast6.c, mcast6.c, ping*.c, serial.c).

import { quote } from './diagnostics.js'
import { error, warn, type ReadState } from './ha-cf-state.js'
import type { Medium } from './ha-cf.js'
import { isInterfaceName, parseIpv4, parseIpv6 } from './ipaddr-spec.js'
import { WHITESPACE, splitOn } from './line-tokenizer.js'

export const DEFAULT_UDP_PORT = 694
const MAX_MEDIA = 64

/** The bcast/ucast plugins read udpport once, when their first medium is created. */
export function latchPort(s: ReadState, plugin: string): number {
  const existing = s.latchedPorts.get(plugin)
  if (existing !== undefined) return existing
  const port = s.draft.udpPort ?? DEFAULT_UDP_PORT
  s.latchedPorts.set(plugin, port)
  return port
}

function addMedium(s: ReadState, medium: Medium): void {
  if (s.draft.media.length >= MAX_MEDIA) {
    error(s, `too many media (more than ${MAX_MEDIA})`)
    return
  }
  s.draft.media.push(medium)
}

/** `bcast dev...`: one medium over every interface named. */
export function applyBcast(s: ReadState, values: string[]): void {
  const good = values.filter((v) => {
    if (!isInterfaceName(v)) error(s, `bcast: ${quote(v)} is not an interface name`)
    return isInterfaceName(v)
  })
  if (good.length > 0) addMedium(s, { kind: 'bcast', interfaces: good, port: latchPort(s, 'bcast'), line: s.line })
}

/**
 * `serial /dev/ttyS0...`: one medium per device (3.0.6 forwards nothing between them: the "ring" of
 * its comments is gone from its code). serial.c reads `baud` once, when the first serial line
 * loads it: every serial line uses that speed.
 */
export function applySerial(s: ReadState, values: string[]): void {
  const good = values.filter((v) => {
    if (!v.startsWith('/')) error(s, `serial: ${quote(v)} is not a device path (e.g. /dev/ttyS0)`)
    return v.startsWith('/')
  })
  const first = s.draft.media.find((m) => m.kind === 'serial')
  const baud = first?.kind === 'serial' ? first.baud : s.draft.baud
  if (good.length > 0) addMedium(s, { kind: 'serial', devices: good, baud, line: s.line })
}

/** `ping addr...` / `ping6 addr...`: one ping node per address. */
export function applyPing(s: ReadState, kind: 'ping' | 'ping6', values: string[]): void {
  for (const v of values) {
    if (kind === 'ping' && /^[0-9.]+$/.test(v) && parseIpv4(v) === undefined) {
      error(s, `ping: ${quote(v)} is not an IPv4 address`)
      continue
    }
    s.draft.pingNodes.push({ kind, name: v, line: s.line })
  }
}

/** `ucast dev peer` / `ucast6 dev peer`. */
export function applyUcast(s: ReadState, kind: 'ucast' | 'ucast6', rest: string): void {
  const [dev, address, ...extra] = splitOn(rest, WHITESPACE)
  if (dev === undefined || address === undefined) {
    error(s, `${kind}: needs an interface and a peer address (${kind} eth0 ${kind === 'ucast' ? '10.0.0.2' : 'fd00::2'})`)
    return
  }
  if (!isInterfaceName(dev)) {
    error(s, `${kind}: ${quote(dev)} is not an interface name`)
    return
  }
  if (kind === 'ucast' && !isHostOrIpv4(address)) {
    error(s, `ucast: ${quote(address)} is not an IPv4 address or host name`)
    return
  }
  if (kind === 'ucast6') {
    const problem = ucast6Problem(dev, address)
    if (problem !== undefined) {
      error(s, `ucast6: ${quote(address)} ${problem}`)
      return
    }
  }
  // ucast.c reads the device and one address; anything after is silently ignored
  if (extra.length > 0) warn(s, `${kind}: only the first address is used; heartbeat ignores ${extra.map(quote).join(', ')} (write one ${kind} line per peer)`)
  addMedium(s, { kind, interface: dev, address, port: latchPort(s, kind), line: s.line })
}

/** `mcast dev group port ttl loop` / `mcast6 dev group port hops loop`. */
export function applyMcast(s: ReadState, kind: 'mcast' | 'mcast6', rest: string): void {
  const words = splitOn(rest, WHITESPACE)
  const [dev, group, port, ttl, loop] = words
  const usage = kind === 'mcast' ? 'mcast <dev> <group> <port> <ttl> <loop>' : 'mcast6 <dev> <group> <port> <hops> <loop>'
  if (loop === undefined || dev === undefined || group === undefined || port === undefined || ttl === undefined) {
    const missing = ['interface', 'group', 'port', kind === 'mcast' ? 'ttl' : 'hops', 'loop'][words.length] ?? 'loop'
    error(s, `${kind}: missing ${missing} (${usage})`)
    return
  }
  if (!isInterfaceName(dev)) {
    error(s, `${kind}: ${quote(dev)} is not an interface name`)
    return
  }
  if (kind === 'mcast') {
    const g = parseIpv4(group)
    // mcast.c is_valid_mcast_addr: 224.0.0.0/4
    if (g === undefined || Math.floor(g / 2 ** 28) !== 0xe) {
      error(s, `mcast: ${quote(group)} is not an IPv4 multicast group (224.0.0.0-239.255.255.255)`)
      return
    }
  } else {
    const problem = mcast6GroupProblem(group)
    if (problem !== undefined) {
      error(s, `mcast6: ${quote(group)} ${problem}`)
      return
    }
  }
  const portN = /^\d+$/.test(port) ? Number(port) : NaN
  if (!(portN >= 1 && portN <= 65535)) {
    error(s, `${kind}: port ${quote(port)} is not 1-65535`)
    return
  }
  const ttlN = /^\d+$/.test(ttl) ? Number(ttl) : NaN
  if (!(ttlN >= 0 && ttlN <= 4)) {
    // mcast.c and mcast6.c both refuse more than 4 although ha.cf(5) says 0-255
    error(s, `${kind}: ${kind === 'mcast' ? 'ttl' : 'hops'} ${quote(ttl)} is out of range (0-4; heartbeat 3.0.6 refuses more than 4)`)
    return
  }
  if (loop !== '0' && loop !== '1') {
    error(s, `${kind}: loop ${quote(loop)} must be 0 or 1`)
    return
  }
  if (words.length > 5) warn(s, `${kind}: heartbeat ignores ${words.slice(5).map(quote).join(', ')}`)
  const loopN: 0 | 1 = loop === '1' ? 1 : 0
  if (kind === 'mcast') addMedium(s, { kind, interface: dev, group, port: portN, ttl: ttlN, loop: loopN, line: s.line })
  else addMedium(s, { kind, interface: dev, group, port: portN, hops: ttlN, loop: loopN, line: s.line })
}

/** `ping_group name addr...`: one ping node that is up while any address answers. */
export function applyPingGroup(s: ReadState, rest: string): void {
  const [name, ...addresses] = splitOn(rest, WHITESPACE)
  if (name === undefined || addresses.length === 0) {
    error(s, `ping_group: needs a group name and at least one address (ping_group routers 10.0.0.1 10.0.0.254)`)
    return
  }
  const bad = addresses.find((a) => /^[0-9.]+$/.test(a) && parseIpv4(a) === undefined)
  if (bad !== undefined) {
    error(s, `ping_group: ${quote(bad)} is not an IPv4 address`)
    return
  }
  s.draft.pingNodes.push({ kind: 'ping_group', name, addresses, line: s.line })
}

function isHostOrIpv4(text: string): boolean {
  if (/^[0-9.]+$/.test(text)) return parseIpv4(text) !== undefined
  return /^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*\.?$/.test(text)
}

/** ucast6.c's checks on the peer: a unicast IPv6 address, scope (`%dev`) allowed; undefined when fine. */
function ucast6Problem(dev: string, address: string): string | undefined {
  const percent = address.indexOf('%')
  const bare = percent < 0 ? address : address.slice(0, percent)
  const scope = percent < 0 ? undefined : address.slice(percent + 1)
  const bytes = parseIpv6(bare)
  if (bytes === undefined || scope === '') return 'is not an IPv6 address'
  if (bytes[0] === 0xff) return 'is a multicast address (use an mcast6 line for a group)'
  if (bytes.every((b) => b === 0)) return 'is the unspecified address ::'
  if (bytes.slice(0, 15).every((b) => b === 0) && bytes[15] === 1) return 'is the loopback address ::1'
  // ucast6.c: a link-local peer is reached over the line's interface; another scope there is an error
  const linkLocal = bytes[0] === 0xfe && ((bytes[1] ?? 0) & 0xc0) === 0x80
  if (linkLocal && scope !== undefined && !/^\d+$/.test(scope) && scope !== dev) return `names interface ${quote(scope)}, not the line's ${quote(dev)}`
  return undefined
}

/** mcast6.c is_valid_mcast6_addr: ff00::/8, flags 0 or transient, link/admin/site/organization scope. */
function mcast6GroupProblem(group: string): string | undefined {
  const bytes = parseIpv6(group)
  if (bytes === undefined || bytes[0] !== 0xff) return 'is not an IPv6 multicast group (ff..::)'
  const flags = bytes[1] ?? 0
  if ((flags & 0xe0) !== 0) return 'has flags heartbeat 3.0.6 refuses (only ff0s:: and transient ff1s:: groups)'
  if (![0x2, 0x4, 0x5, 0x8].includes(flags & 0x0f)) return 'has a scope heartbeat 3.0.6 refuses (link 2, admin 4, site 5 or organization 8 only, e.g. ff12::1:2:3:4)'
  if (bytes.slice(2).every((b) => b === 0)) return 'is a reserved group (all zero after the scope)'
  return undefined
}
