// The heartbeat media over node:dgram (bcast/udp, ucast, mcast, ucast6, mcast6) and serial lines
// (serial-port.ts): every message out on every medium, every datagram or frame in tagged with its
// medium's link name (the interface, or the tty) for link status.

import { createSocket, type Socket, type SocketType } from 'node:dgram'
import { setTimeout as sleep } from 'node:timers/promises'
import {
  isLinkLocal6,
  lookupInterface,
  lookupInterface6,
  type Interface6Info,
  type Interface6Lookup,
  type InterfaceInfo,
  type InterfaceLookup,
} from './interface-info.js'
import { parseIpv6 } from '../config/ipaddr-spec.js'
import { openSerialPort, type SerialPort, type SerialSpec } from './serial-port.js'

/** One heartbeat path, resolved from ha.cf (a `bcast eth0 eth1` line gives one spec per interface). */
export type MediumSpec =
  | { kind: 'bcast'; ifname: string; port: number }
  | { kind: 'ucast'; ifname: string; peer: string; port: number }
  | { kind: 'mcast'; ifname: string; group: string; port: number; ttl: number; loop: boolean }
  | { kind: 'ucast6'; ifname: string; peer: string; port: number }
  | { kind: 'mcast6'; ifname: string; group: string; port: number; hops: number; loop: boolean }
  | SerialSpec

export interface Datagram {
  /** The medium's link name: its interface, as heartbeat names links (`node:eth0`). */
  link: string
  data: Buffer
  /** Sender address and port; heartbeat never checks them (identity comes from src + signature). */
  from: string
  fromPort: number
}

export interface MediaEvents {
  onDatagram(d: Datagram): void
  /** Socket or send failures: reported, never thrown (a pulled cable must not stop the daemon). */
  onError(link: string, err: Error): void
  /** A serial frame the reader dropped (too long, cut short). */
  onBadFrame?(link: string, reason: string): void
}

export interface Media {
  /** One entry per open medium, e.g. "bcast eth0 129.254.203.191:1001". */
  readonly descriptions: readonly string[]
  /** Distinct link names, in ha.cf order. */
  readonly links: readonly string[]
  /**
   * Send the same message on every medium (heartbeat writes each message to all media): `data` on
   * the UDP media, `classic()` (the message as signed classic text, undefined when it has none) on
   * serial lines, as 3.0.6's serial plugin rewrites every message it writes.
   */
  send(data: Buffer, classic?: () => Buffer | undefined): void
  close(): Promise<void>
}

/**
 * Receive buffer asked for on each heartbeat socket: a flood of forged datagrams must not overflow the
 * kernel queue (the default ~200 KB holds well under a second of it) and drop the peer's real heartbeats.
 * The kernel caps it at net.core.rmem_max; a smaller buffer is used silently.
 */
export const RECV_BUFFER_BYTES = 4 * 1024 * 1024

function enlargeRecvBuffer(sock: Socket): void {
  try {
    sock.setRecvBufferSize(RECV_BUFFER_BYTES)
  } catch {
    // refused outright (not merely capped): the default buffer still works
  }
}

interface Sender {
  link: string
  socket: Socket
  dest: string
  port: number
}

/**
 * How long a bind to an IPv6 address may wait for it: an address still in duplicate address
 * detection (tentative, about a second after it is added) cannot be bound yet.
 */
export const TENTATIVE_WAIT_MS = 5000

function bindOnce(sock: Socket, port: number, address: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error) => reject(err)
    sock.once('error', onError)
    sock.bind({ port, address, exclusive: false }, () => {
      sock.off('error', onError)
      resolve()
    })
  })
}

/** Bind; an IPv6 address not yet usable (EADDRNOTAVAIL while tentative) is retried on a fresh socket. */
async function bindSocket(make: () => Socket, port: number, address: string): Promise<Socket> {
  const until = Date.now() + TENTATIVE_WAIT_MS
  for (;;) {
    const sock = make()
    try {
      await bindOnce(sock, port, address)
      return sock
    } catch (err) {
      sock.close()
      const code = (err as NodeJS.ErrnoException).code
      if (!address.includes(':') || code !== 'EADDRNOTAVAIL' || Date.now() >= until) throw err
      await sleep(200)
    }
  }
}

/** An IPv6 address for a socket call: a link-local one needs its interface as scope. */
function scoped(address: string, ifname: string): string {
  return isLinkLocal6(address) && !address.includes('%') ? `${address}%${ifname}` : address
}

