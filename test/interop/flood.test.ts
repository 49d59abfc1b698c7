// Issue 10: a host without the key floods a heartbeat-ts pair's port with forged datagrams (64 KB worst
// cases, garbage, replays of captured 3.0.6 packets) as fast as one core sends: at fast timers and at the
// seed's, no node is declared dead, the VIP stays on titanic5, the logs stay quiet. (`npm run bench flood`
// runs 60 s per setting and the same flood against a real 3.0.6 pair.)

import t from 'tap'
import { gate, realHeartbeatAvailability } from '../netns/kit.js'
import { describeFlood, floodPair, type FloodTimers } from '../netns/flood-scenario.js'

const FLOOD_MS = Number(process.env.FLOOD_MS ?? 20_000)
/** "A few lines a second" at most, over the whole flood. */
const MAX_LOG_LINES_PER_SEC = 2

const settings: Array<[string, FloodTimers]> = [
  ['fast timers', { keepalive: '200ms', deadtime: '1' }],
  ['seed timers', { keepalive: '2', deadtime: '5' }],
]

for (const [label, timers] of settings) {
  for (const replays of [false, true]) {
    // Replays of captured packets verify (the captures' key is the seed's) and reach the receive filter,
    // whose complaints go through the membership's one rate limiter (lib/cluster/complaint-limiter.ts).
    t.test(`heartbeat-ts pair under a forged flood ${replays ? 'with' : 'without'} replays, ${label}`, async (t) => {
      // The kit copies the real package's /etc/ha.d (harc, IPaddr) into each node.
      if (!gate(t, await realHeartbeatAvailability())) return
      const prefix = `hbifl${replays ? 'r' : 'f'}${timers.keepalive === '200ms' ? 'fast' : 'seed'}`
      const r = await floodPair(t, { prefix, impl: 'ts', timers, floodMs: FLOOD_MS, replays })
      t.comment(describeFlood(r))
      for (const l of r.sampleLines) t.comment(`  ${l}`)
      t.ok(r.sentDatagrams > 0, `the flood host sent ${r.sentDatagrams} datagrams`)
      t.same(r.deaths, [], 'no node was declared dead')
      t.same(r.vipHolders, ['titanic5'], 'the VIP stayed on titanic5 the whole time')
      for (const [node, perSec] of Object.entries(r.logLinesPerSec)) {
        t.ok(perSec <= MAX_LOG_LINES_PER_SEC, `${node}: ${r.logLines[node]} log lines in ${Math.round(r.floodMs / 1000)} s (${perSec}/s)`)
      }
    })
  }
}
