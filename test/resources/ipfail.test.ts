// ipfail's decisions (lib/resources/ipfail.ts), one node's side, on virtual time: the messages are
// 3.0.6 ipfail's own (num_ping_nodes with num_ping, you_are_dead, abort_giveup).
import t from 'tap'
import { Ipfail, type IpfailAction } from '../../lib/resources/ipfail.js'
import { getString, messageOf, type HaMessage } from '../../lib/wire/message.js'

const ME = 'titanic5'
const PEER = 'titanic6'
const KEEPALIVE_MS = 2000

const make = (autoFailback = true): Ipfail => new Ipfail({ me: ME, peer: PEER, keepaliveMs: KEEPALIVE_MS, autoFailback })
const sent = (a: readonly IpfailAction[]): string[] => a.flatMap((x) => (x.type === 'send' ? [x.msg.fields.map((f) => `${f.name}=${f.value.toString()}`).join(' ')] : []))
const logs = (a: readonly IpfailAction[]): string => a.flatMap((x) => (x.type === 'log' ? [x.text] : [])).join('\n')
const giveups = (a: readonly IpfailAction[]): string[] => a.flatMap((x) => (x.type === 'giveup' ? [x.what] : []))
const fromPeer = (pairs: Array<[string, string]>): HaMessage => messageOf([...pairs, ['src', PEER]])

t.test('a ping node change asks the peer with our count, as ipfail sendnodemsg does', async (t) => {
  const i = make()
  const a = i.pingChanged('10.0.0.254', 'dead', 0)
  t.same(sent(a), ['t=num_ping_nodes src=titanic5 num_ping=0 dest=titanic6'])
  t.match(logs(a), /ping node 10\.0\.0\.254 is dead \(0 up here\)/)
  t.same(sent(i.pingChanged('10.0.0.254', 'ping', 1)), ['t=num_ping_nodes src=titanic5 num_ping=1 dest=titanic6'])
  t.same(sent(i.pingChanged('10.0.0.254', 'dead', 0, false)), [], 'not while the peer is down or joining')
  i.peerJoined(10_000)
  t.equal(i.nextDeadline(), 10_000 + 2 * KEEPALIVE_MS, 'the peer joined: asked twice keepalive later, past its join handshake')
  t.same(sent(i.tick(13_999, true, 1)), [])
  t.same(sent(i.tick(14_000, true, 1)), ['t=num_ping_nodes src=titanic5 num_ping=1 dest=titanic6'])
})

t.test('we see more: tell the peer it is dead, give nothing up', async (t) => {
  const i = make()
  const a = i.message(fromPeer([['t', 'num_ping_nodes'], ['num_ping', '0']]), 1, true, 0)
  t.same(sent(a), ['t=you_are_dead dest=titanic6'])
  t.match(logs(a), /1 ping node\(s\) up here, 0 on titanic6: telling titanic6 we see more ping nodes/)
  t.same(giveups(i.tick(60_000, true, 1)), [], 'no give-up here')
})

t.test('we see fewer: give everything up after twice keepalive, unless an abort_giveup comes first', async (t) => {
  const i = make()
  const a = i.message(fromPeer([['t', 'num_ping_nodes'], ['num_ping', '2']]), 1, true, 1000)
  t.match(logs(a), /1 ping node\(s\) up here, 2 on titanic6: giving up our resources/)
  t.equal(i.nextDeadline(), 1000 + 2 * KEEPALIVE_MS)
  t.same(giveups(i.tick(4999, true, 1)), [], 'not yet')
  const due = i.tick(5000, true, 1)
  t.same(giveups(due), ['all'])
  t.match(due.find((x) => x.type === 'giveup')?.type === 'giveup' ? (due.find((x) => x.type === 'giveup') as { text: string }).text : '', /1 ping node\(s\) up here, 2 on titanic6/, 'the give-up says the counts')

  const j = make()
  j.message(fromPeer([['t', 'you_are_dead']]), 0, true, 0)
  j.message(fromPeer([['t', 'abort_giveup']]), 1, true, 1000)
  t.same(giveups(j.tick(10_000, true, 1)), [], 'aborted: nothing given up')
  t.equal(j.nextDeadline(), undefined)
})

t.test('balanced: abort_giveup to the peer; with auto_failback, foreign resources go home', async (t) => {
  const i = make(true)
  const a = i.message(fromPeer([['t', 'num_ping_nodes'], ['num_ping', '1']]), 1, true, 0)
  t.same(sent(a), ['t=abort_giveup src=titanic5 dest=titanic6'])
  t.same(giveups(i.tick(4000, true, 1)), ['foreign'], 'auto_failback on: the peer gets its own groups back')

  const off = make(false)
  off.message(fromPeer([['t', 'num_ping_nodes'], ['num_ping', '1']]), 1, true, 0)
  t.equal(off.nextDeadline(), undefined, 'auto_failback off: nothing moves back')

  const pending = make(true)
  pending.message(fromPeer([['t', 'you_are_dead']]), 0, true, 0)
  pending.message(fromPeer([['t', 'num_ping_nodes'], ['num_ping', '1']]), 1, true, 1000)
  t.same(giveups(pending.tick(10_000, true, 1)), [], 'a pending give-up is only cancelled when the counts even out')
})

t.test('a give-up due while resources are in transition waits until they are stable', async (t) => {
  const i = make()
  i.message(fromPeer([['t', 'you_are_dead']]), 0, true, 0)
  t.same(giveups(i.tick(4000, false, 0)), [])
  t.same(sent(i.stable(0)), ['t=num_ping_nodes src=titanic5 num_ping=0 dest=titanic6'], 'asked again once stable')
  t.same(sent(i.stable(0)), [], 'once')
})

t.test('messages that are not ipfail\'s, or our own, are ignored', async (t) => {
  const i = make()
  t.same(i.message(fromPeer([['t', 'status']]), 1, true, 0), [])
  t.same(i.message(messageOf([['t', 'you_are_dead'], ['src', ME]]), 1, true, 0), [])
  t.equal(getString(fromPeer([['t', 'x']]), 'src'), PEER)
})
