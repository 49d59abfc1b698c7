// hbctl standby|takeover [all|local|foreign|failback]: hb_standby and hb_takeover through the control socket.

import { RESOURCE_SETS } from '../control/protocol.js'
import type { ResourceSet } from '../control/protocol.js'
import { ask, failureOrCHeartbeat } from './control-client.js'
import { parseCommand } from './cli-args.js'

/** Both commands take at most one word, `all` by default (hb_standby / hb_takeover, §10.4). */
export async function resourcesCommand(cmd: 'standby' | 'takeover', argv: string[]): Promise<number> {
  const usage =
    `usage: hbctl ${cmd} [all|local|foreign|failback]\n` +
    (cmd === 'standby'
      ? '  Give resources to the peer, as hb_standby does (default all). Refused under auto_failback legacy.\n'
      : '  Take resources from the peer, as hb_takeover does (default all). Refused under auto_failback legacy.\n')
  const args = parseCommand(`hbctl ${cmd}`, usage, argv, {}, 1)
  if (!args.ok) return args.exitCode
  const word = args.positionals[0] ?? 'all'
  if (!(RESOURCE_SETS as readonly string[]).includes(word)) {
    process.stderr.write(`hbctl ${cmd}: wrong resources (${JSON.stringify(word)})\n${usage}`)
    return 2
  }
  const resp = await ask({ type: cmd, resources: word as ResourceSet })
  if (!resp.ok) return failureOrCHeartbeat(cmd, resp)
  if (resp.type === 'done') process.stdout.write(`${resp.message}\n`)
  return 0
}
