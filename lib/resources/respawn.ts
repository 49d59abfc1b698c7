// ha.cf `respawn USER COMMAND` clients, as heartbeat 3.0.6 keeps them (heartbeat.c's client
// children): started in ha.cf order once communication is up, restarted when they exit, stopped at
// the end of a life last-started first, one at a time. Pure: events and `nowMs` in, actions out;
// deadlines (a delayed restart, a stop's SIGKILL) come out of nextDeadline(), never a timer here.

import type { LogLevel } from '../config/log-level.js'

/** A run shorter than this counts as a short run (3.0.6: 30 s from fork). */
export const RESPAWN_SHORT_RUN_MS = 30_000
/** After this many short runs in a row the next exit is not restarted ("respawning too fast"). */
export const RESPAWN_MAX_SHORT_RUNS = 10
/** A restart after a short run waits this long (3.0.6's child sleeps 1 s before exec). */
export const RESPAWN_SHORT_RUN_DELAY_MS = 1000
/** Exit status with which a client asks not to be restarted (3.0.6 too). */
export const RESPAWN_NO_RESTART_EXIT = 100
/** A client still running this long after SIGTERM at stop gets SIGKILL (3.0.6 waits without bound). */
export const RESPAWN_STOP_KILL_AFTER_MS = 10_000

export interface RespawnClient {
  user: string
  /** The command line as written in ha.cf. */
  command: string
  line: number
}

export type RespawnAction =
  /** Start client `index`; answer with `started` (its pid) or `spawnFailed`. */
  | { type: 'spawn'; index: number }
  /** Signal client `index`'s process group. */
  | { type: 'signal'; index: number; pid: number; signal: 'SIGTERM' | 'SIGKILL' }
  | { type: 'log'; level: LogLevel; text: string }

type ClientState =
  | { kind: 'idle' }
  | { kind: 'spawning'; sinceMs: number }
  | { kind: 'running'; pid: number; sinceMs: number }
  /** Waiting to be restarted at `atMs`. */
  | { kind: 'waiting'; atMs: number }
  /** Not restarted again this life. */
  | { kind: 'given-up' }

interface Slot {
  client: RespawnClient
  state: ClientState
  /** Short runs in a row (3.0.6's shortrcount). */
  shortRuns: number
  restarts: number
}

export interface RespawnExit {
  /** Exit status, when it exited. */
  code?: number
  /** The signal that killed it, when one did. */
  signal?: string
}

/** Where stopping is: which client (by index, last first) is being stopped, and when it gets SIGKILL. */
type Stopping = { index: number; killAtMs: number | undefined } | undefined

export class RespawnClients {
  private readonly slots: Slot[]
  private readonly killAfterMs: number
  private begun = false
  private stopping: Stopping
  private stopRequested = false
  private nowMs = 0
  private out: RespawnAction[] = []

  constructor(clients: readonly RespawnClient[], opts: { killAfterMs?: number } = {}) {
    this.slots = clients.map((client) => ({ client, state: { kind: 'idle' }, shortRuns: 0, restarts: 0 }))
    this.killAfterMs = opts.killAfterMs ?? RESPAWN_STOP_KILL_AFTER_MS
  }

  get count(): number {
    return this.slots.length
  }

  /** Every client has stopped (or never ran) after stop(). */
  get stopped(): boolean {
    return this.stopRequested && this.slots.every((s) => s.state.kind !== 'running' && s.state.kind !== 'spawning')
  }

  /** Pids of the clients running now. */
  runningPids(): Array<{ index: number; pid: number }> {
    const out: Array<{ index: number; pid: number }> = []
    this.slots.forEach((s, index) => {
      if (s.state.kind === 'running') out.push({ index, pid: s.state.pid })
    })
    return out
  }

  restartsOf(index: number): number {
    return this.slots[index]?.restarts ?? 0
  }

  /** Communication is up: start every client, in ha.cf order (comm_now_up). Once per life. */
  start(nowMs: number): RespawnAction[] {
    return this.run(nowMs, () => {
      if (this.begun || this.stopRequested) return
      this.begun = true
      this.slots.forEach((s, index) => this.spawn(s, index, undefined))
    })
  }

  /** The shell spawned client `index` as `pid`. */
  started(index: number, pid: number, nowMs: number): RespawnAction[] {
    return this.run(nowMs, () => {
      const s = this.slots[index]
      if (s === undefined || s.state.kind !== 'spawning') return
      s.state = { kind: 'running', pid, sinceMs: s.state.sinceMs }
      this.log('info', `Starting "${s.client.command}" as user ${s.client.user} (pid ${pid})`)
      // a stop asked for while it was being spawned: it is stopped like the others, in turn
      if (this.stopRequested) this.stopNext()
    })
  }

  /** The client could not be started at all (not executable, no such user): not retried, as 3.0.6. */
  spawnFailed(index: number, reason: string, nowMs: number): RespawnAction[] {
    return this.run(nowMs, () => {
      const s = this.slots[index]
      if (s === undefined || s.state.kind !== 'spawning') return
      s.state = { kind: 'given-up' }
      this.log('error', `Cannot exec ${s.client.command}: ${reason}`)
      if (this.stopRequested) this.stopNext()
    })
  }

