// hbctl nodes [--json]: every node with status, last heard, advertised deadtime, generation and links.

import { formatNodes } from '../control/status-format.js'
import { ask, failureOrCHeartbeat } from './control-client.js'
import { parseCommand } from './cli-args.js'

const USAGE = `usage: hbctl nodes [--json]
  Every node: status, type, last heard, advertised deadtime, generation, links.
  --json  the nodes as JSON (the "nodes" array of hbctl status --json)
`

export async function main(argv: string[]): Promise<number> {
  const args = parseCommand('hbctl nodes', USAGE, argv, { json: { type: 'boolean' } })
  if (!args.ok) return args.exitCode
  const values = args.values
  const resp = await ask({ type: 'status' })
  if (!resp.ok) return failureOrCHeartbeat('nodes', resp)
  if (resp.type !== 'status') return 1
  if (values.json) process.stdout.write(`${JSON.stringify(resp.status.nodes, null, 2)}\n`)
  else {
    const tty = process.stdout.isTTY === true
    process.stdout.write(`${formatNodes(resp.status, { color: tty && process.env.NO_COLOR === undefined, width: tty ? (process.stdout.columns ?? 80) : 80 })}\n`)
  }
  return 0
}
