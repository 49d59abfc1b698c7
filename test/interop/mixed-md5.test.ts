// Mixed pair, seed ha.cf unchanged, auth md5: heartbeat-ts and the real 3.0.6 both ways round —
// both active, no complaints in the real log over a quiet window, crash and rejoin of each side.
// Quiet window 60 s each way, as the issue asks.

import t from 'tap'
import { gate, realHeartbeatAvailability } from '../netns/kit.js'
import { mixedPairScenario } from './pair-scenario.js'

t.test('md5: heartbeat-ts as titanic5, real 3.0.6 as titanic6', async (t) => {
  if (!gate(t, await realHeartbeatAvailability())) return
  await mixedPairScenario(t, { prefix: 'hbimd5a', auth: 'md5', tsAs: 'titanic5', quietWindowMs: 60000 })
})

t.test('md5: real 3.0.6 as titanic5, heartbeat-ts as titanic6', async (t) => {
  if (!gate(t, await realHeartbeatAvailability())) return
  await mixedPairScenario(t, { prefix: 'hbimd5b', auth: 'md5', tsAs: 'titanic6', quietWindowMs: 60000 })
})
