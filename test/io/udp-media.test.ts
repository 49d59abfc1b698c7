// UDP media on loopback: every message on every medium, datagrams tagged with their link, own
// ucast address skipped, errors reported instead of thrown.

import t from 'tap'
import { createSocket } from 'node:dgram'
import { openMedia, type Datagram, type MediumSpec } from '../../lib/io/udp-media.js'
import type { InterfaceInfo } from '../../lib/io/interface-info.js'
import { parseIpAddrJson, parseIp6AddrJson, impliedBroadcast, type Interface6Info } from '../../lib/io/interface-info.js'
import { networkInterfaces } from 'node:os'

async function freePort(): Promise<number> {
  const s = createSocket('udp4')
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()))
  const port = s.address().port
  await new Promise<void>((r) => s.close(() => r()))
  return port
}

/** Pretend interfaces: "lo-a" is 127.0.0.1, "lo-b" is 127.0.0.2 (both on lo). */
const fakeLookup = (table: Record<string, InterfaceInfo>) => async (ifname: string) => {
  const i = table[ifname]
  if (!i) throw new Error(`no ${ifname}`)
  return i
}
const A: InterfaceInfo = { ifname: 'lo-a', address: '127.0.0.1', prefixLength: 8, broadcast: '127.255.255.255' }
const B: InterfaceInfo = { ifname: 'lo-b', address: '127.0.0.2', prefixLength: 8, broadcast: '127.255.255.255' }

function collector() {
  const got: Datagram[] = []
  const errors: string[] = []
  let wake: (() => void) | undefined
  return {
    got,
    errors,
    events: {
      onDatagram: (d: Datagram) => {
        got.push(d)
        wake?.()
      },
      onError: (link: string, e: Error) => errors.push(`${link}: ${e.message}`),
    },
    async waitFor(n: number, ms = 2000) {
      const until = Date.now() + ms
      while (got.length < n && Date.now() < until) await new Promise<void>((r) => ((wake = r), setTimeout(r, 50)))
      return got
    },
  }
}

t.test('ip -j addr parsing', async (t) => {
  const json = JSON.stringify([
    { ifname: 'eth0', addr_info: [
      { family: 'inet6', local: 'fe80::1', prefixlen: 64 },
      { family: 'inet', local: '129.254.203.145', prefixlen: 26, broadcast: '129.254.203.191' },
      { family: 'inet', local: '129.254.203.149', prefixlen: 26, broadcast: '129.254.203.191', secondary: true },
    ] },
  ])
  t.same(parseIpAddrJson('eth0', json), { ifname: 'eth0', address: '129.254.203.145', prefixLength: 26, broadcast: '129.254.203.191' })
  t.equal(parseIpAddrJson('eth0', '[]'), undefined, 'no address')
  t.equal(parseIpAddrJson('eth0', 'not json'), undefined, 'garbage does not throw')
  t.equal(impliedBroadcast('10.99.0.5', 24), '10.99.0.255')
  t.equal(impliedBroadcast('129.254.203.145', 26), '129.254.203.191')
})

t.test('ucast pair on loopback addresses', async (t) => {
  const port = await freePort()
  const lookup = fakeLookup({ 'lo-a': A, 'lo-b': B })
  // The same two ucast lines on both nodes, as a shared ha.cf has them.
  const specsA: MediumSpec[] = [
    { kind: 'ucast', ifname: 'lo-a', peer: '127.0.0.1', port },
    { kind: 'ucast', ifname: 'lo-a', peer: '127.0.0.2', port },
  ]
  const specsB: MediumSpec[] = [
    { kind: 'ucast', ifname: 'lo-b', peer: '127.0.0.1', port },
    { kind: 'ucast', ifname: 'lo-b', peer: '127.0.0.2', port },
  ]
  const ca = collector()
  const cb = collector()
  const ma = await openMedia(specsA, ca.events, lookup)
  const mb = await openMedia(specsB, cb.events, lookup)
  t.teardown(async () => {
    await ma.close()
    await mb.close()
  })
  t.same(ma.links, ['lo-a'], 'two lines on one interface are one link name')
  t.match(ma.descriptions[0], /our own address: receive only/, 'the line naming our own address only receives')
  ma.send(Buffer.from('hello from a'))
  mb.send(Buffer.from('hello from b'))
  const atB = await cb.waitFor(1)
  const atA = await ca.waitFor(1)
  await new Promise((r) => setTimeout(r, 100))
  t.same(cb.got.map((d) => [d.link, d.data.toString(), d.from]), [['lo-b', 'hello from a', '127.0.0.1']], 'b hears a once, tagged with its link')
  t.same(ca.got.map((d) => [d.link, d.data.toString(), d.from]), [['lo-a', 'hello from b', '127.0.0.2']], 'a hears b once; nothing sent to itself')
  t.equal(atA.length + atB.length, 2)
  t.same([...ca.errors, ...cb.errors], [])
})

