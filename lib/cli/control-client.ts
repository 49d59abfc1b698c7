// What every hbctl sub-command that talks to the daemon shares: where the socket is, how failures read and exit.

import { controlRequest } from '../io/control-socket.js'
import { controlSocketPath, daemonPaths } from '../config/paths.js'
import type { ControlRequest, ControlResponse } from '../control/protocol.js'

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
