// Two heartbeat-ts nodes with the seed config: both active, state files in heartbeat's format,
// crash of either side detected at its deadline, rejoin with a higher generation.

import t from 'tap'
import { gate, realHeartbeatAvailability } from '../netns/kit.js'
import { buildPair, crashAndRejoin, reportCrash, startNode, waitBothActive } from './pair-scenario.js'

t.test('two heartbeat-ts nodes (sha1)', async (t) => {
  // The real package is not run here, but the kit copies its /etc/ha.d (harc, IPaddr) into each node.
  if (!gate(t, await realHeartbeatAvailability())) return
  const pair = await buildPair(t, { prefix: 'hbitspair', auth: 'sha1', impl: { titanic5: 'ts', titanic6: 'ts' } })
  await startNode(pair.nodes.titanic5)
  await new Promise((r) => setTimeout(r, 1500))
  await startNode(pair.nodes.titanic6)
  await waitBothActive(pair, 40_000)
  t.pass('both active')

  for (const n of [pair.nodes.titanic5, pair.nodes.titanic6]) {
    const gen = (await n.host.readFile('var/lib/heartbeat/hb_generation')).toString('latin1')
    t.match(gen, /^ *\d+\n$/, `${n.name}: hb_generation holds a number`)
    t.equal(gen.length, 16, `${n.name}: right-aligned in 15 columns plus newline, as 3.0.6 writes it`)
    t.equal((await n.host.readFile('var/lib/heartbeat/hb_uuid')).length, 16, `${n.name}: hb_uuid is 16 raw bytes`)
    // written when the peer's uuid was learned (the core's write-state action, carried out by run.ts)
    const cache = (await n.host.readFile('var/lib/heartbeat/hostcache')).toString('latin1')
    t.match(cache, /^titanic5\S*\t[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\t100\t\ntitanic6\S*\t[0-9a-f-]{36}\t100\t\n$/, `${n.name}: hostcache names both nodes with their uuids`)
  }
  const uuidBefore = (await pair.nodes.titanic5.host.readFile('var/lib/heartbeat/hb_uuid')).toString('hex')

  reportCrash(t, await crashAndRejoin(pair, pair.nodes.titanic5, pair.nodes.titanic6, 40_000), 'ts')
  t.equal((await pair.nodes.titanic5.host.readFile('var/lib/heartbeat/hb_uuid')).toString('hex'), uuidBefore, 'the restarted node kept its uuid')
  reportCrash(t, await crashAndRejoin(pair, pair.nodes.titanic6, pair.nodes.titanic5, 40_000), 'ts')
  t.notMatch(pair.nodes.titanic5.ts?.text() ?? '', /bad packet on |ERROR:|CRIT:/, 'no bad packets or errors logged')
})
