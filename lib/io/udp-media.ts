// The heartbeat media over node:dgram (bcast/udp, ucast, mcast): every message out on every medium,
// every datagram in tagged with its medium's link name (the interface) for link status.

import { createSocket, type Socket } from 'node:dgram'
import { lookupInterface, type InterfaceInfo, type InterfaceLookup } from './interface-info.js'

/** One heartbeat path, resolved from ha.cf (a `bcast eth0 eth1` line gives one spec per interface). */
export type MediumSpec =
  | { kind: 'bcast'; ifname: string; port: number }
  | { kind: 'ucast'; ifname: string; peer: string; port: number }
  | { kind: 'mcast'; ifname: string; group: string; port: number; ttl: number; loop: boolean }

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
}

export interface Media {
  /** One entry per open medium, e.g. "bcast eth0 129.254.203.191:1001". */
  readonly descriptions: readonly string[]
  /** Distinct link names, in ha.cf order. */
  readonly links: readonly string[]
  /** Send the same bytes on every medium (heartbeat writes each message to all media). */
  send(data: Buffer): void
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

function bindSocket(sock: Socket, port: number, address: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error) => reject(err)
    sock.once('error', onError)
    sock.bind({ port, address, exclusive: false }, () => {
      sock.off('error', onError)
      resolve()
    })
  })
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
 *    the configured ttl and loop.
 * All receive sockets use SO_REUSEADDR, as heartbeat's do, so a second daemon can share the port.
 */
export async function openMedia(specs: readonly MediumSpec[], events: MediaEvents, lookup: InterfaceLookup = lookupInterface): Promise<Media> {
  const receivers = new Map<string, Socket>()
  const senders: Sender[] = []
  const descriptions: string[] = []
  const links: string[] = []
  const infos = new Map<string, InterfaceInfo>()
  const sockets: Socket[] = []

  const info = async (ifname: string): Promise<InterfaceInfo> => {
    const known = infos.get(ifname)
    if (known) return known
    const i = await lookup(ifname)
    infos.set(ifname, i)
    return i
  }

  const receiver = async (link: string, address: string, port: number, setup?: (s: Socket) => void): Promise<void> => {
    const key = `${address}:${port}`
    if (receivers.has(key)) return
    const sock = createSocket({ type: 'udp4', reuseAddr: true })
    sockets.push(sock)
    sock.on('error', (err) => events.onError(link, err))
    sock.on('message', (data, rinfo) => events.onDatagram({ link, data, from: rinfo.address, fromPort: rinfo.port }))
    await bindSocket(sock, port, address)
    enlargeRecvBuffer(sock)
    setup?.(sock)
    receivers.set(key, sock)
  }

  const sender = async (link: string, from: string, dest: string, port: number, setup: (s: Socket) => void): Promise<void> => {
    const sock = createSocket({ type: 'udp4' })
    sockets.push(sock)
    sock.on('error', (err) => events.onError(link, err))
    await bindSocket(sock, 0, from)
    setup(sock)
    senders.push({ link, socket: sock, dest, port })
  }

  try {
    const ours = new Set<string>()
    for (const spec of specs) ours.add((await info(spec.ifname)).address)
    for (const spec of specs) {
      const i = await info(spec.ifname)
      const link = spec.ifname
      switch (spec.kind) {
        case 'bcast':
          await receiver(link, i.broadcast, spec.port)
          await sender(link, i.address, i.broadcast, spec.port, (s) => s.setBroadcast(true))
          descriptions.push(`bcast ${link} ${i.broadcast}:${spec.port}`)
          break
        case 'ucast':
          await receiver(link, i.address, spec.port)
          if (ours.has(spec.peer)) {
            descriptions.push(`ucast ${link} ${spec.peer}:${spec.port} (our own address: receive only)`)
          } else {
            await sender(link, i.address, spec.peer, spec.port, () => undefined)
            descriptions.push(`ucast ${link} ${spec.peer}:${spec.port}`)
          }
          break
        case 'mcast':
          await receiver(link, spec.group, spec.port, (s) => s.addMembership(spec.group, i.address))
          await sender(link, i.address, spec.group, spec.port, (s) => {
            s.setMulticastInterface(i.address)
            s.setMulticastTTL(spec.ttl)
            s.setMulticastLoopback(spec.loop)
          })
          descriptions.push(`mcast ${link} ${spec.group}:${spec.port} ttl ${spec.ttl} loop ${spec.loop ? 1 : 0}`)
          break
      }
      if (!links.includes(link)) links.push(link)
    }
  } catch (err) {
    for (const s of sockets) s.close()
    throw err
  }

  let closed = false
  return {
    descriptions,
    links,
    send(data) {
      if (closed) return
      for (const s of senders) {
        s.socket.send(data, s.port, s.dest, (err) => {
          if (err) events.onError(s.link, err)
        })
      }
    },
    async close() {
      if (closed) return
      closed = true
      await Promise.all(sockets.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))))
    },
  }
}