t.test('every message goes out on every medium', async (t) => {
  const port1 = await freePort()
  const port2 = await freePort()
  const lookup = fakeLookup({ 'lo-a': A, 'lo-b': B })
  const rx = collector()
  const receiver = await openMedia(
    [
      { kind: 'ucast', ifname: 'lo-b', peer: '127.0.0.2', port: port1 },
      { kind: 'ucast', ifname: 'lo-b', peer: '127.0.0.2', port: port2 },
    ],
    rx.events,
    lookup,
  )
  const tx = await openMedia(
    [
      { kind: 'ucast', ifname: 'lo-a', peer: '127.0.0.2', port: port1 },
      { kind: 'ucast', ifname: 'lo-a', peer: '127.0.0.2', port: port2 },
    ],
    collector().events,
    lookup,
  )
  t.teardown(async () => {
    await tx.close()
    await receiver.close()
  })
  tx.send(Buffer.from('dup'))
  await rx.waitFor(2)
  t.equal(rx.got.length, 2, 'one copy per medium (the receiver drops duplicates by seq)')
})

t.test('mcast on loopback', async (t) => {
  const port = await freePort()
  const lo: InterfaceInfo = { ifname: 'lo', address: '127.0.0.1', prefixLength: 8, broadcast: '127.255.255.255' }
  const rx = collector()
  const m = await openMedia([{ kind: 'mcast', ifname: 'lo', group: '239.0.0.42', port, ttl: 0, loop: true }], rx.events, fakeLookup({ lo }))
  t.teardown(() => m.close())
  t.match(m.descriptions[0], /^mcast lo 239\.0\.0\.42:\d+ ttl 0 loop 1$/)
  m.send(Buffer.from('to the group'))
  const got = await rx.waitFor(1)
  t.same(got.map((d) => [d.link, d.data.toString()]), [['lo', 'to the group']], 'loop 1: our own multicast comes back, tagged lo')
})

t.test('a missing interface is an error at open, not later', async (t) => {
  await t.rejects(openMedia([{ kind: 'bcast', ifname: 'nope0', port: 694 }], collector().events, fakeLookup({})), /no nope0/)
})

t.test('ip -j -6 addr parsing: global before link-local, no loopback, no failed duplicate', async (t) => {
  const json = JSON.stringify([
    { ifname: 'eth0', addr_info: [
      { family: 'inet', local: '10.0.0.1', prefixlen: 24 },
      { family: 'inet6', local: 'fe80::1', prefixlen: 64, scope: 'link' },
      { family: 'inet6', local: 'fd00::1', prefixlen: 64, scope: 'global', tentative: true },
      { family: 'inet6', local: 'fd00::9', prefixlen: 64, scope: 'global', dadfailed: true, tentative: true },
      { family: 'inet6', local: '::1', prefixlen: 128, scope: 'host' },
    ] },
  ])
  t.same(parseIp6AddrJson('eth0', json), {
    ifname: 'eth0',
    addresses: [
      { address: 'fd00::1', prefixLength: 64, linkLocal: false },
      { address: 'fe80::1', prefixLength: 64, linkLocal: true },
    ],
  }, 'a tentative address is kept (bound once DAD ends); a failed one is not')
  t.equal(parseIp6AddrJson('eth0', JSON.stringify([{ addr_info: [{ family: 'inet', local: '10.0.0.1' }] }])), undefined, 'IPv4 only: none')
})

const hasLoopback6 = (networkInterfaces().lo ?? []).some((a) => a.family === 'IPv6' && a.address === '::1')

t.test('ucast6 on ::1: the peer hears the datagram on the line\'s link; our own address only receives', { skip: hasLoopback6 ? false : 'no ::1 on lo (IPv6 disabled)' }, async (t) => {
  const port = await freePort()
  const lookup6 = (table: Record<string, Interface6Info>) => async (ifname: string) => {
    const i = table[ifname]
    if (!i) throw new Error(`no ${ifname}`)
    return i
  }
  // a owns ::1, so its line to ::1 only receives; b has no address of its own to receive on and sends to ::1
  const a6 = lookup6({ 'lo-a': { ifname: 'lo-a', addresses: [{ address: '::1', prefixLength: 128, linkLocal: false }] } })
  const b6 = lookup6({ 'lo-b': { ifname: 'lo-b', addresses: [] } })
  const ca = collector()
  const cb = collector()
  // written another way, ::1 is still a's own address
  const ma = await openMedia([{ kind: 'ucast6', ifname: 'lo-a', peer: '0:0::0001', port }], ca.events, fakeLookup({}), a6)
  const mb = await openMedia([{ kind: 'ucast6', ifname: 'lo-b', peer: '::1', port }], cb.events, fakeLookup({}), b6)
  t.teardown(async () => {
    await ma.close()
    await mb.close()
  })
  t.same(ma.descriptions, [`ucast6 lo-a [0:0::0001]:${port} (our own address: receive only)`])
  t.same(mb.descriptions, [`ucast6 lo-b [::1]:${port}`])
  t.same(ma.links, ['lo-a'])
  mb.send(Buffer.from('over ipv6'))
  ma.send(Buffer.from('nowhere'))
  await ca.waitFor(1)
  await new Promise((r) => setTimeout(r, 100))
  t.same(ca.got.map((d) => [d.link, d.data.toString(), d.from]), [['lo-a', 'over ipv6', '::1']], 'a hears b once, tagged with its link')
  t.same(cb.got, [], 'a sent nothing (its only line names itself)')
  t.same([...ca.errors, ...cb.errors], [])
})

t.test('an IPv6 medium on an interface without IPv6 is an error at open', async (t) => {
  await t.rejects(
    openMedia([{ kind: 'ucast6', ifname: 'eth9', peer: 'fd00::2', port: 694 }], collector().events, fakeLookup({}), async (ifname) => {
      throw new Error(`interface ${ifname}: no IPv6 address`)
    }),
    /eth9: no IPv6 address/,
  )
})
