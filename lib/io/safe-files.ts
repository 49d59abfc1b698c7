// Files root writes: only in directories nobody else can change, never through a link it did not make,
// never half-written. Every daemon file under runDir/stateDir/the pidfile goes through here.
//
// Why: Debian's heartbeat package makes /run/heartbeat 0750 hacluster:haclient. A name in a directory
// another account can write may be a symlink to /etc/shadow or a socket that account listens on.

import { constants } from 'node:fs'
import type { Stats } from 'node:fs'
import { chmod, lstat, mkdir, open, realpath, rename, unlink } from 'node:fs/promises'
import type { FileHandle } from 'node:fs/promises'
import { randomBytes } from 'node:crypto'
import { basename, dirname, join, parse, resolve } from 'node:path'

const { O_RDWR, O_RDONLY, O_CREAT, O_EXCL, O_NOFOLLOW, O_DIRECTORY, O_NONBLOCK } = constants

/** A directory or file someone other than us (or root) could have changed: we refuse to use it. */
export class UnsafePathError extends Error {
  readonly code = 'EUNSAFE'
  override name = 'UnsafePathError'
}

export function effectiveUid(): number {
  return process.geteuid?.() ?? 0
}

/** Owners we trust: root, and ourselves when not root (tests, a non-root hbctl). */
function trustedOwner(uid: number): boolean {
  return uid === 0 || uid === effectiveUid()
}

function describeMode(st: Stats): string {
  return `mode ${(st.mode & 0o7777).toString(8).padStart(4, '0')}, uid ${st.uid}`
}

/** Why an existing directory lets others change its entries (sticky dirs like /tmp are fine), or undefined. */
function whyDirUnsafe(path: string, st: Stats): string | undefined {
  if (!st.isDirectory()) return `${path} is not a directory`
  if (!trustedOwner(st.uid)) return `${path} is owned by uid ${st.uid}, not root (${describeMode(st)})`
  const othersWrite = (st.mode & 0o022) !== 0
  const sticky = (st.mode & 0o1000) !== 0
  if (othersWrite && !sticky) return `${path} is writable by group or others (${describeMode(st)})`
  return undefined
}

/** Every directory from / down to `real` (a realpath). */
function chain(real: string): string[] {
  const out: string[] = []
  let p = real
  const root = parse(real).root
  for (;;) {
    out.unshift(p)
    if (p === root) return out
    p = dirname(p)
  }
}

/**
 * Refuse (throw UnsafePathError) unless `dir` and every directory above it are owned by root (or us)
 * and writable by no one else (sticky /tmp allowed), and `dir` itself is not a symlink.
 * private: `dir` must also be owned by us and closed to group and others (0700); it is chmod'ed to
 * 0700 when we own it and it is merely readable by others.
 */
export async function checkDir(dir: string, opts: { private?: boolean } = {}): Promise<void> {
  const abs = resolve(dir)
  let own = await lstat(abs)
  if (own.isSymbolicLink()) {
    // Our own directory is never a link. A system link such as /var/run -> /run is fine when root
    // made it in a directory only root can change; then the directory it leads to is checked.
    if (opts.private === true) throw new UnsafePathError(`${abs} is a symbolic link; heartbeat needs a real directory there`)
    if (!trustedOwner(own.uid)) throw new UnsafePathError(`${abs} is a symbolic link owned by uid ${own.uid}, not root`)
    await checkDir(dirname(abs))
  }
  const real = await realpath(abs)
  if (real !== abs) own = await lstat(real)
  for (const p of chain(real)) {
    const why = whyDirUnsafe(p, p === real ? own : await lstat(p))
    if (why !== undefined) throw new UnsafePathError(why)
  }
  if (opts.private === true) {
    if (own.uid !== effectiveUid()) throw new UnsafePathError(`${abs} is owned by uid ${own.uid}, not by us (uid ${effectiveUid()})`)
    if ((own.mode & 0o077) !== 0) await chmod(abs, 0o700)
  }
}

/** mkdir -p (new directories 0700 when private, else 0755), then checkDir. */
export async function ensureDir(dir: string, opts: { private?: boolean } = {}): Promise<void> {
  await mkdir(dir, { recursive: true, mode: opts.private === true ? 0o700 : 0o755 })
  await checkDir(dir, opts)
}

/** A fresh name next to `path` for writing before a rename. */
function tempNameFor(path: string): string {
  return join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`)
}

/** Open (read-write) a name that must not exist yet: a planted symlink or file there makes this fail with EEXIST. */
export function createExclusive(path: string, mode: number): Promise<FileHandle> {
  return open(path, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW, mode)
}

/**
 * Replace `path` with a new empty file of ours (for daemon.stderr): whatever was there (a file, a
 * planted symlink) is unlinked, never opened; then created exclusively. The directory is checked first.
 */
export async function replaceWithNewFile(path: string, mode: number, opts: { private?: boolean } = {}): Promise<FileHandle> {
  await checkDir(dirname(path), opts)
  await unlink(path).catch((err: NodeJS.ErrnoException) => {
    if (err.code !== 'ENOENT') throw err
  })
  return createExclusive(path, mode)
}

/**
 * Write so a crash leaves the old or the new content, never a torn one, and never through a link:
 * the directory is checked, a fresh temp name is created exclusively without following links,
 * written, fsynced, renamed over `path`, and the directory fsynced.
 */
export async function writeFileAtomic(
  path: string,
  data: string | Buffer,
  opts: { mode?: number; private?: boolean } = {},
): Promise<void> {
  const dir = dirname(path)
  await checkDir(dir, opts.private === true ? { private: true } : {})
  const tmp = tempNameFor(path)
  const fh = await createExclusive(tmp, opts.mode ?? 0o644)
  try {
    try {
      await fh.writeFile(data)
      await fh.sync()
    } finally {
      await fh.close()
    }
    await rename(tmp, path)
  } catch (err) {
    await unlink(tmp).catch(() => undefined)
    throw err
  }
  const d = await open(dir, O_RDONLY | O_DIRECTORY)
  try {
    await d.sync()
  } finally {
    await d.close()
  }
}

export interface NoFollowRead {
  bytes: Buffer
  stat: Stats
}

/**
 * Read a small regular file without following a symlink at its name (ELOOP then), refusing
 * anything larger than maxBytes or not a regular file (a FIFO would block, /dev/zero never ends).
 */
export async function readFileNoFollow(path: string, maxBytes: number): Promise<NoFollowRead> {
  const fh = await open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK)
  try {
    const st = await fh.stat()
    if (!st.isFile()) throw new UnsafePathError(`${path} is not a regular file`)
    if (st.size > maxBytes) throw new UnsafePathError(`${path}: file too large (${st.size} bytes, at most ${maxBytes})`)
    const buf = Buffer.alloc(maxBytes + 1)
    let n = 0
    while (n < buf.length) {
      const r = await fh.read(buf, n, buf.length - n, n)
      if (r.bytesRead === 0) break
      n += r.bytesRead
    }
    if (n > maxBytes) throw new UnsafePathError(`${path}: file too large (more than ${maxBytes} bytes)`)
    return { bytes: buf.subarray(0, n), stat: st }
  } finally {
    await fh.close()
  }
}
