// The daemon's pidfile: read it, tell a live daemon from a stale file, write and remove it.
// A pid is trusted only after lib/io/pid-check.ts has matched it to the process that wrote it.

import { mkdir, unlink } from 'node:fs/promises'
import { dirname } from 'node:path'
import { unlinkSync, readFileSync } from 'node:fs'
import type { DaemonState } from './daemon-state.js'
import { checkPidFile, parsePidRecord, readPidFileRecord, runsProgram, writePidRecord } from './pid-check.js'
import type { PidExpectation } from './pid-check.js'

/** true when a process with this pid exists (EPERM still means it exists). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/** The heartbeat daemon: `node [flags] .../heartbeat[.js] -f`, as root. */
export const HEARTBEAT_PROCESS: PidExpectation = { argv: runsProgram('heartbeat'), what: 'heartbeat' }

/**
 * heartbeat -s semantics: no file = stopped; file naming our live daemon = running; anything else =
 * stale, including a pid now used by another process (which must never be signalled).
 */
export async function probeDaemon(pidFile: string, expect: PidExpectation = HEARTBEAT_PROCESS): Promise<DaemonState> {
  const v = await checkPidFile(pidFile, expect)
  if (v.ok) return { kind: 'running', pid: v.pid }
  if ('missing' in v) return { kind: 'stopped' }
  return { kind: 'stale', pid: v.pid, reason: v.reason }
}

/** Write `pid` and its start time atomically (temp file, fsync, rename), never through a planted link. */
export async function writePidFile(pidFile: string, pid: number): Promise<void> {
  await mkdir(dirname(pidFile), { recursive: true, mode: 0o755 })
  await writePidRecord(pidFile, pid)
}

/** Remove the pidfile only if it still names `pid` (a newer daemon may own it). */
export async function removePidFile(pidFile: string, pid: number): Promise<void> {
  const rec = await readPidFileRecord(pidFile)
  if (rec?.pid === pid) await unlink(pidFile).catch(() => undefined)
}

/** Same as removePidFile for process 'exit' hooks, where only synchronous work runs. */
export function removePidFileSync(pidFile: string, pid: number): void {
  try {
    // unlink removes a symlink itself, never its target; reading through one only costs a wrong answer.
    if (parsePidRecord(readFileSync(pidFile, 'latin1').slice(0, 256))?.pid === pid) unlinkSync(pidFile)
  } catch {
    // already gone
  }
}
