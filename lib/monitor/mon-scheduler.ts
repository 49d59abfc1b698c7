// mon's scheduler and alert decisions as a pure state machine: events in (start, tick, monitor-finished), actions out.

import type { MonAlert, MonCf, MonPeriod, MonService } from '../config/mon-cf.js'
import { inPeriod } from '../config/time-period.js'
import type { WallTime } from '../config/time-period.js'

export type MonLogLevel = 'debug' | 'info' | 'warning' | 'error'

export type AlertKind = 'failure' | 'up' | 'startup'

export type MonAction =
  | {
      type: 'run-monitor'
      runId: number
      serviceId: string
      /** The name as written in mon.cf (`http.monitor`). */
      name: string
      /** Resolved program (a path, or `builtin:<name>`). */
      path: string
      /** Configured args, then the watch's hosts unless the line ended in `;;`. */
      args: string[]
      env: Record<string, string>
    }
  | { type: 'kill-monitor'; runId: number; serviceId: string; reason: string }
  | {
      type: 'run-alert'
      serviceId: string
      kind: AlertKind
      name: string
      /** mon's alert argv after the program: `-s svc -g watch -h "hosts" -t time [-u] args…`. */
      args: string[]
      /** The monitor output (for an upalert: the output of the last failing run, as mon does). */
      stdin: string
      env: Record<string, string>
      /** heartbeat-ts: an upalert replayed on the first success after start, to re-assert the LVS table. */
      reassert: boolean
    }
  | { type: 'log'; level: MonLogLevel; message: string }

/** How a monitor run ended, as the I/O edge saw it. */
export type MonitorResult =
  | { kind: 'exited'; exitCode: number; output: string }
  | { kind: 'signalled'; signal: string; output: string }
  | { kind: 'spawn-failed'; message: string }

export type OpStatus = 'untested' | 'ok' | 'fail'

export interface ServiceStatus {
  id: string
  watch: string
  service: string
  hosts: string[]
  status: OpStatus
  running: boolean
  consecutiveFailures: number
  /** Hosts named in the last failing summary (all hosts when the summary names none of them). */
  failingHosts: string[]
  lastSummary: string
  lastCheckUnix?: number
  lastChangeUnix?: number
  /** Milliseconds (scheduler clock) when the next run is due; undefined when it never runs. */
  nextDueMs?: number
}

export interface SchedulerOptions {
  /** Max concurrent monitors; 0 = unlimited (mon `maxprocs`). */
  maxprocs: number
  /** mon `randstart`: first run at floor(random × seconds) s; absent = one interval after start. */
  randstartMs?: number
  /** Uniform [0, 1), injected so tests are deterministic. */
  random: () => number
  /**
   * heartbeat-ts addition: a monitor still running this long after its start is killed and the
   * run counts as a FAILURE of every host of the watch. mon itself never times a monitor out.
   */
  monitorTimeoutMs: number
  /** Resolved program per monitor name (`undefined` = not found in mondir and not built in). */
  resolveMonitor: (name: string) => string | undefined
  /** Alerts whose upalert is replayed on the first success after start (the built-in lvs.alert). */
  reassertAlert?: (name: string) => boolean
  /** MON_STATEDIR, MON_LOGDIR, MON_CFBASEDIR. */
  baseEnv: Record<string, string>
}

interface PeriodState {
  spec: MonPeriod
  lastAlertMs?: number
  lastAlertSummary?: string
  lastAlertOutput?: string
  alertsSent: number
  windowStartMs?: number
  windowCount: number
}

interface Running {
  runId: number
  startedMs: number
  deadlineMs: number
  timedOut: boolean
}

interface ServiceState {
  id: string
  watch: string
  hosts: string[]
  spec: MonService
  path?: string
  nextDueMs: number
  running?: Running
  status: OpStatus
  consecutiveFailures: number
  periods: PeriodState[]
  lastSummary: string
  lastOutput: string
  lastFailureOutput: string
  failingHosts: string[]
  firstFailureUnix?: number
  firstFailureMs?: number
  lastFailureUnix?: number
  firstSuccessUnix?: number
  lastSuccessUnix?: number
  lastCheckUnix?: number
  lastChangeUnix?: number
}

