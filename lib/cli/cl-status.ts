#!/usr/bin/env node
// cl_status: heartbeat 3.0.6's status query tool, answered from the heartbeat-ts control socket — or,
// when the C heartbeat is the daemon running here (a migration, a rollback), by its own cl_status.

import { hostname } from 'node:os'
import { realpathSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { constants } from 'node:os'
import { execa } from 'execa'
import { daemonPaths } from '../config/paths.js'
import { runningDaemon } from '../io/running-daemon.js'
import type { RunningDaemon } from '../io/running-daemon.js'
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

/** The Debian package's cl_status, which talks to the C daemon's API socket. */
export const REAL_CL_STATUS = '/usr/bin/cl_status'
/** Bound on a handed-over call; the real one has its own timeouts, this is for a hung one. */
const HANDOVER_TIMEOUT_MS = 30_000
/** Set on the handed-over call: should /usr/bin/cl_status be this program, it must not hand over again. */
const HANDED_OVER_ENV = 'HBTS_CL_STATUS_HANDED_OVER'

type Env = Readonly<Record<string, string | undefined>>

export interface ClStatusDeps {
  /** Which heartbeat runs on this node. */
  detect: (env: Env) => Promise<RunningDaemon>
  realClStatus: string
}

const PRODUCTION_DEPS: ClStatusDeps = {
  detect: (env) => runningDaemon({ pidFile: daemonPaths(env).pidFile }),
  realClStatus: REAL_CL_STATUS,
}

/** The whole call, as given, to the real cl_status: same arguments, standard streams and exit code. */
async function handOver(argv: string[], env: Env, realClStatus: string): Promise<number> {
  const r = await execa(realClStatus, argv, {
    stdio: 'inherit',
    reject: false,
    timeout: HANDOVER_TIMEOUT_MS,
    env: { ...env, [HANDED_OVER_ENV]: '1' },
    extendEnv: false,
  })
  if (r.timedOut) return CL.timeout
  if (typeof r.exitCode === 'number') return r.exitCode
  if (r.signal !== undefined) return 128 + (constants.signals[r.signal] ?? 0)
  process.stderr.write(`cl_status: the C heartbeat runs on this node, but ${realClStatus} could not be run: ${r.shortMessage}\n`)
  return CL.unknownError
}

export async function main(argv: string[], env: Env = process.env, deps: ClStatusDeps = PRODUCTION_DEPS): Promise<number> {
  if (env[HANDED_OVER_ENV] !== '1') {
    const running = await deps.detect(env)
    if (running.kind === 'c-heartbeat') return handOver(argv, env, deps.realClStatus)
  }
  // Help and bad sub-commands need no daemon.
  const quick = clStatusAnswer(argv, { kind: 'stopped' }, logPrefix(new Date()))
  const needsDaemon = argv.length > 0 && !(argv.length === 1 && argv[0] === '-h') && quick.exitCode !== CL.parameterError
  let source: ClSource = { kind: 'stopped' }
  if (needsDaemon) {
    const resp = await ask({ type: 'status' }, env, TIMEOUT_MS)
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
