// The daemon's pidfile: read it, tell a live daemon from a stale file, write and remove it.

import { readFile, writeFile, rename, unlink, mkdir } from 'node:fs/promises'
import { unlinkSync, readFileSync } from 'node:fs'
import { dirname } from 'node:path'
import type { DaemonState } from '../cli/init-verbs.js'
import { parsePidText } from '../cli/init-verbs.js'

/** true when a process with this pid exists (EPERM still means it exists). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/** heartbeat -s semantics: no file = stopped; file naming a live pid = running; anything else = stale. */
export async function probeDaemon(pidFile: string): Promise<DaemonState> {
  let text: string
  try {
    text = await readFile(pidFile, 'latin1')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { kind: 'stopped' }
    return { kind: 'stale', pid: undefined }
  }
  const pid = parsePidText(text)
  if (pid === undefined) return { kind: 'stale', pid: undefined }
  return processAlive(pid) ? { kind: 'running', pid } : { kind: 'stale', pid }
}

/** Write atomically (temp file + rename) so a reader never sees a half-written pid. */
export async function writePidFile(pidFile: string, pid: number): Promise<void> {
  await mkdir(dirname(pidFile), { recursive: true })
  const tmp = `${pidFile}.${pid}.tmp`
  await writeFile(tmp, `${pid}\n`, { mode: 0o644 })
  await rename(tmp, pidFile)
}

/** Remove the pidfile only if it still names `pid` (a newer daemon may own it). */
export async function removePidFile(pidFile: string, pid: number): Promise<void> {
  try {
    if (parsePidText(await readFile(pidFile, 'latin1')) === pid) await unlink(pidFile)
  } catch {
    // already gone
  }
}

/** Same as removePidFile for process 'exit' hooks, where only synchronous work runs. */
export function removePidFileSync(pidFile: string, pid: number): void {
  try {
    if (parsePidText(readFileSync(pidFile, 'latin1')) === pid) unlinkSync(pidFile)
  } catch {
    // already gone
  }
}