/** One spelling per IPv6 address (fd00::0145 and FD00::145 are one), scope dropped; as written if not one. */
function canonical6(address: string): string {
  const bare = address.split('%')[0] ?? address
  return parseIpv6(bare)?.join('.') ?? bare.toLowerCase()
}

/** ff?2:: groups are link-local: bound and joined with the interface as scope. */
function isLinkScopeGroup(group: string): boolean {
  return /^ff[0-9a-f]2:/i.test(group)
}

/**
 * Open every medium. Node cannot bind a socket to a device (no SO_BINDTODEVICE), so each medium
 * is tied to its interface by address instead:
 *  - bcast: receives on <interface broadcast address>:port (only that subnet's broadcasts reach
 *    it, so the link is known), sends from <interface address>:ephemeral to the broadcast
 *    address with SO_BROADCAST - what 3.0.6 sends to (SIOCGIFBRDADDR);
 *  - ucast: receives on <interface address>:port, sends to the peer. A ucast line naming one of
 *    our own addresses is skipped (the usual shared ha.cf lists both nodes; 3.0.6 just sends
 *    to itself). IP_TOS lowdelay cannot be set from Node;
 *  - mcast: joins the group on the interface's address, receives on <group>:port, sends with
 *    the configured ttl and loop;
 *  - ucast6: receives on each IPv6 address of the interface (3.0.6: [::]:port bound to the device),
 *    sends from the interface's address of the peer's kind (link-local with the interface as
 *    scope, which binds the device); our own address is skipped as for ucast;
 *  - mcast6: joins the group on the interface (by index, as 3.0.6), receives on <group>:port (a
 *    link-scope group with the interface as scope, which binds the device), sends with
 *    IPV6_MULTICAST_IF, the configured hop limit and loop.
 * All receive sockets use SO_REUSEADDR, as heartbeat's do, so a second daemon can share the port.
 */