function split(output: string): { summary: string; detail: string } {
  const nl = output.indexOf('\n')
  return nl < 0 ? { summary: output.trim(), detail: '' } : { summary: output.slice(0, nl).trim(), detail: output.slice(nl + 1) }
}

/** A failed run in a few words: the exit value and the monitor's summary line, if any. */
function describeFailure(exitValue: number, summary: string): string {
  return summary.trim() === '' ? `exit ${exitValue}` : `exit ${exitValue}: ${summary.trim()}`
}

/** mon's scheduler (docs §1.9–1.12). Times are scheduler-clock milliseconds; wall time is passed in for periods and `-t`. */
export class MonScheduler {
  readonly #opts: SchedulerOptions
  readonly #services: ServiceState[]
  #nextRunId = 1
  #started = false

  constructor(config: MonCf, opts: SchedulerOptions) {
    this.#opts = opts
    this.#services = []
    for (const w of config.watches) {
      for (const s of w.services) {
        if (s.intervalMs === undefined) continue // the reader already reported it
        const hosts = w.hosts.filter((h) => !s.excludeHosts.includes(h))
        const st: ServiceState = {
          id: `${w.group}/${s.name}`,
          watch: w.group,
          hosts,
          spec: s,
          nextDueMs: Infinity,
          status: 'untested',
          consecutiveFailures: 0,
          periods: s.periods.map((p) => ({ spec: p, alertsSent: 0, windowCount: 0 })),
          lastSummary: '',
          lastOutput: '',
          lastFailureOutput: '',
          failingHosts: [],
        }
        const path = s.monitor ? opts.resolveMonitor(s.monitor.name) : undefined
        if (path !== undefined) st.path = path
        this.#services.push(st)
      }
    }
  }

