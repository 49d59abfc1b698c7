// cl_status for tests: lib/cli/cl-status.ts's main() with the detector answering "the C heartbeat runs"
// and the real cl_status replaced by the program HBTS_TEST_REAL_CL_STATUS names (a test's script).

import { realpathSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { main } from '../../../lib/cli/cl-status.js'

if (process.argv[1] !== undefined && realpathSync(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = await main(process.argv.slice(2), process.env, {
    detect: async () => ({ kind: 'c-heartbeat', pid: 812, exe: '/usr/libexec/heartbeat/heartbeat' }),
    realClStatus: process.env.HBTS_TEST_REAL_CL_STATUS ?? '/nonexistent/cl_status',
  })
}
