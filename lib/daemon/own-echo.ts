// Our own datagrams coming back (bcast and mcast loop deliver every packet we send to our own
// receive socket): recognised by their bytes so they skip parsing and signature checks.

import type { HaMessage } from '../wire/message.js'

/** Enough for a status, its copies and the acks or requests sent around it. */
const REMEMBERED = 8

export class OwnEcho {
  private readonly sent: Array<{ bytes: Buffer; msg: HaMessage }> = []

  /** After each send: `bytes` is what went on the wire for the stamped `msg`. */
  remember(bytes: Buffer, msg: HaMessage): void {
    // a status copy is the very same buffer again
    if (this.sent.some((e) => e.bytes === bytes)) return
    this.sent.push({ bytes, msg })
    if (this.sent.length > REMEMBERED) this.sent.shift()
  }

  /**
   * The stamped message we sent whose bytes `data` repeats exactly (a trailing NUL allowed, as
   * 3.0.6's read side adds one), or undefined for anything else, which is decoded as usual.
   */
  match(data: Uint8Array): HaMessage | undefined {
    for (let i = this.sent.length - 1; i >= 0; i--) {
      const e = this.sent[i]
      if (e === undefined) continue
      const n = e.bytes.length
      if (data.length !== n && !(data.length === n + 1 && data[n] === 0)) continue
      if (Buffer.compare(e.bytes, data.subarray(0, n)) === 0) return e.msg
    }
    return undefined
  }

  /** New keys: what we signed with the old ones must be verified again like anyone's. */
  clear(): void {
    this.sent.length = 0
  }
}
