// Ping nodes (ha.cf ping, ping6, ping_group) on virtual time: a member of type ping is "ping" while
// echo replies come and "dead" after deadping without one, as 3.0.6's ping plugins and dead-node check.
import t from 'tap'
import { PingNodes, pingTargets } from '../../lib/cluster/ping-nodes.js'
import type { PingNode } from '../../lib/config/ha-cf.js'

const NODES: PingNode[] = [
  { kind: 'ping', name: '10.0.0.254', line: 9 },
  { kind: 'ping6', name: 'fd00::1', line: 10 },
  { kind: 'ping_group', name: 'routers', addresses: ['10.0.0.1', '10.0.0.2'], line: 11 },
]
const DEADPING_MS = 10_000

t.test('every address is pinged, a ping_group address for its group, ping6 over IPv6', async (t) => {
  t.same(pingTargets(NODES), [
    { node: '10.0.0.254', address: '10.0.0.254', family: 4 },
    { node: 'fd00::1', address: 'fd00::1', family: 6 },
    { node: 'routers', address: '10.0.0.1', family: 4 },
    { node: 'routers', address: '10.0.0.2', family: 4 },
  ])
})

t.test('init until the first reply, ping while replies come, dead after deadping of silence, back on the next reply', async (t) => {
  const p = new PingNodes(NODES, DEADPING_MS, 0)
  t.same(p.snapshot().map((n) => n.status), ['init', 'init', 'init'], 'nothing heard yet')
  t.same(p.reply('10.0.0.254', 1000), [{ node: '10.0.0.254', status: 'ping', previous: 'init' }])
  t.same(p.reply('10.0.0.254', 3000), [], 'a second reply changes nothing')
  t.equal(p.upCount(), 1)
  t.equal(p.nextDeadline(), DEADPING_MS, 'the silent ones are due first, deadping after start')
  t.same(p.tick(DEADPING_MS - 1), [], 'not before deadping')
  t.same(
    p.tick(DEADPING_MS).map((c) => `${c.node} ${c.previous}->${c.status}`),
    ['fd00::1 init->dead', 'routers init->dead'],
    'never answered: dead at deadping',
  )
  t.same(p.tick(12_999), [], '10.0.0.254 answered at 3 s: alive until 13 s')
  t.same(p.tick(13_000).map((c) => c.node), ['10.0.0.254'])
  t.equal(p.upCount(), 0)
  t.equal(p.nextDeadline(), undefined, 'all dead: nothing due')
  t.same(p.reply('routers', 20_000), [{ node: 'routers', status: 'ping', previous: 'dead' }], 'a ping_group comes back on a reply from any of its addresses')
  t.same(p.reply('nobody', 20_000), [], 'a reply for no ping node is ignored')
})

t.test('a ping_group stays up while any address answers', async (t) => {
  const p = new PingNodes([NODES[2] as PingNode], DEADPING_MS, 0)
  // the shell names the group for a reply from either address; one of them answering is enough
  for (let at = 1000; at <= 60_000; at += 2000) p.reply('routers', at)
  t.same(p.tick(60_000), [])
  t.equal(p.snapshot()[0]?.status, 'ping')
})

t.test('the same host named twice is one ping node', async (t) => {
  const p = new PingNodes([NODES[0] as PingNode, { kind: 'ping', name: '10.0.0.254', line: 12 }], DEADPING_MS, 0)
  t.equal(p.size, 1)
})
