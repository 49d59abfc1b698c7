// File operations that cannot loop and awaits that cannot hang a stop path (issue 11: a leftover hb-mon spun for 40 minutes).

import { mkdir, open, rename, stat, unlink } from 'node:fs/promises'
import { dirname, isAbsolute, sep } from 'node:path'

/**
 * mkdir -p without Node's recursive mkdir: that one retries forever when a component cannot be made
 * (ENOENT on the child, EEXIST on the parent — a relative path under a deleted working directory).
 * One mkdir per component, no retry: the path must be absolute; a component that exists must be a directory.
 */
export async function makeDirs(path: string, mode = 0o755): Promise<void> {
  if (!isAbsolute(path)) throw new Error(`${path}: not an absolute path`)
  const parts = path.split(sep).filter((p) => p !== '')
  let at = ''
  for (const part of parts) {
    at = `${at}${sep}${part}`
    try {
      await mkdir(at, { mode })
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
      if (!(await stat(at)).isDirectory()) throw new Error(`${at}: exists and is not a directory`)
    }
  }
}

/**
 * Replace `path` so a crash leaves the old or the new content: a fresh temp file (O_EXCL: never
 * through a link left there), fsync, rename, fsync of the directory. The directory must exist:
 * nothing is created, a vanished one is an error for the caller to act on.
 */
export async function writeFileAtomic(path: string, data: string, mode = 0o644): Promise<void> {
  const tmp = `${path}.${process.pid}.tmp`
  let fh
  try {
    fh = await open(tmp, 'wx', mode)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
    // Our own leftover from a write cut short: remove it and try once more, no further.
    await unlink(tmp)
    fh = await open(tmp, 'wx', mode)
  }
  try {
    await fh.writeFile(data)
    await fh.sync()
  } finally {
    await fh.close()
  }
  try {
    await rename(tmp, path)
  } catch (err) {
    await unlink(tmp).catch(() => undefined)
    throw err
  }
  const dir = await open(dirname(path), 'r')
  try {
    await dir.sync()
  } finally {
    await dir.close()
  }
}

/** `p`, or `fallback` once `ms` have passed: a stop path never waits on something that may not end. */
export async function withTimeout<T>(p: Promise<T>, ms: number, fallback: T): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const late = new Promise<T>((resolve) => {
    timer = setTimeout(() => resolve(fallback), ms)
    timer.unref()
  })
  try {
    return await Promise.race([p.catch(() => fallback), late])
  } finally {
    clearTimeout(timer)
  }
}
