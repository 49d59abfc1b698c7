// One life's packets. What the core transmits is signed (once per message and key set: status
// copies and retransmissions resend the same stamped message) and sent on every medium; what
// arrives is our own echo (known bytes: no parse, no HMAC), or decoded and verified, or counted as
// bad and complained about at a limited rate. Send errors are counted and logged at a limited rate.

import { ComplaintLimiter, type ComplaintKind } from '../cluster/complaint-limiter.js'
import type { Datagram, Media } from '../io/udp-media.js'
import type { LogLevel } from '../io/logger.js'
import type { Watchdog } from '../io/watchdog.js'
import type { AuthKeys } from '../wire/auth-keys.js'
import { getString, type HaMessage } from '../wire/message.js'
import { decodePacket, encodeClassicPacket, encodePacket } from '../wire/packet.js'
import { OwnEcho } from './own-echo.js'
import type { SourceAdmission } from '../wire/admission.js'

/** Socket errors (a pulled cable) are logged at most once in this long, with the count so far. */
const SEND_ERROR_LOG_EVERY_MS = 10_000

export interface LifeWireOptions {
  media: Media
  keys: AuthKeys
  /** ha.cf msgfmt classic: the auth field inside the message too. */
  classic: boolean
  /** ha.cf log_badpack: complain about bad packets (counted either way). */
  logBadpack: boolean
  /** Fed with each of our own heartbeats (3.0.6 does): a stalled daemon stops feeding it. */
  watchdog: Watchdog | undefined
  nowMs: () => number
  /**
   * A message written on the serial lines is not written there again for this long (keepalive): the
   * status copies that ride out UDP loss would only crowd a line that loses nothing (3 copies of
   * each status fill a 9600-baud line); a retransmission asked for later still goes.
   */
  serialRepeatMs?: number
  say: (level: LogLevel, text: string) => void
  /** Which senders' datagrams get a signature check (kept by the daemon across lives). */
  admission: SourceAdmission
  /**
   * A message for the core: decoded and verified, or our own echoed back. True when the membership
   * kept a peer's message as news, which makes its sender address known to the admission.
   */
  received: (msg: HaMessage, link: string) => boolean
}

interface Encoded {
  keys: AuthKeys
  bytes: Buffer
  /** The classic text for serial lines; null when the message has none. */
  classic?: Buffer | null
  /** When it last went out on the serial lines. */
  serialAtMs?: number
}

export class LifeWire {
  /** Bad datagrams by reason (architecture: garbage from the network is a value, counted). */
  readonly badPackets = new Map<string, number>()
  sendErrors = 0
  private readonly o: LifeWireOptions
  private keys: AuthKeys
  private readonly encoded = new WeakMap<HaMessage, Encoded>()
  private readonly ownEcho = new OwnEcho()
  private readonly complaints = new ComplaintLimiter()
  private sendErrorLoggedAt = -Infinity

  constructor(o: LifeWireOptions) {
    this.o = o
    this.keys = o.keys
  }

  /** New authkeys: what we signed with the old ones is signed again, and echoes verified like anyone's. */
  setKeys(keys: AuthKeys): void {
    this.keys = keys
    this.ownEcho.clear()
  }

  transmit(msg: HaMessage): void {
    const cached = this.encoded.get(msg)
    let entry: Encoded
    if (cached !== undefined && cached.keys === this.keys) {
      entry = cached
    } else {
      try {
        entry = { keys: this.keys, bytes: encodePacket(msg, this.keys, { innerAuth: this.o.classic }) }
      } catch (err) {
        this.o.say('error', `cannot encode message t=${getString(msg, 't') ?? '?'}: ${(err as Error).message}`)
        return
      }
      this.encoded.set(msg, entry)
    }
    const bytes = entry.bytes
    this.ownEcho.remember(bytes, msg)
    // serial lines carry classic text signed in its auth field, as 3.0.6's serial plugin writes
    // every message (null: this message has no classic form, it goes out on the UDP media only)
    const classic = (): Buffer | undefined => {
      const now = this.o.nowMs()
      if (entry.serialAtMs !== undefined && now - entry.serialAtMs < (this.o.serialRepeatMs ?? 0)) return undefined
      entry.serialAtMs = now
      if (entry.classic === undefined) {
        try {
          entry.classic = encodeClassicPacket(msg, entry.keys, { trailingNul: false })
        } catch (err) {
          entry.classic = null
          this.o.say('warn', `message t=${getString(msg, 't') ?? '?'} not sent on serial lines: ${(err as Error).message}`)
        }
      }
      return entry.classic ?? undefined
    }
    this.o.media.send(bytes, classic)
    if (this.o.watchdog !== undefined && getString(msg, 't') === 'status') this.o.watchdog.feed()
  }

  receive(d: Datagram): void {
    const echoed = this.ownEcho.match(d.data)
    if (echoed !== undefined) {
      // the core sees it as any copy of our own message (a duplicate that proves the link)
      this.o.received(echoed, d.link)
      return
    }
    const now = this.o.nowMs()
    if (!this.o.admission.admit(d.link, d.from, d.data.length, now)) {
      this.count('unchecked')
      // Logged whatever log_badpack says: the admin must learn that a flood is being shed.
      this.complain('unchecked datagram', `datagram from ${d.from} dropped unchecked: that address never sent a fresh signed message and the checks left for such senders are used up (a flood?)`, now)
      return
    }
    // 3.0.6's read child appends a NUL; the codec tolerates both.
    const r = decodePacket(d.data, this.keys)
    if (r.ok) {
      if (this.o.received(r.msg, d.link)) this.o.admission.heardFresh(d.from, now)
      return
    }
    this.count(r.code)
    if (!this.o.logBadpack) return
    this.complain('bad packet', `bad packet on ${d.link} from ${d.from}: ${r.reason}`, now)
  }

  private count(code: string): void {
    this.badPackets.set(code, (this.badPackets.get(code) ?? 0) + 1)
  }

  private complain(kind: ComplaintKind, text: string, now: number): void {
    const full = `${text} (${[...this.badPackets].map(([k, v]) => `${k} ${v}`).join(', ')} so far)`
    for (const l of this.complaints.complain(kind, 'error', full, now)) this.o.say(l.level, l.text)
  }

  /** A frame a serial reader threw away: counted and complained about like a bad packet. */
  badFrame(link: string, reason: string): void {
    this.count('bad-frame')
    if (!this.o.logBadpack) return
    this.complain('bad packet', `bad frame on ${link}: ${reason}`, this.o.nowMs())
  }

  sendError(link: string, err: Error): void {
    this.sendErrors++
    const now = this.o.nowMs()
    if (now - this.sendErrorLoggedAt <= SEND_ERROR_LOG_EVERY_MS) return
    this.sendErrorLoggedAt = now
    this.o.say('error', `${link}: ${err.message} (${this.sendErrors} errors so far)`)
  }

  badPacketTotal(): number {
    return [...this.badPackets.values()].reduce((x, y) => x + y, 0)
  }
}
