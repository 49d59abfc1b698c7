// Which datagrams are worth a signature check. A sender address that has delivered a signed message
// the membership kept as news (not a replay, a duplicate or an older generation) is known: everything from it is
// checked, as 3.0.6 checks everything. Datagrams from any other address share one small budget of
// checks per second on their link (a flood on the public LAN leaves a crossover link's budget alone);
// past it they are dropped unread. A keyless flood (forged bytes, or replays of
// captured packets, which verify but are never fresh) then costs a map lookup per datagram instead
// of an HMAC and a parse, so it cannot starve the loop and make the kernel drop the peer's heartbeats.
// A spoofed known address gets what every datagram got before: a full check.

/** Budget units: one per datagram plus one per KiB, so 64 KB forgeries use it up 65 times faster. */
export function checkCost(bytes: number): number {
  return 1 + (bytes >> 10)
}

export interface AdmissionOptions {
  /** Units of unknown senders' checks granted per second on each link (and the burst). */
  unknownUnitsPerSec: number
  /** A known address is forgotten after this long without a fresh message from it. */
  knownForMs: number
  /** At most this many known addresses: the least recently refreshed is forgotten. */
  maxKnown: number
}

/** Enough for every peer's first messages at 20 ms heartbeats; small next to a flood. */
export const DEFAULT_ADMISSION: AdmissionOptions = { unknownUnitsPerSec: 2000, knownForMs: 120_000, maxKnown: 64 }

export class SourceAdmission {
  private readonly o: AdmissionOptions
  /** address → last time a fresh message came from it (insertion order = least recently refreshed first). */
  private readonly known = new Map<string, number>()
  /** link → its budget; links come from ha.cf, so the map stays small. */
  private readonly budgets = new Map<string, { units: number; refilledAt: number }>()

  constructor(o: AdmissionOptions = DEFAULT_ADMISSION) {
    this.o = o
  }

  /** Should a datagram of `bytes` from `from`, arrived on `link`, be decoded and checked? */
  admit(link: string, from: string, bytes: number, nowMs: number): boolean {
    const seen = this.known.get(from)
    if (seen !== undefined) {
      if (nowMs - seen <= this.o.knownForMs) return true
      this.known.delete(from)
    }
    const budget = this.refilled(link, nowMs)
    const cost = checkCost(bytes)
    if (budget.units >= cost) {
      budget.units -= cost
      return true
    }
    return false
  }

  /**
   * A message from `from` verified and the membership kept it as news (not a replay, not a duplicate,
   * not from an older generation): the address is known from now on.
   */
  heardFresh(from: string, nowMs: number): void {
    this.known.delete(from)
    if (this.known.size >= this.o.maxKnown) {
      const oldest = this.known.keys().next().value
      if (oldest !== undefined) this.known.delete(oldest)
    }
    this.known.set(from, nowMs)
  }

  private refilled(link: string, nowMs: number): { units: number; refilledAt: number } {
    let b = this.budgets.get(link)
    if (b === undefined) {
      b = { units: this.o.unknownUnitsPerSec, refilledAt: nowMs }
      this.budgets.set(link, b)
      return b
    }
    const elapsed = nowMs - b.refilledAt
    if (elapsed > 0) {
      b.refilledAt = nowMs
      b.units = Math.min(this.o.unknownUnitsPerSec, b.units + (elapsed * this.o.unknownUnitsPerSec) / 1000)
    }
    return b
  }
}
