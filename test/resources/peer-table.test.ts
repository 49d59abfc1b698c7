// The resource manager's peer table: when a peer newly dies, who counts as heard, which holdings report is late.
import t from 'tap'
import { PeerTable } from '../../lib/resources/peer-table.js'
import { messageOf } from '../../lib/wire/message.js'

const stamped = (hg: number, seq: number): ReturnType<typeof messageOf> =>
  messageOf([
    ['t', 'resource'],
    ['seq', seq.toString(16)],
    ['hg', hg.toString(16)],
  ])

t.test('statuses: a peer is reported dead once; we never are', async (t) => {
  const p = new PeerTable('a', ['a', 'b'])
  t.equal(p.setStatus('b', 'up'), undefined, 'up is no death')
  t.ok(p.get('b')?.heard, 'a status other than init/dead means heard')
  t.equal(p.setStatus('b', 'DEAD')?.name, 'b', 'newly dead (status lower-cased)')
  t.equal(p.setStatus('b', 'dead'), undefined, 'dead again is no news')
  t.equal(p.setStatus('a', 'dead'), undefined, 'our own status never triggers recovery')
  t.equal(p.setStatus('zz', 'dead'), undefined, 'unknown nodes are ignored')
  t.equal(p.countByStatus('dead'), 2, 'counted by status')
  t.equal(p.peerName(), undefined, 'no live peer')
  p.setStatus('b', 'active')
  t.equal(p.peerName(), 'b', 'the live peer')
})

t.test('we are added when ha.cf does not list us', async (t) => {
  const p = new PeerTable('a', ['b'])
  t.same(p.get('a'), { name: 'a', status: 'init', heard: true, hasResources: false }, 'heard, holding nothing')
  t.same(p.get('b'), { name: 'b', status: 'init', heard: false, hasResources: true }, 'a listed peer may hold resources')
  p.heardFrom('a')
  p.heardFrom('b')
  t.ok(p.get('b')?.heard, 'a message from the peer marks it heard')
})

t.test('late holdings: older hg/seq than one acted on, shutdone included', async (t) => {
  const p = new PeerTable('a', ['a', 'b'])
  t.equal(p.lateHoldings(stamped(1, 5), 'b'), undefined, 'first one is news')
  t.match(p.lateHoldings(stamped(1, 4), 'b') ?? '', /^Late resource message from b \(seq 4, already acted on seq 5\) ignored/, 'older seq is late')
  t.equal(p.lateHoldings(stamped(2, 1), 'b'), undefined, 'a newer generation is news at any seq')
  p.noteShutdone('b', stamped(2, 9))
  t.ok(p.lateHoldings(stamped(2, 8), 'b'), 'sent before its shutdone: late')
  t.equal(p.lateHoldings(messageOf([['t', 'resource']]), 'b'), undefined, 'unstamped messages are never late')
})
