// hbctl status [--json] [--watch] [--interval SECONDS]: nodes, links, groups and real servers at a glance.

import { setTimeout as sleep } from 'node:timers/promises'
import { formatStatus } from '../control/status-format.js'
import { EXIT_C_HEARTBEAT, ask, cHeartbeatInstead, failure } from './control-client.js'
import { parseCommand } from './cli-args.js'

const USAGE = `usage: hbctl status [--json] [--watch [--interval SECONDS]]
  Nodes, links, resource groups (who holds them and why) and real servers at a glance.
  --json              the whole status as JSON (schema in hbctl(8))
  -w, --watch         redraw until Ctrl-C (with --json: one JSON object per line)
  -n, --interval SEC  seconds between redraws (default 2)
Exit status: 0; 3 when heartbeat is not running; 5 when the C heartbeat (3.0.6) is the daemon running here.
`

export async function main(argv: string[]): Promise<number> {
  const args = parseCommand('hbctl status', USAGE, argv, {
    json: { type: 'boolean' },
    watch: { type: 'boolean', short: 'w' },
    interval: { type: 'string', short: 'n' },
  })
  if (!args.ok) return args.exitCode
  const values = args.values
  const intervalS = Number(values.interval ?? '2')
  if (!Number.isFinite(intervalS) || intervalS <= 0) {
    process.stderr.write(`hbctl status: --interval ${JSON.stringify(values.interval)} is not a positive number of seconds\n`)
    return 2
  }
  const tty = process.stdout.isTTY === true
  const color = tty && process.env.NO_COLOR === undefined
  let stop = false
  if (values.watch) process.once('SIGINT', () => (stop = true))
  for (;;) {
    const resp = await ask({ type: 'status' })
    if (!resp.ok) {
      const other = resp.code === 'not-running' ? await cHeartbeatInstead() : undefined
      let rc: number
      if (other !== undefined) {
        // The answer to "status", not a failure of hbctl: on stdout, unless stdout carries JSON only.
        if (values.json) process.stderr.write(other)
        else process.stdout.write(other)
        rc = EXIT_C_HEARTBEAT
      } else rc = failure('status', resp)
      if (!values.watch) return rc
    } else if (resp.type === 'status') {
      if (values.json) {
        // --watch --json: one snapshot per line (JSON lines) for scripts.
        process.stdout.write(values.watch ? `${JSON.stringify(resp.status)}\n` : `${JSON.stringify(resp.status, null, 2)}\n`)
      } else {
        const text = formatStatus(resp.status, { color, width: tty ? (process.stdout.columns ?? 80) : 80 })
        process.stdout.write(values.watch && tty ? `\x1b[H\x1b[2J${text}` : values.watch ? `${text}\n` : text)
      }
    } else {
      process.stderr.write(`hbctl status: unexpected answer ${JSON.stringify(resp)}\n`)
      return 1
    }
    if (!values.watch || stop) return 0
    await sleep(intervalS * 1000)
    if (stop) return 0
  }
}
