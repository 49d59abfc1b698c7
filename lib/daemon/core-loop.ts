// The daemon's one timer: every sans-I/O core says when it next needs `tick(now)`; the loop arms a
// single setTimeout for the earliest of those deadlines, so nothing is detected a polling period late.

import { performance } from 'node:perf_hooks'

/** What the loop needs from a core (membership, resources, …); `tick` also carries out its actions. */
export interface TimedCore {
  name: string
  tick(now: number): void
  nextDeadline(): number | undefined
}

export interface Clock {
  /** Monotonic milliseconds: deadlines. */
  nowMs(): number
  /** Wall-clock seconds: the `ts` field and log stamps only. */
  wallSec(): number
}

export const systemClock: Clock = {
  nowMs: () => performance.now(),
  wallSec: () => Math.floor(Date.now() / 1000),
}

export interface TimerStats {
  /** How many times the timer fired. */
  fired: number
  /** Worst observed lateness of a firing past the deadline it was armed for (ms). */
  worstLateMs: number
}

export class CoreLoop {
  private readonly cores: TimedCore[] = []
  private timer: NodeJS.Timeout | undefined
  private armedFor: number | undefined
  private stopped = false
  private inTick = false
  readonly stats: TimerStats = { fired: 0, worstLateMs: 0 }
  /** Told each firing's lateness past its deadline (HBTS_RUNTIME_STATS). */
  lateness: ((lateMs: number) => void) | undefined
  private readonly clock: Clock

  constructor(clock: Clock) {
    this.clock = clock
  }

  add(core: TimedCore): void {
    this.cores.push(core)
    this.reschedule()
  }

  now(): number {
    return this.clock.nowMs()
  }

  /** Call after anything that may have moved a deadline (a datagram, an agent result, a signal). */
  reschedule(): void {
    if (this.stopped || this.inTick) return
    let next: number | undefined
    for (const c of this.cores) {
      const d = c.nextDeadline()
      if (d !== undefined && (next === undefined || d < next)) next = d
    }
    if (next === this.armedFor && this.timer !== undefined) return
    if (this.timer !== undefined) clearTimeout(this.timer)
    this.timer = undefined
    this.armedFor = next
    if (next === undefined) return
    // setTimeout has 1 ms resolution and may run a fraction early: round up, re-arm if early.
    const delay = Math.max(0, Math.ceil(next - this.clock.nowMs()))
    this.timer = setTimeout(() => this.fire(), delay)
  }

  private fire(): void {
    this.timer = undefined
    const armed = this.armedFor
    this.armedFor = undefined
    const now = this.clock.nowMs()
    this.stats.fired++
    if (armed !== undefined && now - armed > this.stats.worstLateMs) this.stats.worstLateMs = now - armed
    if (armed !== undefined) this.lateness?.(now - armed)
    this.runTicks(now)
  }

  /** Run every core's due work at `now` (also used right after input, so zero-delay work is not deferred). */
  runTicks(now: number): void {
    if (this.stopped) return
    this.inTick = true
    try {
      for (const c of this.cores) {
        const d = c.nextDeadline()
        if (d !== undefined && d <= now) c.tick(now)
      }
    } finally {
      this.inTick = false
    }
    this.reschedule()
  }

  stop(): void {
    this.stopped = true
    if (this.timer !== undefined) clearTimeout(this.timer)
    this.timer = undefined
  }
}
