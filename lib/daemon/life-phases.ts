// How one life of the node ends: the resources released, the two final steps of §5.5 after our
// `shutdone`, then the agents still running awaited (each at most its timeout) so no result is
// lost and a restart keeps exactly what we hold. The node core routes events and asks this for the
// phase; the steps that touch membership or the resource manager go back through LifeHost.
// No clock, no timers: times come in as `nowMs`, the next one goes out as nextDeadline().

import type { RscWord } from '../resources/resource-sets.js'
import { AGENT_RESULT_GRACE_MS, FINAL_PHASE_STEP_MS, RESTART_EXTRA_DEADTIME_MS, type HistoryEvent, type LifeEnd, type LogLevel, type Phase, type Then } from './node-core-types.js'

/** What the phases ask of the node core. */
export interface LifeHost {
  /** Ask the resource manager to give everything up; false when resources are not managed. */
  releaseResources(then: Then): boolean
  sendStatus(): void
  addDeadtime(incrementMs: number): void
  stopMembership(): void
  /** What we hold now, for a restart that keeps it. */
  held(): RscWord | undefined
  /** The release job runs on past our `shutdone` (an address-first group's lvs stop): the life waits for it. */
  releaseTailRunning(): boolean
  log(level: LogLevel, text: string): void
  emit(event: HistoryEvent): void
  /** This life is over (the core's `end` action). */
  end(end: LifeEnd): void
}

export class LifePhases {
  phase: Phase = { kind: 'running' }
  private readonly host: LifeHost
  private readonly pid: number
  private readonly agentTimeoutMs: number
  /** Agents started and not yet answered: id → the time past which we stop waiting for it. */
  private readonly agents = new Map<number, number>()
  private nowMs = 0

  constructor(host: LifeHost, pid: number, agentTimeoutMs: number) {
    this.host = host
    this.pid = pid
    this.agentTimeoutMs = agentTimeoutMs
  }

  /** The time of the event being handled. */
  at(nowMs: number): void {
    this.nowMs = nowMs
  }

  get runningAgents(): number {
    return this.agents.size
  }

  agentStarted(id: number): void {
    this.agents.set(id, this.nowMs + this.agentTimeoutMs + AGENT_RESULT_GRACE_MS)
  }

  /** False for an agent not ours or given up on: its late answer changes nothing. */
  agentFinished(id: number): boolean {
    return this.agents.delete(id)
  }

  nextDeadline(): number | undefined {
    if (this.phase.kind === 'final') return this.phase.atMs
    // While the release's tail runs, its agents' results and its own pauses wake us, not a drain deadline
    // (one already past would spin the loop until the late result came).
    if (this.phase.kind === 'draining') return this.host.releaseTailRunning() ? undefined : this.drainDeadline()
    return undefined
  }

  /** Whatever is due now: a final step, or the end of the wait for agents. */
  tick(): void {
    if (this.phase.kind === 'final' && this.phase.atMs <= this.nowMs) this.finalStep(this.phase)
    this.checkDrained()
  }

  /** SIGTERM, `heartbeat -k`. */
  shutdown(): void {
    const p = this.phase
    if ((p.kind === 'releasing' || p.kind === 'final') && p.then.kind === 'restart') {
      // giving up for a restart already: exit instead of starting again
      this.host.log('info', `Heartbeat shutdown in progress. (${this.pid})`)
      p.then = { kind: 'exit' }
      return
    }
    if (p.kind !== 'running') {
      this.host.log('warn', 'Second shutdown request: exiting now.')
      this.endNow({ kind: 'exit', code: 0 })
      return
    }
    this.host.log('info', `Heartbeat shutdown in progress. (${this.pid})`)
    this.release({ kind: 'exit' })
  }

  /** Give every resource up (the manager sends `shutdone` when done), then the final phases. */
  release(then: Then): void {
    this.phase = { kind: 'releasing', then }
    if (!this.host.releaseResources(then)) this.enterFinal(then)
  }

  /** The manager's `shutdone` went out (a release we asked for, or one it began itself). */
  resourcesReleased(): void {
    if (this.phase.kind === 'releasing') this.enterFinal(this.phase.then)
    else if (this.phase.kind === 'running') this.enterFinal({ kind: 'exit' })
  }

  /** A restart that keeps what we hold (a changed ha.cf, a stalled local heartbeat). */
  restartKeeping(reason: string, prepared: boolean): void {
    this.host.log('info', `Restarting heartbeat (${reason}).`)
    // hb_mcp_final_shutdown before a restart: hb_add_deadtime(30000), a status with deadtime + 30 s,
    // so peers wait for the new generation instead of declaring us dead.
    this.host.addDeadtime(RESTART_EXTRA_DEADTIME_MS)
    // `held` is read when the last agent has answered, so the new life holds what we really hold.
    this.drainThen({ kind: 'restart', held: undefined, reason, prepared }, true)
  }

  /** End this life at once, without waiting for anything. */
  endNow(end: LifeEnd): void {
    if (end.kind === 'exit') this.host.emit({ kind: 'shutdown', text: `heartbeat exits (code ${end.code})` })
    this.host.stopMembership()
    this.phase = { kind: 'ended' }
    this.host.end(end)
  }

  private enterFinal(then: Then): void {
    this.phase = { kind: 'final', step: 1, atMs: this.nowMs + FINAL_PHASE_STEP_MS, then }
  }

  private finalStep(p: Extract<Phase, { kind: 'final' }>): void {
    if (p.step === 1) {
      this.host.sendStatus()
      this.phase = { kind: 'final', step: 2, atMs: this.nowMs + FINAL_PHASE_STEP_MS, then: p.then }
      return
    }
    this.host.stopMembership()
    const end: LifeEnd = p.then.kind === 'exit' ? { kind: 'exit', code: 0 } : { kind: 'restart', held: undefined, reason: p.then.reason, prepared: false }
    this.drainThen(end, false)
  }

  /** The end is decided; agents still running are awaited, each at most until its timeout (plus the runner's grace). */
  private drainThen(end: LifeEnd, feedResults: boolean): void {
    this.phase = { kind: 'draining', end, feedResults }
    if (this.agents.size > 0) this.host.log('info', `Waiting for ${this.agents.size} running resource agent(s) before ${end.kind === 'exit' ? 'exiting' : 'restarting'}.`)
    this.checkDrained()
  }

  private drainDeadline(): number | undefined {
    let max: number | undefined
    for (const d of this.agents.values()) if (max === undefined || d > max) max = d
    return max
  }

  /** While draining: once the last agent has answered or timed out, the life ends. */
  checkDrained(): void {
    if (this.phase.kind !== 'draining') return
    // Not exiting with an IPVS table of ours left behind; the tail is bounded (group-ops.ts stopTailResource).
    if (this.host.releaseTailRunning()) return
    const deadline = this.drainDeadline()
    if (deadline !== undefined && deadline > this.nowMs) return
    if (this.agents.size > 0) this.host.log('error', `${this.agents.size} resource agent(s) did not answer within their timeout; going on without their results.`)
    this.agents.clear()
    const end = this.phase.end
    this.endNow(end.kind === 'restart' && this.phase.feedResults ? { ...end, held: this.host.held() } : end)
  }
}
