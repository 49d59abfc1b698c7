// The resource manager's job runner: one resource operation at a time, forked children before
// queued notify_world jobs, each job a generator that yields the agent call or pause it waits on.
import type { ResourceRef } from '../config/haresources.js'
import type { JobGen, JobStep, StepResult } from './group-ops.js'
import type { LogLevel, RmAction } from './rm-types.js'

/** hb_resource.c runs some work as forked children and some as queued notify_world jobs. */
export type JobKind = 'child' | 'notify'

export interface Job {
  /** The 3.0.6 name of the work (req_our_resources, go_standby, status, ip-request, ...). */
  name: string
  kind: JobKind
  gen: JobGen<void>
  /** It may start a group here (a takeover, an acquire): what a release's tail gives way to. */
  startsGroups: boolean
}

/** What the running job waits for; `resuming` only while its answer is being fed in. */
export type JobWait = { on: 'agent'; id: number; yields: boolean; what: string } | { on: 'timer'; untilMs: number } | { on: 'resuming' }

interface Running {
  job: Job
  wait: JobWait
}

export interface JobRunnerHost {
  now(): number
  /** Jobs wait until comm-up: heartbeat forks its children around it. */
  mayRun(): boolean
  emit(action: RmAction): void
  log(level: LogLevel, text: string): void
  /** RscMgmtProcessDied(): a job ended (its generator returned). */
  finished(job: Job): void
  /**
   * Whether a queued group start may cut a yielding call short now. Not during a shutdown: no group
   * starts then, and a cancelled stop would leave the table behind on a node about to exit.
   */
  mayYield(): boolean
}

export class JobRunner {
  private readonly host: JobRunnerHost
  private queue: Job[] = []
  private running: Running | undefined
  /** pump() is re-entered when a finished job enqueues the next one: the outer loop picks it up. */
  private pumping = false
  private nextAgentId = 1

  constructor(host: JobRunnerHost) {
    this.host = host
  }

  busy(): boolean {
    return this.running !== undefined || this.queue.length > 0
  }

  /** A group start (a takeover, an acquire) is queued behind the running job, and may cut it short. */
  groupStartWaiting(): boolean {
    return this.host.mayYield() && this.queue.some((j) => j.startsGroups)
  }

  enqueue(name: string, kind: JobKind, gen: JobGen<void>, opts: { startsGroups?: boolean } = {}): void {
    const job: Job = { name, kind, gen, startsGroups: opts.startsGroups === true }
    if (kind === 'child') {
      // forked children start at once; queued notifications wait until no child runs
      const firstNotify = this.queue.findIndex((j) => j.kind === 'notify')
      if (firstNotify < 0) this.queue.push(job)
      else this.queue.splice(firstNotify, 0, job)
    } else {
      this.queue.push(job)
    }
    this.cancelYieldingCall()
    this.pump()
  }

  /** Start or resume jobs until one waits. */
  pump(resume?: StepResult): void {
    // Before comm-up nothing runs (heartbeat forks its children around comm-up; their messages
    // would otherwise arrive before the resource handlers exist): a dead-at-initdead peer's
    // takeover queues here and starts right after `starting`.
    if (this.pumping || !this.host.mayRun()) return
    this.pumping = true
    try {
      let input = resume
      for (;;) {
        let fresh = false
        if (this.running === undefined) {
          const next = this.queue.shift()
          if (next === undefined) break
          this.running = { job: next, wait: { on: 'resuming' } }
          fresh = true
        } else if (input === undefined) {
          break // the running job still waits for its agent or timer
        }
        const cur = this.running
        const r = fresh ? cur.job.gen.next(undefined as unknown as StepResult) : cur.job.gen.next(input as StepResult)
        input = undefined
        if (r.done) {
          this.running = undefined
          this.host.finished(cur.job)
          continue
        }
        this.startStep(cur, r.value)
        break
      }
    } finally {
      this.pumping = false
    }
  }

  private startStep(cur: Running, step: JobStep): void {
    if (step.kind === 'wait') {
      cur.wait = { on: 'timer', untilMs: this.host.now() + step.ms }
      return
    }
    const res = step.group.def.resources[step.index] as ResourceRef
    const id = this.nextAgentId++
    cur.wait = { on: 'agent', id, yields: step.yields === true, what: `${step.op} of ${res.text} in group ${step.group.def.key}` }
    this.host.emit({ type: 'run-agent', id, group: step.group.def.key, index: step.index, resource: res, op: step.op })
    if (step.yields === true) this.cancelYieldingCall()
  }

  /** A group start waits behind a call that yields to it: that call is cancelled once (it answers as failed). */
  private cancelYieldingCall(): void {
    const w = this.running?.wait
    if (w?.on !== 'agent' || !w.yields || !this.groupStartWaiting()) return
    w.yields = false
    this.host.log('warn', `Cancelling the still running ${w.what}: a group start is waiting behind it.`)
    this.host.emit({ type: 'cancel-agent', id: w.id })
  }

  /** The answer to a `run-agent` action. */
  agentResult(id: number, result: StepResult): void {
    const cur = this.running
    if (cur === undefined || cur.wait.on !== 'agent' || cur.wait.id !== id) {
      this.host.log('debug', `agent result ${id} matches no running operation; ignored`)
      return
    }
    cur.wait = { on: 'resuming' }
    this.pump(result)
  }

  /** A pause (stop retry) that ended resumes its job. */
  tick(now: number): void {
    const cur = this.running
    if (cur?.wait.on === 'timer' && now >= cur.wait.untilMs) {
      cur.wait = { on: 'resuming' }
      this.pump({ ok: true, running: false })
    }
  }

  nextDeadline(): number | undefined {
    return this.running?.wait.on === 'timer' ? this.running.wait.untilMs : undefined
  }
}