export async function openMedia(
  specs: readonly MediumSpec[],
  events: MediaEvents,
  lookup: InterfaceLookup = lookupInterface,
  lookup6: Interface6Lookup = lookupInterface6,
  serialOptions: { lockDir?: string } = {},
): Promise<Media> {
  const ports: SerialPort[] = []
  const receivers = new Map<string, Socket>()
  const senders: Sender[] = []
  const descriptions: string[] = []
  const links: string[] = []
  const infos = new Map<string, InterfaceInfo>()
  const infos6 = new Map<string, Interface6Info>()
  const sockets: Socket[] = []

  const info = async (ifname: string): Promise<InterfaceInfo> => {
    const known = infos.get(ifname)
    if (known) return known
    const i = await lookup(ifname)
    infos.set(ifname, i)
    return i
  }
  const info6 = async (ifname: string): Promise<Interface6Info> => {
    const known = infos6.get(ifname)
    if (known) return known
    const i = await lookup6(ifname)
    infos6.set(ifname, i)
    return i
  }

  const open = async (type: SocketType, link: string, address: string, port: number, reuseAddr: boolean): Promise<Socket> => {
    const make = () => {
      // ipv6Only: an IPv6 socket never takes the IPv4 media's datagrams
      const sock = createSocket({ type, reuseAddr, ...(type === 'udp6' ? { ipv6Only: true } : {}) })
      sock.on('error', (err) => events.onError(link, err))
      return sock
    }
    const sock = await bindSocket(make, port, address)
    sockets.push(sock)
    return sock
  }

  const receiver = async (link: string, address: string, port: number, setup?: (s: Socket) => void): Promise<void> => {
    const key = `${address}:${port}`
    if (receivers.has(key)) return
    const sock = await open(address.includes(':') ? 'udp6' : 'udp4', link, address, port, true)
    sock.on('message', (data, rinfo) => events.onDatagram({ link, data, from: rinfo.address, fromPort: rinfo.port }))
    enlargeRecvBuffer(sock)
    setup?.(sock)
    receivers.set(key, sock)
  }

  const sender = async (link: string, from: string, dest: string, port: number, setup: (s: Socket) => void): Promise<void> => {
    const sock = await open(from.includes(':') ? 'udp6' : 'udp4', link, from, 0, false)
    setup(sock)
    senders.push({ link, socket: sock, dest, port })
  }

  try {
    const ours = new Set<string>()
    for (const spec of specs) {
      if (spec.kind === 'serial') continue
      if (spec.kind === 'ucast6' || spec.kind === 'mcast6') {
        for (const a of (await info6(spec.ifname)).addresses) ours.add(canonical6(a.address))
      } else ours.add((await info(spec.ifname)).address)
    }
    for (const spec of specs) {
      if (spec.kind === 'serial') {
        const port = await openSerialPort(spec, {
          onFrame: (link, data) => events.onDatagram({ link, data, from: link, fromPort: 0 }),
          onBadFrame: (link, reason) => events.onBadFrame?.(link, reason),
          onError: (link, err) => events.onError(link, err),
        }, serialOptions)
        ports.push(port)
        descriptions.push(port.description)
        if (!links.includes(port.link)) links.push(port.link)
        continue
      }
      const link = spec.ifname
      switch (spec.kind) {
        case 'bcast': {
          const i = await info(spec.ifname)
          await receiver(link, i.broadcast, spec.port)
          await sender(link, i.address, i.broadcast, spec.port, (s) => s.setBroadcast(true))
          descriptions.push(`bcast ${link} ${i.broadcast}:${spec.port}`)
          break
        }
        case 'ucast': {
          const i = await info(spec.ifname)
          await receiver(link, i.address, spec.port)
          if (ours.has(spec.peer)) {
            descriptions.push(`ucast ${link} ${spec.peer}:${spec.port} (our own address: receive only)`)
          } else {
            await sender(link, i.address, spec.peer, spec.port, () => undefined)
            descriptions.push(`ucast ${link} ${spec.peer}:${spec.port}`)
          }
          break
        }
        case 'mcast': {
          const i = await info(spec.ifname)
          await receiver(link, spec.group, spec.port, (s) => s.addMembership(spec.group, i.address))
          await sender(link, i.address, spec.group, spec.port, (s) => {
            s.setMulticastInterface(i.address)
            s.setMulticastTTL(spec.ttl)
            s.setMulticastLoopback(spec.loop)
          })
          descriptions.push(`mcast ${link} ${spec.group}:${spec.port} ttl ${spec.ttl} loop ${spec.loop ? 1 : 0}`)
          break
        }
        case 'ucast6': {
          const i = await info6(spec.ifname)
          for (const a of i.addresses) await receiver(link, scoped(a.address, link), spec.port)
          const bare = spec.peer.split('%')[0] ?? spec.peer
          if (ours.has(canonical6(spec.peer))) {
            descriptions.push(`ucast6 ${link} [${spec.peer}]:${spec.port} (our own address: receive only)`)
            break
          }
          // ucast6.c: a link-local peer is reached through the line's interface
          const dest = scoped(spec.peer, link)
          const from = i.addresses.find((a) => a.linkLocal === isLinkLocal6(bare))
          await sender(link, from ? scoped(from.address, link) : '::', dest, spec.port, () => undefined)
          descriptions.push(`ucast6 ${link} [${dest}]:${spec.port}`)
          break
        }
        case 'mcast6': {
          await info6(spec.ifname)
          const onIf = `::%${link}`
          const bindTo = isLinkScopeGroup(spec.group) ? `${spec.group}%${link}` : spec.group
          await receiver(link, bindTo, spec.port, (s) => s.addMembership(spec.group, onIf))
          await sender(link, '::', spec.group, spec.port, (s) => {
            s.setMulticastInterface(onIf)
            s.setMulticastTTL(spec.hops)
            s.setMulticastLoopback(spec.loop)
          })
          descriptions.push(`mcast6 ${link} [${spec.group}]:${spec.port} hops ${spec.hops} loop ${spec.loop ? 1 : 0}`)
          break
        }
      }
      if (!links.includes(link)) links.push(link)
    }
  } catch (err) {
    for (const s of sockets) s.close()
    await Promise.all(ports.map((p) => p.close()))
    throw err
  }

  let closed = false
  return {
    descriptions,
    links,
    send(data, classic) {
      if (closed) return
      if (ports.length > 0) {
        const text = classic?.()
        if (text !== undefined) for (const p of ports) p.send(text)
      }
      for (const s of senders) {
        s.socket.send(data, s.port, s.dest, (err) => {
          if (err) events.onError(s.link, err)
        })
      }
    },
    async close() {
      if (closed) return
      closed = true
      await Promise.all([...sockets.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))), ...ports.map((p) => p.close())])
    },
  }
}
