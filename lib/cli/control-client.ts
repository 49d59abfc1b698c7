// What every hbctl sub-command that talks to the daemon shares: where the socket is, how failures read and exit.

import { controlRequest } from '../io/control-socket.js'
import { controlSocketPath, daemonPaths } from '../config/paths.js'
import type { ControlRequest, ControlResponse } from '../control/protocol.js'
import { describeCHeartbeat, runningDaemon } from '../io/running-daemon.js'

/** Exit status when heartbeat-ts is not running but the C heartbeat is (hbctl(8), EXIT STATUS). */
export const EXIT_C_HEARTBEAT = 5

type Env = Readonly<Record<string, string | undefined>>

export function socketPath(env: Env = process.env): string {
  return controlSocketPath(daemonPaths(env))
}

export function ask(req: ControlRequest, env: Env = process.env, timeoutMs = 5000): Promise<ControlResponse> {
  return controlRequest(socketPath(env), req, timeoutMs)
}

/** Print a failed response for `hbctl <cmd>` and pick the exit code (LSB-like: 3 not running, 4 permission). */
export function failure(cmd: string, resp: ControlResponse & { ok: false }): number {
  process.stderr.write(`hbctl ${cmd}: ${resp.error}\n`)
  switch (resp.code) {
    case 'not-running':
      return 3
    case 'permission':
      return 4
    case 'bad-request':
      return 2
    default:
      return 1
  }
}

/**
 * heartbeat-ts is not running: is the C heartbeat serving this node instead (a migration, a rollback)?
 * Its words for `hbctl <cmd>`, or undefined.
 */
export async function cHeartbeatInstead(env: Env = process.env): Promise<string | undefined> {
  const d = await runningDaemon({ pidFile: daemonPaths(env).pidFile })
  if (d.kind !== 'c-heartbeat') return undefined
  return (
    `heartbeat-ts is not running on this node; ${describeCHeartbeat(d)} is.\n` +
    'Ask it with cl_status (hbstatus, listnodes, rscstatus): ours hands every call to /usr/bin/cl_status while it runs;\n' +
    'hb_standby and hb_takeover steer it.\n'
  )
}

/** failure(), but a node where the C heartbeat runs is named as such (exit EXIT_C_HEARTBEAT), not "not running". */
export async function failureOrCHeartbeat(cmd: string, resp: ControlResponse & { ok: false }): Promise<number> {
  const other = resp.code === 'not-running' ? await cHeartbeatInstead() : undefined
  if (other === undefined) return failure(cmd, resp)
  process.stderr.write(`hbctl ${cmd}: ${other}`)
  return EXIT_C_HEARTBEAT
}
