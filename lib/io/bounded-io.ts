// File operations that cannot loop and awaits that cannot hang a stop path (issue 11: a leftover hb-mon spun for 40 minutes).

import { mkdir, stat } from 'node:fs/promises'
import { isAbsolute, sep } from 'node:path'

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
