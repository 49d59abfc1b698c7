// The heartbeat command for tests: lib/cli/heartbeat.ts's main() with a stand-in daemon loop injected.
// Named heartbeat(.js) so the pidfile check (runsProgram('heartbeat')) accepts the detached daemon, which is
// this script again (`script` below). The stand-in loop is the module HBTS_TEST_DAEMON_MODULE names — a test
// file loading test code; the shipped command never loads code named at run time.

import { realpathSync } from 'node:fs'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { main, type DaemonModule } from '../../../lib/cli/heartbeat.js'

const standIn = process.env.HBTS_TEST_DAEMON_MODULE
const self = fileURLToPath(import.meta.url)

if (process.argv[1] !== undefined && realpathSync(process.argv[1]) === self) {
  process.exitCode = await main(process.argv.slice(2), process.env, {
    loadDaemon: async () => {
      if (standIn === undefined) throw new Error('HBTS_TEST_DAEMON_MODULE is not set (test/cli/heartbeat-kit.ts makeNode sets it)')
      return (await import(pathToFileURL(standIn).href)) as DaemonModule
    },
    script: self,
  })
}
