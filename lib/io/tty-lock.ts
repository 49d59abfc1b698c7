// The UUCP-style device lock 3.0.6 takes on a serial port before opening it (cluster-glue's
// st_ttylock): /var/lock/LCK..<device base name> holding the owner's pid as ten right-aligned digits
// and a newline. A lock whose pid no longer runs is stale and taken over; a live one is refused, so
// heartbeat, getty, minicom or a second daemon never share a line.

import { link, readFile, unlink, writeFile } from 'node:fs/promises'
import { basename, join } from 'node:path'

export const DEFAULT_LOCK_DIR = '/var/lock'

export function lockPath(lockDir: string, device: string): string {
  return join(lockDir, `LCK..${basename(device)}`)
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    // EPERM: it runs under another user
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

async function ownerOf(path: string): Promise<number | undefined> {
  try {
    const text = (await readFile(path, 'latin1')).trim()
    const pid = Number.parseInt(text, 10)
    return Number.isInteger(pid) && pid > 0 ? pid : undefined
  } catch {
    return undefined
  }
}

/**
 * Holders of each lock file in this process: a reload opens the new life's lines before the running
 * life closes its own, and the file must stay until the last of them lets go.
 */
const holders = new Map<string, number>()

/**
 * Take the lock for `device`; resolves to the release function, rejects with the reason when another
 * live process holds it. The file is written aside and hard-linked into place, so no reader ever
 * sees a half-written pid.
 */
export async function lockTty(device: string, lockDir = DEFAULT_LOCK_DIR, pid = process.pid): Promise<() => Promise<void>> {
  const path = lockPath(lockDir, device)
  await takeLock(path, device, lockDir, pid)
  holders.set(path, (holders.get(path) ?? 0) + 1)
  let released = false
  return async () => {
    if (released) return
    released = true
    const left = (holders.get(path) ?? 1) - 1
    if (left > 0) {
      holders.set(path, left)
      return
    }
    holders.delete(path)
    if ((await ownerOf(path)) === pid) await unlink(path).catch(() => undefined)
  }
}

async function takeLock(path: string, device: string, lockDir: string, pid: number): Promise<void> {
  const tmp = join(lockDir, `LTMP.${pid}`)
  await writeFile(tmp, `${String(pid).padStart(10)}\n`, { mode: 0o644 })
  try {
    for (let attempt = 0; ; attempt++) {
      try {
        await link(tmp, path)
        break
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 0) throw err
      }
      const owner = await ownerOf(path)
      if (owner === pid) break
      if (owner !== undefined && alive(owner)) throw new Error(`cannot lock line ${device}: ${path} is held by pid ${owner}`)
      // stale (its process is gone) or unreadable: taken over, as 3.0.6 does
      await unlink(path).catch(() => undefined)
    }
  } finally {
    await unlink(tmp).catch(() => undefined)
  }
}
