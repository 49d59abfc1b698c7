// `npm run migrate-demo`: the rolling migration of the seed LVS pair from heartbeat 3.0.6 to heartbeat-ts and
// back (test/cluster-e2e/migrate-run.ts), every admin command and view printed as it happens, then the figures:
// per action the client's failed requests, longest gap and who answered. Exits 1 on any violation.

import { realHeartbeatAvailability } from '../test/netns/kit.js'
import type { SeedCluster } from '../test/cluster-e2e/seed-cluster.js'
import { formatMigrationReport, runMigration } from '../test/cluster-e2e/migrate-run.js'

const a = await realHeartbeatAvailability()
if (!a.ok) {
  process.stderr.write(`migrate-demo: cannot run: ${a.reason}\n`)
  process.exit(1)
}
let cluster: SeedCluster | undefined
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.once(sig, () => {
    process.stdout.write(`\n${sig}: removing every namespace and process the demo made…\n`)
    void (cluster?.destroy() ?? Promise.resolve()).finally(() => process.exit(130))
  })
}
const r = await runMigration({ prefix: 'hbmigdemo', note: (l) => process.stdout.write(`${l}\n`), onCluster: (c) => (cluster = c) })
process.stdout.write(`\n${formatMigrationReport(r)}\n`)
process.exit(r.violations.length > 0 ? 1 : 0)
