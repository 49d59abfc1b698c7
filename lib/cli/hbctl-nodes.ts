// hbctl nodes [--json]: every node with status, last heard, advertised deadtime, generation and links.

import { parseArgs } from 'node:util'
import { formatNodes } from '../control/status-format.js'
import { ask, failure } from './control-client.js'

export async function main(argv: string[]): Promise<number> {
  let values
  try {
    ;({ values } = parseArgs({ args: argv, options: { json: { type: 'boolean' } } }))
  } catch (err) {
    process.stderr.write(`hbctl nodes: ${(err as Error).message}\nusage: hbctl nodes [--json]\n`)
    return 2
  }
  const resp = await ask({ type: 'status' })
  if (!resp.ok) return failure('nodes', resp)
  if (resp.type !== 'status') return 1
  if (values.json) process.stdout.write(`${JSON.stringify(resp.status.nodes, null, 2)}\n`)
  else {
    const tty = process.stdout.isTTY === true
    process.stdout.write(`${formatNodes(resp.status, { color: tty && process.env.NO_COLOR === undefined, width: tty ? (process.stdout.columns ?? 80) : 80 })}\n`)
  }
  return 0
}
