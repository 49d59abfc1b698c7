// The daemon's FIFO (/var/lib/heartbeat/fifo): created 0600 with mkfifo, held open read-write, messages handed to the daemon.

import { open, constants } from 'node:fs'
import { chmod, lstat, mkdir } from 'node:fs/promises'
import { checkDir, effectiveUid } from './safe-files.js'
import { dirname } from 'node:path'
import { Socket } from 'node:net'
import { execa } from 'execa'
import { describeMissing, isNotInstalled } from '../agents/system-tools.js'
import { FifoFramer } from '../control/fifo-text.js'
import type { HaMessage } from '../wire/message.js'

export interface FifoHandler {
  /** A complete message as a local script wrote it (hb_standby: t=ask_resources rsc_hold=all info=me). */
  onMessage(msg: HaMessage): void
  /** Text that was not a message; worth a log line, never fatal. */
  onProblem(reason: string): void
}

export interface FifoReader {
  path: string
  close(): Promise<void>
}

/** Make `path` a FIFO with mode 0600 (Node has no mkfifo: coreutils `mkfifo -m 600`). A non-FIFO there is an error. */
export async function ensureFifo(path: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true })
  // Only root may have put a FIFO there: another account's FIFO would let it read what scripts send us.
  await checkDir(dirname(path))
  const st = await lstat(path).catch(() => undefined)
  if (st === undefined) {
    const r = await execa('mkfifo', ['-m', '600', path], { reject: false, timeout: 10_000 })
    if (isNotInstalled(r)) throw new Error(describeMissing('mkfifo'))
    if (r.exitCode !== 0) throw new Error(`mkfifo -m 600 ${path} failed (exit ${r.exitCode}): ${String(r.stderr).trim()}`)
    return
  }
  if (!st.isFIFO()) throw new Error(`${path} exists and is not a FIFO; move it away so heartbeat can create its FIFO`)
  if (st.uid !== effectiveUid()) throw new Error(`${path} is owned by uid ${st.uid}, not root; remove it so heartbeat can create its FIFO`)
  if ((st.mode & 0o777) !== 0o600) await chmod(path, 0o600)
}

/**
 * Create if needed and open the FIFO read-write and non-blocking: opening does not wait for
 * a writer, and since we are a writer too, a script closing its end never gives us EOF.
 */
export async function openFifoReader(path: string, handler: FifoHandler): Promise<FifoReader> {
  await ensureFifo(path)
  const fd = await new Promise<number>((resolve, reject) =>
    open(path, constants.O_RDWR | constants.O_NONBLOCK | constants.O_NOFOLLOW, (err, fd) => (err ? reject(err) : resolve(fd))),
  )
  const framer = new FifoFramer()
  const sock = new Socket({ fd, readable: true, writable: false })
  sock.on('data', (chunk: Buffer) => {
    for (const ev of framer.push(chunk)) {
      if (ev.kind === 'message') handler.onMessage(ev.msg)
      else handler.onProblem(ev.reason)
    }
  })
  sock.on('error', (err) => handler.onProblem(`reading ${path}: ${err.message}`))
  return {
    path,
    close: () =>
      new Promise<void>((resolve) => {
        if (sock.closed) return resolve()
        sock.once('close', () => resolve())
        sock.destroy()
      }),
  }
}
