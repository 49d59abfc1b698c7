// hbctl metrics: the daemon's counters (packets, bad packets by reason, retransmissions, link flaps,
// deaths, takeovers, agent runs and durations) in Prometheus text format, over the control socket.

import { ask, failureOrCHeartbeat } from './control-client.js'
import { parseCommand } from './cli-args.js'

const USAGE = `usage: hbctl metrics
  The daemon's counters in Prometheus text exposition format (heartbeat_* families), for a
  node_exporter textfile collector or a look by hand. No port is opened: heartbeat-ts.conf
  [metrics] textfile makes the daemon write the same text to a file every few seconds.
`

export async function main(argv: string[]): Promise<number> {
  const args = parseCommand('hbctl metrics', USAGE, argv, {})
  if (!args.ok) return args.exitCode
  const resp = await ask({ type: 'metrics' })
  if (!resp.ok) return failureOrCHeartbeat('metrics', resp)
  if (resp.type !== 'metrics') return 1
  process.stdout.write(resp.text)
  return 0
}
