// The FIFO's text framing: `>>>` line, name=value lines, `<<<` line (shellfuncs ha_clustermsg).
// Pure: splits a byte stream into message bodies and encodes messages for writers.

/** heartbeat reads FIFO lines into a fixed buffer: a longer line cannot be a field (§9.5: at most 511 bytes). */
export const FIFO_MAX_LINE_BYTES = 511

export function encodeFifoMessage(pairs: ReadonlyArray<readonly [string, string]>): Buffer {
  const body = pairs.map(([n, v]) => `${n}=${v}\n`).join('')
  return Buffer.from(`>>>\n${body}<<<\n`, 'latin1')
}
