// ha.cf `watchdog DEVICE` as 3.0.6 keeps it: opened at start, one byte written with each of our
// heartbeats, the magic close ('V') on a clean stop so the driver disarms; any other end leaves it armed.

import { constants, writeSync } from 'node:fs'
import { open, type FileHandle } from 'node:fs/promises'

const FEED = Buffer.from([0])
const MAGIC_CLOSE = Buffer.from('V')

export interface Watchdog {
  readonly path: string
  /** Bytes written so far (feeds only). */
  readonly fed: number
  /** Where a failed write is reported (once, until a write succeeds again); the daemon points it at each life's log. */
  onError: (err: Error) => void
  /** Feed it: called when our status goes out, so a stalled daemon stops feeding it. */
  feed(): void
  /** `clean`: write the magic close first (a normal stop); else close and let the timer run out. */
  close(clean: boolean): Promise<void>
}

/**
 * Open the device. It must be a character device (a FIFO stands in for one in tests): a regular
 * file or a link is refused, so a typo in ha.cf cannot make root grow or replace a file. Writes are
 * one byte on a non-blocking descriptor, done at once: they never wait and never queue.
 */
export async function openWatchdog(path: string): Promise<Watchdog> {
  let handle: FileHandle
  try {
    handle = await open(path, constants.O_WRONLY | constants.O_NONBLOCK | constants.O_NOFOLLOW)
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? String(err)
    throw new Error(`cannot open watchdog device ${path}: ${code === 'ELOOP' ? 'it is a symbolic link' : code}`)
  }
  const st = await handle.stat()
  if (!st.isCharacterDevice() && !st.isFIFO()) {
    await handle.close()
    throw new Error(`watchdog device ${path} is not a device (a ${st.isFile() ? 'regular file' : 'directory or socket'})`)
  }
  let fed = 0
  let closed = false
  let failing = false
  const write = (bytes: Buffer): void => {
    try {
      writeSync(handle.fd, bytes)
      failing = false
    } catch (err) {
      // EAGAIN (a full stand-in FIFO) and device errors: said once, the next heartbeat tries again
      if (!failing) dog.onError(err as Error)
      failing = true
    }
  }
  const dog: Watchdog = {
    path,
    onError: () => undefined,
    get fed() {
      return fed
    },
    feed() {
      if (closed) return
      write(FEED)
      fed++
    },
    async close(clean) {
      if (closed) return
      closed = true
      if (clean) write(MAGIC_CLOSE)
      await handle.close()
    },
  }
  return dog
}
