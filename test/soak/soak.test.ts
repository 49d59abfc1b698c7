// The short randomized fault run CI keeps honest: 2.5 minutes on a heartbeat-ts pair, fixed seed, network
// faults included; every invariant violation fails the test with its seed.

import t from 'tap'
import { gate, netnsAvailability } from '../netns/kit.js'
import { formatReport, runSoak } from './soak-run.js'

// Two runs of a few minutes each plus two cluster set-ups: more than .taprc's 10 min ceiling allows on a loaded machine.
t.setTimeout(1_200_000)

const SEED = 20261202

// Crashes, reboots, graceful stops, standby/takeover (hbctl and the FIFO), reloads valid and broken, a hung
// agent, real servers failing and returning, loss bursts, one-way loss and partitions that heal: every
// invariant asserted on the heartbeat-ts pair.
t.test(`soak: ts pair, seed ${SEED}, 150 s of random faults`, { timeout: 450_000 }, async (tt) => {
  if (!gate(tt, await netnsAvailability())) return
  const r = await runSoak({ pair: 'ts', seed: SEED, durationMs: 150_000, prefix: 'soaktts', maxActions: 60, note: (l) => tt.comment(l) })
  tt.comment(formatReport(r))
  tt.ok(r.actions.length >= 5, `${r.actions.length} random actions ran`)
  tt.same(r.violations, [], `no invariant violations (reproduce: npm run soak -- --pair ts --seed ${SEED})`)
})

// The mixed pair with the real 3.0.6 is run by hand (`npm run soak -- --pair mixed --seed 20261202`): the real
// 3.0.6 runs its resources through ResourceManager and the shell IPaddr, which took 1-10 s per hand-over on this
// shared 2-core machine, and restarts itself when a partition heals, so the bounds (deadtime + 1 s, + 2 s after a
// heal) charge 3.0.6's own script time to the pair (issue 11, open). A tap todo would not run it at all.
