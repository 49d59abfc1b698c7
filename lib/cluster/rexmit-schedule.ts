// Pending NS_rexmit requests we owe to peers (heartbeat's rexmit hash table of glib timers), one per (node, seq).

export interface DueRequest {
  node: string
  seq: number
}

/** schedule_rexmit_request's first delay: uniform in [50, max] ms, or [0, max] when max < 100. */
export function firstRexmitDelayMs(maxRexmitDelayMs: number, random: () => number): number {
  const lo = maxRexmitDelayMs < 100 ? 0 : 50
  return lo + Math.round(random() * (maxRexmitDelayMs - lo))
}

export class RexmitSchedule {
  private readonly due = new Map<string, { node: string; seq: number; dueMs: number }>()

  private static key(node: string, seq: number): string {
    return `${node}\u0000${seq}`
  }

  schedule(node: string, seq: number, dueMs: number): void {
    this.due.set(RexmitSchedule.key(node, seq), { node, seq, dueMs })
  }

  cancel(node: string, seq: number): void {
    this.due.delete(RexmitSchedule.key(node, seq))
  }

  cancelNode(node: string): void {
    for (const [k, v] of this.due) if (v.node === node) this.due.delete(k)
  }

  /** Remove and return every request due at `now`, oldest first. */
  takeDue(now: number): DueRequest[] {
    const out: Array<{ node: string; seq: number; dueMs: number }> = []
    for (const [k, v] of this.due) {
      if (v.dueMs <= now) {
        out.push(v)
        this.due.delete(k)
      }
    }
    out.sort((a, b) => a.dueMs - b.dueMs || a.seq - b.seq)
    return out.map(({ node, seq }) => ({ node, seq }))
  }

  nextDueMs(): number | undefined {
    let min: number | undefined
    for (const v of this.due.values()) if (min === undefined || v.dueMs < min) min = v.dueMs
    return min
  }

  pendingFor(node: string): number[] {
    return [...this.due.values()].filter((v) => v.node === node).map((v) => v.seq).sort((a, b) => a - b)
  }
}

/**
 * At most `limit` uses per peer in each window of `windowMs` (fixed windows from a peer's first use):
 * what we send to one peer on its behalf (rexmit requests to it, resends and NAKs for it) stays bounded
 * whatever it sends, or what is replayed in its name.
 */
export class PerPeerBudget {
  private readonly windows = new Map<string, { startMs: number; used: number }>()
  private readonly limit: number
  private readonly windowMs: number

  constructor(limit: number, windowMs: number) {
    this.limit = limit
    this.windowMs = windowMs
  }

  private window(node: string, now: number): { startMs: number; used: number } {
    let w = this.windows.get(node)
    if (w === undefined || now >= w.startMs + this.windowMs) {
      w = { startMs: now, used: 0 }
      this.windows.set(node, w)
    }
    return w
  }

  remaining(node: string, now: number): number {
    const w = this.window(node, now)
    return this.limit - w.used
  }

  use(node: string, n: number, now: number): void {
    this.window(node, now).used += n
  }

  /** When this peer's budget is whole again. */
  refillMs(node: string, now: number): number {
    return this.window(node, now).startMs + this.windowMs
  }

  forget(node: string): void {
    this.windows.delete(node)
  }
}
