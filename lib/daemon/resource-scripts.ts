// Running a haresources resource as ResourceManager does: resource.d/<name>, else /etc/init.d/<name>,
// called `<script> [args…] <op>`, output to the debug log, `status` judged by its stdout only.

import { access } from 'node:fs/promises'
import { constants } from 'node:fs'
import { join } from 'node:path'
import { execa } from 'execa'
import type { ResourceRef } from '../config/haresources.js'
import type { AgentOp } from '../resources/rm-types.js'
import { statusSaysRunning } from '../resources/status-words.js'

export interface ScriptResult {
  ok: boolean
  running?: boolean
  exitCode?: number
  detail?: string
  /** The command as run, for logs. */
  command: string
  output: string
}

/** ResourceManager's lookup: resource.d first, then init.d; the file must be executable. */
export async function findResourceScript(haDir: string, agent: string, initDir = '/etc/init.d'): Promise<string | undefined> {
  for (const dir of [join(haDir, 'resource.d'), initDir]) {
    const file = join(dir, agent)
    try {
      await access(file, constants.X_OK)
      return file
    } catch {
      // next place
    }
  }
  return undefined
}

/** Stop and start may take long (IPaddr's ARP, init scripts); status should be quick. */
const TIMEOUT_MS: Record<AgentOp, number> = { start: 300_000, stop: 300_000, status: 60_000 }

export async function runResourceScript(opts: {
  haDir: string
  resource: ResourceRef
  op: AgentOp
  env: Readonly<Record<string, string>>
}): Promise<ScriptResult> {
  const { resource, op } = opts
  const script = await findResourceScript(opts.haDir, resource.agent)
  const args = [...resource.args, op]
  if (script === undefined) {
    const command = `${resource.agent} ${args.join(' ')}`
    // ResourceManager: a missing script is a failure for start/stop, "not running" for status.
    return { ok: op === 'status', running: false, exitCode: 127, detail: `resource script ${resource.agent} not found in resource.d or /etc/init.d`, command, output: '' }
  }
  const command = `${script} ${args.join(' ')}`
  const r = await execa(script, args, {
    reject: false,
    all: true,
    stdin: 'ignore',
    timeout: TIMEOUT_MS[op],
    env: opts.env,
    cwd: '/',
  })
  const output = String(r.all ?? '')
  const exitCode = r.exitCode ?? -1
  if (op === 'status') {
    // Only stdout counts for status; the exit code is ignored (§9.2).
    return { ok: true, running: statusSaysRunning(String(r.stdout ?? '')), exitCode, command, output }
  }
  const detail = r.timedOut ? `timed out after ${TIMEOUT_MS[op]} ms` : exitCode === 0 ? undefined : `exit code ${exitCode}`
  return { ok: exitCode === 0 && !r.timedOut, exitCode, ...(detail ? { detail } : {}), command, output }
}
