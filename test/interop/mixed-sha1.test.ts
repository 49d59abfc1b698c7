// Mixed pair, seed ha.cf unchanged, auth sha1: heartbeat-ts and the real 3.0.6 both ways round —
// both active, no complaints in the real log over a quiet window, crash and rejoin of each side.
// Quiet window 60 s each way, as the issue asks.

import t from 'tap'
import { gate, realHeartbeatAvailability } from '../netns/kit.js'
import { mixedPairScenario } from './pair-scenario.js'

t.test('sha1: heartbeat-ts as titanic5, real 3.0.6 as titanic6', async (t) => {
  if (!gate(t, await realHeartbeatAvailability())) return
  await mixedPairScenario(t, { prefix: 'hbisha1a', auth: 'sha1', tsAs: 'titanic5', quietWindowMs: 60000 })
})

t.test('sha1: real 3.0.6 as titanic5, heartbeat-ts as titanic6', async (t) => {
  if (!gate(t, await realHeartbeatAvailability())) return
  await mixedPairScenario(t, { prefix: 'hbisha1b', auth: 'sha1', tsAs: 'titanic6', quietWindowMs: 60000 })
})
