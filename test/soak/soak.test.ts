// The short randomized fault run CI keeps honest: ~2.5 minutes on a heartbeat-ts pair and ~2 minutes on a
// mixed pair with the real 3.0.6, fixed seed; every invariant violation fails the test with its seed.

import t from 'tap'
import { gate, netnsAvailability, realHeartbeatAvailability } from '../netns/kit.js'
import { formatReport, runSoak, type PairKind } from './soak-run.js'

// Two runs of a few minutes each plus two cluster set-ups: more than .taprc's 10 min ceiling allows on a loaded machine.
t.setTimeout(900_000)

const SEED = 20261202
const runs: Array<{ pair: PairKind; durationMs: number; availability: Awaited<ReturnType<typeof netnsAvailability>> }> = [
  { pair: 'ts', durationMs: 150_000, availability: await netnsAvailability() },
  { pair: 'mixed', durationMs: 120_000, availability: await realHeartbeatAvailability() },
]

for (const run of runs) {
  t.test(`soak: ${run.pair} pair, seed ${SEED}, ${run.durationMs / 1000} s of random faults`, { timeout: run.durationMs + 300_000 }, async (tt) => {
    if (!gate(tt, run.availability)) return
    const r = await runSoak({ pair: run.pair, seed: SEED, durationMs: run.durationMs, prefix: `soakt${run.pair}`, maxActions: 60, note: (l) => tt.comment(l) })
    tt.comment(formatReport(r))
    tt.ok(r.actions.length >= 5, `${r.actions.length} random actions ran`)
    tt.same(r.violations, [], `no invariant violations (reproduce: npm run soak -- --pair ${run.pair} --seed ${SEED})`)
  })
}