  /** Client `index`'s process exited (reaped). */
  exited(index: number, how: RespawnExit, nowMs: number): RespawnAction[] {
    return this.run(nowMs, () => {
      const s = this.slots[index]
      if (s === undefined || s.state.kind !== 'running') return
      const ranMs = nowMs - s.state.sinceMs
      const pid = s.state.pid
      s.state = { kind: 'idle' }
      if (this.stopRequested) {
        this.log('info', `Client "${s.client.command}" (pid ${pid}) stopped${describeExit(how)}.`)
        if (this.stopping?.index === index) this.stopping = undefined
        this.stopNext()
        return
      }
      if (how.code !== undefined && how.code !== 0) this.log('error', `Client ${s.client.command} exited with return code ${how.code}.`)
      if (how.signal !== undefined) this.log('error', `Client ${s.client.command} (pid=${pid}) killed by signal ${how.signal}.`)
      if (how.code === RESPAWN_NO_RESTART_EXIT) {
        s.state = { kind: 'given-up' }
        this.log('info', `Client "${s.client.command}" exited ${RESPAWN_NO_RESTART_EXIT}: not restarted.`)
        return
      }
      if (ranMs < RESPAWN_SHORT_RUN_MS) s.shortRuns++
      else s.shortRuns = 0
      if (s.shortRuns > RESPAWN_MAX_SHORT_RUNS) {
        // 3.0.6 gives the client up for good here, with this line (ERROR).
        s.state = { kind: 'given-up' }
        this.log('error', `Client ${s.client.command} "respawning too fast": ${s.shortRuns} runs in a row shorter than ${RESPAWN_SHORT_RUN_MS / 1000} s; not restarted again until heartbeat restarts`)
        return
      }
      this.log('error', `Respawning client "${s.client.command}":`)
      s.restarts++
      this.spawn(s, index, s.shortRuns > 0 ? nowMs + RESPAWN_SHORT_RUN_DELAY_MS : undefined)
    })
  }

  /**
   * The life ends (after the resources were released, as 3.0.6): no more restarts; SIGTERM to the
   * last started client, the next one once it has gone, SIGKILL to one that outlasts the bound.
   */
  stop(nowMs: number): RespawnAction[] {
    return this.run(nowMs, () => {
      if (this.stopRequested) return
      this.stopRequested = true
      for (const s of this.slots) if (s.state.kind === 'waiting') s.state = { kind: 'idle' }
      this.stopNext()
    })
  }

  nextDeadline(): number | undefined {
    let min: number | undefined
    const take = (t: number | undefined): void => {
      if (t !== undefined && (min === undefined || t < min)) min = t
    }
    for (const s of this.slots) if (s.state.kind === 'waiting') take(s.state.atMs)
    take(this.stopping?.killAtMs)
    return min
  }

  tick(nowMs: number): RespawnAction[] {
    return this.run(nowMs, () => {
      this.slots.forEach((s, index) => {
        if (s.state.kind === 'waiting' && s.state.atMs <= nowMs) {
          s.state = { kind: 'idle' }
          this.spawn(s, index, undefined)
        }
      })
      const st = this.stopping
      if (st?.killAtMs !== undefined && st.killAtMs <= nowMs) {
        const s = this.slots[st.index]
        st.killAtMs = undefined
        if (s?.state.kind === 'running') {
          this.log('warn', `Client "${s.client.command}" (pid ${s.state.pid}) still running ${this.killAfterMs / 1000} s after SIGTERM: SIGKILL`)
          this.out.push({ type: 'signal', index: st.index, pid: s.state.pid, signal: 'SIGKILL' })
        }
      }
    })
  }

  // ----------------------------------------------------------------

  private run(nowMs: number, f: () => void): RespawnAction[] {
    this.nowMs = nowMs
    this.out = []
    f()
    const out = this.out
    this.out = []
    return out
  }

  private log(level: LogLevel, text: string): void {
    this.out.push({ type: 'log', level, text })
  }

  private spawn(s: Slot, index: number, atMs: number | undefined): void {
    if (atMs !== undefined && atMs > this.nowMs) {
      s.state = { kind: 'waiting', atMs }
      return
    }
    s.state = { kind: 'spawning', sinceMs: this.nowMs }
    this.log('info', `Starting child client "${s.client.command}" (user ${s.client.user})`)
    this.out.push({ type: 'spawn', index })
  }

  /** Stop the last client still running (or being spawned), one at a time. */
  private stopNext(): void {
    if (this.stopping !== undefined) return
    for (let index = this.slots.length - 1; index >= 0; index--) {
      const s = this.slots[index] as Slot
      // its pid comes with `started` (or `spawnFailed`), which stops it then
      if (s.state.kind === 'spawning') return
      if (s.state.kind === 'running') {
        this.stopping = { index, killAtMs: this.nowMs + this.killAfterMs }
        this.log('info', `Stopping client "${s.client.command}" (pid ${s.state.pid}) with SIGTERM`)
        this.out.push({ type: 'signal', index, pid: s.state.pid, signal: 'SIGTERM' })
        return
      }
    }
  }
}

function describeExit(how: RespawnExit): string {
  if (how.signal !== undefined) return ` by ${how.signal}`
  if (how.code !== undefined) return ` (exit ${how.code})`
  return ''
}
