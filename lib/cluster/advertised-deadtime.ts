// hb_add_deadtime / hb_pop_deadtime: the dt we advertise, raised while a restart or start-up needs slack.

export class AdvertisedDeadtime {
  private readonly deadtimeMs: number
  private adds = 0
  /** The dt our statuses carry now. */
  ms: number

  constructor(deadtimeMs: number) {
    this.deadtimeMs = deadtimeMs
    this.ms = deadtimeMs
  }

  /** Advertise deadtime+increment until popped; true when the advertised dt rose (a status should go out). */
  add(incrementMs: number): boolean {
    const want = this.deadtimeMs + incrementMs
    this.adds++
    if (this.ms >= want) return false
    this.ms = want
    return true
  }

  /** One add undone; back to the plain deadtime once all are. True when that happened (a status should go out). */
  pop(): boolean {
    this.adds--
    if (this.adds > 0) return false
    this.ms = this.deadtimeMs
    this.adds = 0
    return true
  }
}
