// hbctl reload: the daemon rereads its configuration (what SIGHUP and `heartbeat -r` do).

import { ask, failureOrCHeartbeat } from './control-client.js'
import { parseCommand } from './cli-args.js'

const USAGE = `usage: hbctl reload
  The daemon rereads its configuration, as SIGHUP and heartbeat -r do, and says what it did:
  "Configuration unchanged.", "Rereading authentication file.", a restart for an ha.cf change,
  or why the change was refused (the running configuration then stays in force).
`

export async function main(argv: string[]): Promise<number> {
  const args = parseCommand('hbctl reload', USAGE, argv, {})
  if (!args.ok) return args.exitCode
  const resp = await ask({ type: 'reload' })
  if (!resp.ok) return failureOrCHeartbeat('reload', resp)
  if (resp.type === 'done') process.stdout.write(`${resp.message}\n`)
  return 0
}
