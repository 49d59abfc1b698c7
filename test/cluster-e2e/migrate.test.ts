// Issue 14, part 1: the rolling migration from the real heartbeat 3.0.6 to heartbeat-ts and back, on the seed
// cluster in namespaces, with a client asking the VIP every 10 ms (test/cluster-e2e/migrate-run.ts). Asserted:
// every checkpoint's views agree, hb_uuid is kept and hb_generation continues, and no client request fails
// outside the planned switchovers. The times are printed (README, migration section), never asserted.

import t from 'tap'
import { gate, realHeartbeatAvailability } from '../netns/kit.js'
import { formatMigrationReport, runMigration } from './migrate-run.js'

t.test('rolling migration 3.0.6 → heartbeat-ts → 3.0.6 on a live LVS pair', { timeout: 600_000 }, async (tt) => {
  if (!gate(tt, await realHeartbeatAvailability())) return
  const r = await runMigration({ prefix: 'hbmigr', note: (l) => tt.comment(l), onCluster: (c) => tt.teardown(() => c.destroy()) })
  tt.comment(formatMigrationReport(r))
  tt.ok(r.actions.filter((a) => a.switchover !== undefined).length >= 6, 'both 3.0.6 hand-overs and the four planned switchovers ran')
  for (const seed of ['titanic5', 'titanic6'] as const) {
    const g = r.identity[seed].generations
    tt.equal(g.length, 3, `${seed}: three daemon starts (3.0.6, heartbeat-ts, 3.0.6)`)
    tt.ok(g.every((x, i) => i === 0 || x === (g[i - 1] ?? 0) + 1), `${seed}: hb_generation continued across both switches (${g.join(' → ')})`)
  }
  tt.equal(r.unplannedFailures, 0, 'no client request failed outside the planned switchovers')
  tt.same(r.violations, [], 'every checkpoint: hbctl status, cl_status (ours and 3.0.6\'s) and the hosts agree; hb_uuid kept')
})