  /** Schedule every service's first run and fire startup alerts. */
  start(nowMs: number, wall: WallTime): MonAction[] {
    const out: MonAction[] = []
    if (this.#started) return out
    this.#started = true
    for (const s of this.#services) {
      if (s.spec.monitor === undefined) continue
      if (s.path === undefined) {
        // mon logs this on every tick; once is enough to say it.
        out.push({ type: 'log', level: 'error', message: `no monitor found while trying to run [${s.spec.monitor.name}] for ${s.id}; the service never runs` })
        continue
      }
      const r = this.#opts.randstartMs
      // mon: randstart → first run after int(rand(N)) seconds; otherwise one interval after start.
      s.nextDueMs = nowMs + (r !== undefined && r > 0 ? Math.floor(this.#opts.random() * (r / 1000)) * 1000 : this.#interval(s))
      for (const p of s.periods) {
        if (!inPeriod(p.spec.period, wall)) continue
        for (const a of p.spec.startupalerts) out.push(this.#alert(s, a, 'startup', wall, '', 0, false))
      }
    }
    return out
  }

  /** Start what is due, kill what overran its bound. Call at (or after) nextDeadline() and after every event. */
  tick(nowMs: number, wall: WallTime): MonAction[] {
    const out: MonAction[] = []
    if (!this.#started) out.push(...this.start(nowMs, wall))
    for (const s of this.#services) {
      const r = s.running
      if (r && !r.timedOut && nowMs >= r.deadlineMs) {
        r.timedOut = true
        out.push({ type: 'kill-monitor', runId: r.runId, serviceId: s.id, reason: `still running after ${this.#opts.monitorTimeoutMs / 1000}s` })
      }
    }
    let throttled = false
    for (const s of this.#services) {
      if (s.running || s.path === undefined || s.spec.monitor === undefined || nowMs < s.nextDueMs) continue
      if (s.spec.excludePeriod && inPeriod(s.spec.excludePeriod, wall)) {
        s.nextDueMs = nowMs + this.#interval(s)
        continue
      }
      if (s.hosts.length === 0 && !s.spec.allowEmptyGroup && s.spec.monitor.appendHosts) {
        s.nextDueMs = nowMs + this.#interval(s)
        continue
      }
      if (this.#opts.maxprocs > 0 && this.#runningCount() >= this.#opts.maxprocs) {
        if (!throttled) out.push({ type: 'log', level: 'warning', message: `throttled at ${this.#opts.maxprocs} processes` })
        throttled = true
        continue
      }
      const runId = this.#nextRunId++
      s.running = { runId, startedMs: nowMs, deadlineMs: nowMs + this.#opts.monitorTimeoutMs, timedOut: false }
      const m = s.spec.monitor
      out.push({
        type: 'run-monitor',
        runId,
        serviceId: s.id,
        name: m.name,
        path: s.path,
        args: m.appendHosts ? [...m.args, ...s.hosts] : [...m.args],
        env: this.#monitorEnv(s),
      })
    }
    return out
  }

  /** The earliest time tick() has something to do; undefined when nothing is scheduled. */
  nextDeadline(): number | undefined {
    let best = Infinity
    const atCapacity = this.#opts.maxprocs > 0 && this.#runningCount() >= this.#opts.maxprocs
    for (const s of this.#services) {
      if (s.running) {
        if (!s.running.timedOut) best = Math.min(best, s.running.deadlineMs)
      } else if (!atCapacity) best = Math.min(best, s.nextDueMs)
    }
    return Number.isFinite(best) ? best : undefined
  }

  /** A monitor run ended. Decides alerts and schedules the next run. */
  monitorFinished(runId: number, nowMs: number, wall: WallTime, result: MonitorResult): MonAction[] {
    const s = this.#services.find((x) => x.running?.runId === runId)
    if (!s || !s.running) return [{ type: 'log', level: 'debug', message: `result for unknown monitor run ${runId} ignored` }]
    const run = s.running
    s.running = undefined
    const out: MonAction[] = []
    let failed: boolean
    let exitValue: number
    let output: string
    if (run.timedOut) {
      // heartbeat-ts: a monitor we had to kill failed every host of its watch.
      failed = true
      exitValue = 1
      output = `${s.hosts.join(' ')}\nmonitor ${s.spec.monitor?.name ?? '?'} timed out after ${this.#opts.monitorTimeoutMs / 1000}s and was killed\n`
      out.push({ type: 'log', level: 'warning', message: `${s.id}: monitor timed out after ${this.#opts.monitorTimeoutMs / 1000}s; counted as a failure of ${s.hosts.join(' ')}` })
    } else if (result.kind === 'signalled') {
      // mon: the result is exit_status >> 8, which is 0 for a monitor killed by a signal: a success.
      failed = false
      exitValue = 0
      output = result.output
      out.push({ type: 'log', level: 'warning', message: `${s.id}: monitor killed by ${result.signal}; counted as a success, as mon does` })
    } else if (result.kind === 'spawn-failed') {
      // mon: the forked child dies when exec fails, which is a non-zero exit.
      failed = true
      exitValue = 255
      output = `${s.hosts.join(' ')}\ncould not run monitor: ${result.message}\n`
      out.push({ type: 'log', level: 'error', message: `${s.id}: could not run monitor ${s.path ?? ''}: ${result.message}` })
    } else {
      failed = result.exitCode !== 0
      exitValue = result.exitCode
      output = result.output
    }

    // mon: the next run is anchored at the previous start; if that is already past, a full interval from now.
    const wasFailing = s.status === 'fail'
    const prevStatus = s.status
    s.lastCheckUnix = wall.unixSec
    const wasFailingHosts = s.failingHosts.join(' ')
    if (failed) this.#onFailure(s, nowMs, wall, exitValue, output, out)
    else this.#onSuccess(s, prevStatus, wall, output, out)
    // Every up/down in the log, ahead of the alerts it causes, so an admin sees why a server left the table.
    const firstAlert = out.findIndex((a) => a.type !== 'log')
    const at = firstAlert < 0 ? out.length : firstAlert
    if (failed && (prevStatus !== 'fail' || s.failingHosts.join(' ') !== wasFailingHosts)) {
      out.splice(at, 0, { type: 'log', level: 'warning', message: `${s.id}: down: ${s.failingHosts.join(' ')} (${describeFailure(exitValue, s.lastSummary)})` })
    } else if (!failed && prevStatus !== 'ok') {
      out.splice(at, 0, { type: 'log', level: 'info', message: `${s.id}: up: ${s.hosts.join(' ')}${prevStatus === 'fail' ? ' (again)' : ' (first check)'}` })
    }
    if (wasFailing !== (s.status === 'fail') || prevStatus === 'untested') s.lastChangeUnix = wall.unixSec
    const interval = this.#interval(s)
    let next = run.startedMs + interval
    if (next <= nowMs) next = nowMs + interval
    s.nextDueMs = next
    return out
  }

  status(): ServiceStatus[] {
    return this.#services.map((s) => {
      const st: ServiceStatus = {
        id: s.id,
        watch: s.watch,
        service: s.spec.name,
        hosts: [...s.hosts],
        status: s.status,
        running: s.running !== undefined,
        consecutiveFailures: s.consecutiveFailures,
        failingHosts: [...s.failingHosts],
        lastSummary: s.lastSummary,
      }
      if (s.lastCheckUnix !== undefined) st.lastCheckUnix = s.lastCheckUnix
      if (s.lastChangeUnix !== undefined) st.lastChangeUnix = s.lastChangeUnix
      if (Number.isFinite(s.nextDueMs)) st.nextDueMs = s.nextDueMs
      return st
    })
  }

  /** Run ids currently running (the edge kills them all on stop). */
  runningIds(): number[] {
    return this.#services.flatMap((s) => (s.running ? [s.running.runId] : []))
  }

  #runningCount(): number {
    return this.#services.filter((s) => s.running).length
  }

  #interval(s: ServiceState): number {
    const base = s.status === 'fail' && s.spec.failureIntervalMs !== undefined ? s.spec.failureIntervalMs : (s.spec.intervalMs as number)
    const skew = s.spec.randskewMs
    if (skew === undefined || skew < 1000) return base
    // mon randskew: interval ± (1 … skew) seconds.
    const delta = (Math.floor(this.#opts.random() * (skew / 1000)) + 1) * 1000
    return Math.max(1000, this.#opts.random() < 0.5 ? base - delta : base + delta)
  }

  #onFailure(s: ServiceState, nowMs: number, wall: WallTime, exitValue: number, output: string, out: MonAction[]): void {
    const { summary } = split(output)
    s.consecutiveFailures++
    if (s.status !== 'fail') {
      s.firstFailureUnix = wall.unixSec
      s.firstFailureMs = nowMs
    }
    s.status = 'fail'
    s.lastFailureUnix = wall.unixSec
    s.lastFailureOutput = output
    s.lastOutput = output
    s.lastSummary = summary
    const named = summary.split(/\s+/).filter((h) => s.hosts.includes(h))
    s.failingHosts = named.length > 0 ? named : [...s.hosts]
    for (const p of s.periods) {
      const spec = p.spec
      if (!inPeriod(spec.period, wall)) continue
      if (spec.exitRange && (exitValue < spec.exitRange.from || exitValue > spec.exitRange.to)) continue
      if (spec.numAlerts !== undefined && p.alertsSent >= spec.numAlerts) continue
      const every = spec.alertEvery
      if (every && p.lastAlertMs !== undefined && nowMs - p.lastAlertMs < every.ms) {
        const same = every.compare === 'none' || (every.compare === 'summary' ? p.lastAlertSummary === summary : p.lastAlertOutput === output)
        if (same) continue
      }
      const after = spec.alertAfter
      if (after) {
        if (after.kind === 'consecutive' && s.consecutiveFailures < after.count) continue
        if (after.kind === 'failing-for' && nowMs - (s.firstFailureMs ?? nowMs) < after.durationMs) continue
        if (after.kind === 'count-within') {
          if (p.windowStartMs === undefined || nowMs - p.windowStartMs > after.withinMs) {
            p.windowStartMs = nowMs
            p.windowCount = 0
          }
          p.windowCount++
          if (p.windowCount < after.count) continue
          p.windowStartMs = undefined
          p.windowCount = 0
        }
      }
      let sent = 0
      for (const a of spec.alerts) {
        if (a.exitRange && (exitValue < a.exitRange.from || exitValue > a.exitRange.to)) continue
        out.push(this.#alert(s, a, 'failure', wall, output, exitValue, false))
        sent++
      }
      if (sent > 0) {
        p.alertsSent++
        p.lastAlertMs = nowMs
        p.lastAlertSummary = summary
        p.lastAlertOutput = output
      }
    }
  }

  #onSuccess(s: ServiceState, prev: OpStatus, wall: WallTime, output: string, out: MonAction[]): void {
    const failureOutput = s.lastFailureOutput
    for (const p of s.periods) {
      if (!inPeriod(p.spec.period, wall)) continue
      if (prev === 'fail' && (p.alertsSent > 0 || p.spec.noCompAlerts)) {
        // mon: the upalert's stdin is the output of the last failing run.
        for (const a of p.spec.upalerts) out.push(this.#alert(s, a, 'up', wall, failureOutput, 0, false))
      } else if (prev === 'untested' && this.#opts.reassertAlert) {
        // mon sends no upalert for a first success; heartbeat-ts replays the built-in lvs.alert
        // upalerts then, so a real server removed before a restart is put back.
        for (const a of p.spec.upalerts) if (this.#opts.reassertAlert(a.name)) out.push(this.#alert(s, a, 'up', wall, output, 0, true))
      }
      p.alertsSent = 0
      p.windowStartMs = undefined
      p.windowCount = 0
      if (!p.spec.alertEvery?.strict) p.lastAlertMs = undefined
    }
    if (s.status !== 'ok' && s.firstSuccessUnix === undefined) s.firstSuccessUnix = wall.unixSec
    s.status = 'ok'
    s.consecutiveFailures = 0
    s.lastSuccessUnix = wall.unixSec
    s.lastOutput = output
    s.lastSummary = split(output).summary
    s.failingHosts = []
  }

  #commonEnv(s: ServiceState): Record<string, string> {
    const env: Record<string, string> = { ...this.#opts.baseEnv, ...s.spec.env, MON_GROUP: s.watch, MON_SERVICE: s.spec.name }
    const opt = (k: string, v: string | number | undefined): void => {
      if (v !== undefined) env[k] = String(v)
    }
    opt('MON_LAST_SUMMARY', s.lastSummary)
    opt('MON_LAST_OUTPUT', s.lastOutput)
    opt('MON_FIRST_FAILURE', s.firstFailureUnix)
    opt('MON_LAST_FAILURE', s.lastFailureUnix)
    opt('MON_FIRST_SUCCESS', s.firstSuccessUnix)
    opt('MON_LAST_SUCCESS', s.lastSuccessUnix)
    opt('MON_DESCRIPTION', s.spec.description)
    return env
  }

  #monitorEnv(s: ServiceState): Record<string, string> {
    return this.#commonEnv(s)
  }

  #alert(s: ServiceState, a: MonAlert, kind: AlertKind, wall: WallTime, stdin: string, retval: number, reassert: boolean): MonAction {
    // mon call_alert: -s service -g group -h "hosts" -t time, then -u for upalerts, then the configured args.
    const args = ['-s', s.spec.name, '-g', s.watch, '-h', s.hosts.join(' '), '-t', String(wall.unixSec)]
    if (kind === 'up') args.push('-u')
    args.push(...a.args)
    const env = {
      ...this.#commonEnv(s),
      MON_RETVAL: String(retval),
      MON_OPSTATUS: kind === 'failure' ? '0' : '1',
      MON_ALERTTYPE: kind,
    }
    return { type: 'run-alert', serviceId: s.id, kind, name: a.name, args, stdin: stdin === '' ? '' : stdin, env, reassert }
  }
}
