#!/usr/bin/env node
// cl_status: heartbeat 3.0.6's status query tool, answered from the heartbeat-ts control socket.

import { hostname } from 'node:os'
import { realpathSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { clStatusAnswer, CL } from '../control/cl-status-answers.js'
import type { ClSource } from '../control/cl-status-answers.js'
import { ask } from './control-client.js'

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec']

/** cl_log's stderr prefix: `Nov 25 17:39:50 host cl_status: [pid]: `. */
function logPrefix(now: Date): string {
  const p2 = (n: number) => String(n).padStart(2, '0')
  const day = String(now.getDate()).padStart(2, ' ')
  const time = `${p2(now.getHours())}:${p2(now.getMinutes())}:${p2(now.getSeconds())}`
  return `${MONTHS[now.getMonth()]} ${day} ${time} ${hostname()} cl_status: [${process.pid}]: `
}

// cl_status gives up after 5 s (SIGALRM) with exit 12.
const TIMEOUT_MS = 5000

export async function main(argv: string[]): Promise<number> {
  // Help and bad sub-commands need no daemon.
  const quick = clStatusAnswer(argv, { kind: 'stopped' }, logPrefix(new Date()))
  const needsDaemon = argv.length > 0 && !(argv.length === 1 && argv[0] === '-h') && quick.exitCode !== CL.parameterError
  let source: ClSource = { kind: 'stopped' }
  if (needsDaemon) {
    const resp = await ask({ type: 'status' }, process.env, TIMEOUT_MS)
    if (resp.ok && resp.type === 'status') source = { kind: 'running', status: resp.status }
    else if (!resp.ok && resp.code === 'timeout') return CL.timeout
    else if (!resp.ok && resp.code !== 'not-running') source = { kind: 'refused', reason: resp.error }
  }
  const a = needsDaemon ? clStatusAnswer(argv, source, logPrefix(new Date())) : quick
  if (a.stdout) process.stdout.write(a.stdout)
  if (a.stderr) process.stderr.write(a.stderr)
  return a.exitCode
}

// Run as the cl_status command; hbctl imports main() for `hbctl cl_status`.
if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === realpathSync(process.argv[1])) {
  process.exitCode = await main(process.argv.slice(2))
}
