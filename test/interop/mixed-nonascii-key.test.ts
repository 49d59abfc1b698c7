// Mixed pair with a non-ASCII (UTF-8) sha1 key: heartbeat-ts keys HMAC with the file's bytes, as
// the real 3.0.6 does, so the two authenticate each other. (heartbeat-ts used to read authkeys as
// latin1 and re-encode the key as UTF-8: every byte >= 0x80 became two and no packet verified.)

import t, { type Test } from 'tap'
import { gate, realHeartbeatAvailability } from '../netns/kit.js'
import { realLog, realNodeStatus, type SeedNode } from '../netns/seed-node.js'
import { buildPair, complaints, startNode, statusSeenBy, waitBothActive, type Impl } from './pair-scenario.js'

/** A passphrase with 2-, 3- and 4-byte UTF-8 sequences (bytes 0x80-0xff everywhere). */
const AUTHKEYS = Buffer.from('auth 1\n1 sha1 Grüße-ключ-鍵-🔑\n', 'utf8')
const QUIET_WINDOW_MS = 20_000

async function nonAsciiPair(t: Test, prefix: string, tsAs: SeedNode): Promise<void> {
  const realAs: SeedNode = tsAs === 'titanic5' ? 'titanic6' : 'titanic5'
  const pair = await buildPair(t, { prefix, auth: 'sha1', impl: { [tsAs]: 'ts', [realAs]: 'real' } as Record<SeedNode, Impl> })
  for (const n of Object.values(pair.nodes)) await n.host.writeFile('etc/ha.d/authkeys', AUTHKEYS, 0o600)
  const ts = pair.nodes[tsAs]
  const real = pair.nodes[realAs]
  await startNode(pair.nodes.titanic5)
  await new Promise((r) => setTimeout(r, 1500))
  await startNode(pair.nodes.titanic6)
  await waitBothActive(pair, 40_000)
  t.equal(await realNodeStatus(real.host, ts.name), 'active', `cl_status nodestatus ${ts.name} on the real node: active`)
  t.equal(await statusSeenBy(ts, real.name), 'active', `heartbeat-ts sees ${real.name} active`)
  await new Promise((r) => setTimeout(r, QUIET_WINDOW_MS))
  t.equal(await realNodeStatus(real.host, ts.name), 'active', 'still active after the quiet window')
  t.same(complaints(await realLog(real.host)), [], 'the real node logged no authentication complaints')
  t.notMatch(ts.ts?.text() ?? '', /bad packet on |ERROR:|CRIT:/, 'heartbeat-ts refused no packet of the real node')
}

t.test('UTF-8 sha1 key: heartbeat-ts as titanic5, real 3.0.6 as titanic6', async (t) => {
  if (!gate(t, await realHeartbeatAvailability())) return
  await nonAsciiPair(t, 'hbinka', 'titanic5')
})

t.test('UTF-8 sha1 key: real 3.0.6 as titanic5, heartbeat-ts as titanic6', async (t) => {
  if (!gate(t, await realHeartbeatAvailability())) return
  await nonAsciiPair(t, 'hbinkb', 'titanic6')
})
