// Writing one classic message into the daemon's FIFO, as shellfuncs ha_clustermsg does.

import { open, constants } from 'node:fs/promises'
import { encodeFifoMessage } from '../control/fifo-text.js'

/**
 * Write `>>>` + name=value lines + `<<<` in one write. O_NONBLOCK makes a FIFO without a
 * reader fail at once with ENXIO (no daemon) instead of hanging like the shell's `>>`.
 */
export async function writeFifoMessage(fifo: string, pairs: ReadonlyArray<readonly [string, string]>): Promise<void> {
  const fh = await open(fifo, constants.O_WRONLY | constants.O_APPEND | constants.O_NONBLOCK)
  try {
    await fh.write(encodeFifoMessage(pairs))
  } finally {
    await fh.close()
  }
}
