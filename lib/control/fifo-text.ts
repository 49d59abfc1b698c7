// The FIFO's text framing: `>>>` line, name=value lines, `<<<` line (shellfuncs ha_clustermsg, §9.5).
// Pure: cuts a byte stream into messages, parsed with the wire's classic parser; encodes for writers.

import { parseClassicText } from '../wire/classic.js'
import type { HaMessage } from '../wire/message.js'

/** heartbeat reads FIFO lines into a fixed buffer: a longer line cannot be a field (§9.5: at most 511 bytes). */
export const FIFO_MAX_LINE_BYTES = 511

export function encodeFifoMessage(pairs: ReadonlyArray<readonly [string, string]>): Buffer {
  const body = pairs.map(([n, v]) => `${n}=${v}\n`).join('')
  return Buffer.from(`>>>\n${body}<<<\n`, 'latin1')
}

export type FifoEvent =
  | { kind: 'message'; msg: HaMessage }
  /** Something a writer put in the FIFO that is not a message; the daemon logs it and carries on. */
  | { kind: 'problem'; reason: string }

const LF = 0x0a

function show(line: Buffer): string {
  return JSON.stringify(line.subarray(0, 40).toString('latin1')) + (line.length > 40 ? '…' : '')
}

/**
 * Feed it what the FIFO yields, in any chunking; it returns the complete messages so far.
 * Text outside `>>>`…`<<<` is reported and skipped; a message with an over-long line is
 * dropped whole (its end is still awaited, so the next message is read correctly).
 */
export class FifoFramer {
  private pending: Buffer = Buffer.alloc(0)
  private body: Buffer[] | undefined = undefined
  private spoiled: string | undefined = undefined

  push(chunk: Uint8Array): FifoEvent[] {
    const out: FifoEvent[] = []
    let buf = this.pending.length === 0 ? Buffer.from(chunk) : Buffer.concat([this.pending, chunk])
    let nl: number
    while ((nl = buf.indexOf(LF)) >= 0) {
      this.line(buf.subarray(0, nl), out)
      buf = buf.subarray(nl + 1)
    }
    if (buf.length > FIFO_MAX_LINE_BYTES) {
      // An endless line: drop what we have rather than grow without bound.
      this.tooLong(buf, out)
      buf = Buffer.alloc(0)
    }
    this.pending = Buffer.from(buf)
    return out
  }

  private tooLong(line: Buffer, out: FifoEvent[]): void {
    const reason = `line longer than ${FIFO_MAX_LINE_BYTES} bytes: ${show(line)}`
    if (this.body !== undefined) this.spoiled ??= reason
    else out.push({ kind: 'problem', reason })
  }

  private line(line: Buffer, out: FifoEvent[]): void {
    const text = line.toString('latin1')
    if (this.body === undefined) {
      if (text === '>>>') {
        this.body = []
        this.spoiled = undefined
      } else if (text.trim() !== '') {
        out.push({ kind: 'problem', reason: `text outside ">>>" … "<<<" ignored: ${show(line)}` })
      }
      return
    }
    if (text === '<<<') {
      const lines = this.body
      const spoiled = this.spoiled
      this.body = undefined
      this.spoiled = undefined
      if (spoiled !== undefined) {
        out.push({ kind: 'problem', reason: `message dropped: ${spoiled}` })
        return
      }
      const parsed = parseClassicText(Buffer.concat([Buffer.from('>>>\n'), ...lines.flatMap((l) => [l, Buffer.from('\n')]), Buffer.from('<<<\n')]))
      out.push(parsed.ok ? { kind: 'message', msg: parsed.msg } : { kind: 'problem', reason: `message dropped: ${parsed.reason}` })
      return
    }
    if (text === '>>>') {
      // A writer died mid-message and another started: the unfinished one is lost.
      out.push({ kind: 'problem', reason: 'message without "<<<" dropped: a new ">>>" began' })
      this.body = []
      this.spoiled = undefined
      return
    }
    if (line.length > FIFO_MAX_LINE_BYTES) {
      this.tooLong(line, out)
      return
    }
    this.body.push(Buffer.from(line))
  }
}
