// The framing of 3.0.6's serial medium (HBcomm serial.c): each message crosses the tty as classic
// text, `>>>` line, name=value lines, `<<<` line. The reader skips lines until one starts with `>>>`
// and collects lines until one starts with `<<<`; a frame that grows past the bound is dropped and
// the reader hunts for the next `>>>` again. Bytes arrive in arbitrary pieces; memory stays bounded
// whatever arrives (a line being skipped keeps only its first bytes).

/**
 * The longest frame taken, start and end lines included: the largest message heartbeat-ts takes
 * on any medium (one UDP datagram). 3.0.6 drops a frame past its own MAXMSG the same way.
 */
export const MAX_SERIAL_FRAME_BYTES = 65507

const LF = 0x0a
const START = Buffer.from('>>>', 'latin1')
const END = Buffer.from('<<<', 'latin1')

export type SerialFrameEvent = { kind: 'frame'; bytes: Buffer } | { kind: 'dropped'; reason: string }

function startsWith(line: Buffer, marker: Buffer): boolean {
  return line.length >= marker.length && line.subarray(0, marker.length).equals(marker)
}

/** One tty's reader state: feed it what read() returned, take whole frames out. */
export class SerialFrameReader {
  private readonly maxBytes: number
  /** Lines of the frame being collected, `>>>` line first; undefined while hunting for a start. */
  private frame: Buffer[] | undefined
  private frameBytes = 0
  /** The current, unfinished line (while hunting: only its first bytes, enough to spot `>>>`). */
  private partial: Buffer[] = []
  private partialBytes = 0
  /** The frame under way was dropped for length: skip its lines until the next start. */
  private skipping = false

  constructor(maxBytes = MAX_SERIAL_FRAME_BYTES) {
    this.maxBytes = maxBytes
  }

  /** Bytes held for the frame and line under way: never more than the bound (plus a start marker). */
  get bufferedBytes(): number {
    return this.frameBytes + this.partialBytes
  }

  push(chunk: Uint8Array): SerialFrameEvent[] {
    const out: SerialFrameEvent[] = []
    const buf = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength)
    let at = 0
    while (at < buf.length) {
      const nl = buf.indexOf(LF, at)
      const end = nl < 0 ? buf.length : nl
      this.take(buf.subarray(at, end), out)
      if (nl < 0) break
      this.endLine(out)
      at = nl + 1
    }
    return out
  }

  /** Part of a line: kept whole inside a frame (up to the bound), else only its first bytes. */
  private take(piece: Buffer, out: SerialFrameEvent[]): void {
    if (piece.length === 0) return
    if (this.frame === undefined) {
      const room = START.length - this.partialBytes
      if (room > 0) {
        const kept = Buffer.from(piece.subarray(0, room))
        this.partial.push(kept)
        this.partialBytes += kept.length
      }
      return
    }
    // +1: the line's newline
    if (this.frameBytes + this.partialBytes + piece.length + 1 > this.maxBytes) {
      this.drop(`frame longer than ${this.maxBytes} bytes`, out)
      this.skipping = true
      return
    }
    this.partial.push(Buffer.from(piece))
    this.partialBytes += piece.length
  }

  private endLine(out: SerialFrameEvent[]): void {
    const line = Buffer.concat(this.partial, this.partialBytes)
    this.partial = []
    this.partialBytes = 0
    if (this.frame === undefined) {
      if (this.skipping && !startsWith(line, START)) return
      this.skipping = false
      if (startsWith(line, START)) {
        this.frame = [line]
        this.frameBytes = line.length + 1
      }
      return
    }
    if (startsWith(line, START)) {
      // A frame cut short (the peer restarted mid-write): drop it, this line starts the next one.
      this.drop('frame cut short by a new ">>>" line', out)
      this.frame = [line]
      this.frameBytes = line.length + 1
      return
    }
    this.frame.push(line)
    this.frameBytes += line.length + 1
    if (startsWith(line, END)) {
      const bytes = Buffer.alloc(this.frameBytes)
      let o = 0
      for (const l of this.frame) {
        o += l.copy(bytes, o)
        bytes[o++] = LF
      }
      this.frame = undefined
      this.frameBytes = 0
      out.push({ kind: 'frame', bytes })
    }
  }

  private drop(reason: string, out: SerialFrameEvent[]): void {
    out.push({ kind: 'dropped', reason })
    this.frame = undefined
    this.frameBytes = 0
    this.partial = []
    this.partialBytes = 0
  }
}
