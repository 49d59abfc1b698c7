// One `serial` medium: a tty configured as 3.0.6's serial.c configures it, read and written through
// a non-blocking fd on the event loop (node:tty's stream, never a sync read), frames taken apart by
// the pure reader. Node has no termios API, so the line settings are made by `stty` before the open.

import { open as openCb, stat, constants } from 'node:fs'
import { ReadStream } from 'node:tty'
import { promisify } from 'node:util'
import { execa } from 'execa'
import { SerialFrameReader } from '../wire/serial-frame.js'
import { DEFAULT_LOCK_DIR, lockTty } from './tty-lock.js'

const openFd = promisify(openCb)
const statPath = promisify(stat)

export interface SerialSpec {
  kind: 'serial'
  device: string
  baud: number
}

export interface SerialEvents {
  /** A whole `>>>`…`<<<` frame, as it came off the line. */
  onFrame(link: string, bytes: Buffer): void
  /** A frame the reader threw away (too long, cut short): garbage from the line is counted, not thrown. */
  onBadFrame(link: string, reason: string): void
  onError(link: string, err: Error): void
}

export interface SerialPort {
  /** The link name: the device as ha.cf names it (3.0.6 names the link after the medium). */
  readonly link: string
  readonly description: string
  send(frame: Buffer): void
  close(): Promise<void>
}

export interface SerialOptions {
  lockDir?: string
  /** Wait before opening the line again after it failed (a pty whose other end went away). */
  reopenMs?: number
}

const STTY_TIMEOUT_MS = 5000
const REOPEN_MS = 1000
/** Queued output past this is a line that does not drain (no cable, CTS low): new frames are dropped. */
const MAX_BACKLOG_BYTES = 16 * 1024
/** 3.0.6 RTS_WARNTIME: the "TTY write timeout" warning at most once an hour. */
const WRITE_WARN_EVERY_MS = 3600 * 1000

/**
 * serial.c ttysetup: raw 8N1 at the configured speed, receiver on, modem lines ignored (CLOCAL),
 * RTS/CTS flow control, no XON/XOFF; parity checked, the 8th bit stripped, CR dropped, a break
 * flushes; no output processing, no echo, no signals; reads return from one byte (min 1 time 1).
 */
export function sttyArgs(device: string, baud: number): string[] {
  return [
    '-F', device, 'raw', '-echo', String(baud),
    'cs8', '-parenb', 'cread', 'clocal', 'crtscts',
    '-ignbrk', 'brkint', '-iuclc', '-ixany', '-ixoff', '-ixon', '-icrnl', '-parmrk', 'inpck', 'istrip', 'igncr',
    '-opost', '-icanon', '-isig', 'min', '1', 'time', '1',
  ]
}

async function configure(device: string, baud: number): Promise<void> {
  const r = await execa('stty', sttyArgs(device, baud), { reject: false, timeout: STTY_TIMEOUT_MS, stdin: 'ignore' })
  if (r.exitCode !== 0) throw new Error(`cannot set tty attributes on ${device}: ${String(r.stderr).trim() || `stty exit ${r.exitCode}`}`)
}

/** Lock, configure and open the line; rejects (lock released) when any step fails. */
export async function openSerialPort(spec: SerialSpec, events: SerialEvents, opts: SerialOptions = {}): Promise<SerialPort> {
  const link = spec.device
  const reopenMs = opts.reopenMs ?? REOPEN_MS
  let st
  try {
    st = await statPath(spec.device)
  } catch {
    throw new Error(`Nonexistent serial port [${spec.device}]`)
  }
  if (!st.isCharacterDevice()) throw new Error(`Serial port [${spec.device}] not a char device`)
  const release = await lockTty(spec.device, opts.lockDir ?? DEFAULT_LOCK_DIR)

  let stream: ReadStream | undefined
  let closed = false
  let reopenTimer: NodeJS.Timeout | undefined
  let writeWarnedAt = -Infinity
  let reader = new SerialFrameReader()

  const attach = async (): Promise<void> => {
    await configure(spec.device, spec.baud)
    // O_NONBLOCK: a modem-controlled line must not hold the open until carrier
    const fd = await openFd(spec.device, constants.O_RDWR | constants.O_NOCTTY | constants.O_NONBLOCK)
    if (closed) {
      new ReadStream(fd).destroy()
      return
    }
    const s = new ReadStream(fd)
    reader = new SerialFrameReader()
    s.on('data', (chunk: Buffer) => {
      for (const e of reader.push(chunk)) {
        if (e.kind === 'frame') events.onFrame(link, e.bytes)
        else events.onBadFrame(link, e.reason)
      }
    })
    const lost = (err?: Error): void => {
      if (stream !== s) return
      stream = undefined
      s.destroy()
      if (closed) return
      events.onError(link, new Error(`line lost (${err?.message ?? 'end of file'}); opening it again`))
      scheduleReopen()
    }
    s.on('error', (err) => lost(err))
    s.on('end', () => lost())
    stream = s
  }

  const scheduleReopen = (): void => {
    if (closed || reopenTimer !== undefined) return
    reopenTimer = setTimeout(() => {
      reopenTimer = undefined
      attach().catch((err: unknown) => {
        events.onError(link, err as Error)
        scheduleReopen()
      })
    }, reopenMs)
  }

  try {
    await attach()
  } catch (err) {
    await release()
    throw err
  }

  return {
    link,
    description: `serial ${spec.device} (${spec.baud} baud)`,
    send(frame) {
      const s = stream
      if (closed || s === undefined) return
      if (s.writableLength > MAX_BACKLOG_BYTES) {
        const now = Date.now()
        if (now - writeWarnedAt >= WRITE_WARN_EVERY_MS) {
          writeWarnedAt = now
          events.onError(link, new Error(`TTY write timeout on [${spec.device}] (no connection or bad cable?): ${s.writableLength} bytes not yet sent; new messages dropped`))
        }
        return
      }
      s.write(frame)
    },
    async close() {
      if (closed) return
      closed = true
      if (reopenTimer !== undefined) clearTimeout(reopenTimer)
      const s = stream
      stream = undefined
      s?.destroy()
      await release()
    },
  }
}
