// The real-server monitor's loop: reads mon.cf, drives the pure scheduler with real time, runs monitors and alerts, writes the state file.

import { access, constants, readFile, stat } from 'node:fs/promises'
import { isAbsolute, join } from 'node:path'
import type { Diagnostic } from '../config/diagnostics.js'
import { hasErrors } from '../config/diagnostics.js'
import { parseMonCf } from '../config/mon-cf.js'
import type { MonCf } from '../config/mon-cf.js'
import { wallTimeOf } from '../config/time-period.js'
import { run } from '../agents/agent-exec.js'
import { runHttpMonitor } from '../agents/http-monitor.js'
import { LvsAlertMemo, runLvsAlert } from '../agents/lvs-alert.js'
import type { LvsAlertSettings } from '../agents/lvs-alert.js'
import { withTimeout } from '../io/bounded-io.js'
import { writeFileAtomic } from '../io/safe-files.js'
import { runExternalAlert, startExternalMonitor } from '../io/mon-exec.js'
import { MonScheduler } from '../monitor/mon-scheduler.js'
import type { MonAction, MonLogLevel, MonitorResult } from '../monitor/mon-scheduler.js'
import { buildMonState } from '../monitor/mon-state.js'
import type { MonStateFile } from '../monitor/mon-state.js'

type Env = Readonly<Record<string, string | undefined>>

export const BUILTIN_MONITORS = ['http.monitor'] as const
export const BUILTIN_ALERTS = ['lvs.alert'] as const

export interface MonDaemonOptions {
  monCfPath: string
  /** Environment for external monitors and alerts (and their MON_* additions). */
  env: Env
  /** mon -s / -a: search paths that replace mondir / alertdir. */
  monDirs?: string[]
  alertDirs?: string[]
  /** mon -b: base for relative mondir/alertdir (default /usr/lib/mon). */
  baseDir?: string
  /** Absolute; its directory must exist (hb-mon makes it at start and exits when it vanishes). */
  stateFile: string
  monitorTimeoutMs: number
  alertTimeoutMs: number
  ipvsadm: string
  lvs: LvsAlertSettings
  log: (level: MonLogLevel, message: string) => void
  random?: () => number
}

export interface MonDaemon {
  /** Kill running monitors, wait for alerts in flight (bounded by the alert timeout), write the final state (bounded). */
  stop(): Promise<void>
  state(): MonStateFile
  readonly config: MonCf
}

export type StartResult = { ok: true; daemon: MonDaemon; diagnostics: Diagnostic[] } | { ok: false; diagnostics: Diagnostic[]; message: string }

async function isExecutableFile(path: string): Promise<boolean> {
  try {
    await access(path, constants.X_OK)
    return (await stat(path)).isFile()
  } catch {
    return false
  }
}

// mon gen_scriptdir_hash: the first directory of the search path holding an executable of that name wins.
async function resolveAll(names: Iterable<string>, dirs: readonly string[], builtins: readonly string[]): Promise<Map<string, string>> {
  const out = new Map<string, string>()
  for (const name of names) {
    if (builtins.includes(name)) {
      out.set(name, `builtin:${name}`)
      continue
    }
    if (name.includes('/')) {
      if (await isExecutableFile(name)) out.set(name, name)
      continue
    }
    for (const d of dirs) {
      const p = join(d, name)
      if (await isExecutableFile(p)) {
        out.set(name, p)
        break
      }
    }
  }
  return out
}

function searchPath(configured: string[] | undefined, override: string[] | undefined, base: string, kind: 'mon.d' | 'alert.d'): string[] {
  const dirs = override ?? configured ?? [`/usr/local/lib/mon/${kind}`, kind]
  return dirs.map((d) => (isAbsolute(d) ? d : join(base, d)))
}

/** Bound on the final state write of a stop: a stop path never waits on a file system without end. */
export const STOP_WRITE_TIMEOUT_MS = 2000
/** A stop waits this long for killed monitors to be reaped before it goes on. */
export const STOP_MONITORS_WAIT_MS = 3000
/** The timer wakes at least this often: periods follow the wall clock, which may step. */
const MAX_TIMER_MS = 60_000

/** Read mon.cf and start monitoring. Configuration errors refuse to start (like mon's fatal `cf error`). */
export async function startMonDaemon(o: MonDaemonOptions): Promise<StartResult> {
  let text: string
  try {
    text = await readFile(o.monCfPath, 'utf8')
  } catch (err) {
    return { ok: false, diagnostics: [], message: `${o.monCfPath}: ${(err as Error).message}` }
  }
  const { config, diagnostics } = parseMonCf(text, o.monCfPath)
  if (hasErrors(diagnostics)) return { ok: false, diagnostics, message: `${o.monCfPath} has errors` }

  const base = o.baseDir ?? '/usr/lib/mon'
  const monDirs = searchPath(config.globals.mondir, o.monDirs, base, 'mon.d')
  const alertDirs = searchPath(config.globals.alertdir, o.alertDirs, base, 'alert.d')
  const monitorNames = new Set<string>()
  const alertNames = new Set<string>()
  for (const w of config.watches) {
    for (const s of w.services) {
      if (s.monitor) monitorNames.add(s.monitor.name)
      for (const p of s.periods) for (const a of [...p.alerts, ...p.upalerts, ...p.startupalerts]) alertNames.add(a.name)
    }
  }
  const monitors = await resolveAll(monitorNames, monDirs, BUILTIN_MONITORS)
  const alerts = await resolveAll(alertNames, alertDirs, BUILTIN_ALERTS)
  for (const name of [...monitorNames, ...alertNames]) {
    if (!BUILTIN_MONITORS.includes(name as never) && !BUILTIN_ALERTS.includes(name as never)) continue
    const shadow = await resolveAll([name], name.endsWith('.monitor') ? monDirs : alertDirs, [])
    if (shadow.has(name)) o.log('info', `${name}: using the built-in one, not ${shadow.get(name)}`)
  }

  const statedir = config.globals.statedir ?? '/var/lib/mon'
  const logdir = config.globals.logdir ?? '/var/log/mon'
  const sched = new MonScheduler(config, {
    maxprocs: config.globals.maxprocs,
    randstartMs: config.globals.randstartMs,
    random: o.random ?? Math.random,
    monitorTimeoutMs: o.monitorTimeoutMs,
    resolveMonitor: (n) => monitors.get(n),
    reassertAlert: (n) => alerts.get(n) === 'builtin:lvs.alert',
    baseEnv: {
      MON_STATEDIR: isAbsolute(statedir) ? statedir : join(base, statedir),
      MON_LOGDIR: isAbsolute(logdir) ? logdir : join(base, logdir),
      MON_CFBASEDIR: config.globals.cfbasedir ?? '/etc/mon',
    },
  })

  const memo = new LvsAlertMemo()
  const startedAtSec = Math.floor(Date.now() / 1000)
  const running = new Map<number, { kill(): void; result: Promise<MonitorResult> }>()
  const alertsInFlight = new Set<Promise<unknown>>()
  let timer: NodeJS.Timeout | undefined
  let stopping = false
  let writing: Promise<void> = Promise.resolve()
  let writeQueued = false

  const now = (): number => performance.now()
  const wall = () => wallTimeOf(new Date())
  const state = (stopped = false): MonStateFile =>
    buildMonState(sched.status(), { pid: process.pid, monCf: o.monCfPath, startedAtSec, nowSec: Math.floor(Date.now() / 1000), stopped })

  const writeState = (stopped = false): Promise<void> => {
    if (writeQueued && !stopped) return writing
    writeQueued = true
    writing = writing.then(async () => {
      writeQueued = false
      try {
        await writeFileAtomic(o.stateFile, `${JSON.stringify(state(stopped), null, 2)}\n`)
      } catch (err) {
        o.log('error', `cannot write ${o.stateFile}: ${(err as Error).message}`)
      }
    })
    return writing
  }

  const arm = (): void => {
    if (timer) clearTimeout(timer)
    timer = undefined
    if (stopping) return
    const d = sched.nextDeadline()
    if (d === undefined) return
    // Re-check at least once a minute: periods follow the wall clock.
    timer = setTimeout(onTimer, Math.min(MAX_TIMER_MS, Math.max(0, Math.ceil(d - now()))))
  }

  const onTimer = (): void => {
    timer = undefined
    handle(sched.tick(now(), wall()))
    arm()
  }

  const finished = (runId: number, result: MonitorResult): void => {
    running.delete(runId)
    if (stopping) return
    handle(sched.monitorFinished(runId, now(), wall(), result))
    handle(sched.tick(now(), wall()))
    void writeState()
    arm()
  }

  const track = (p: Promise<unknown>): void => {
    alertsInFlight.add(p)
    void p.finally(() => alertsInFlight.delete(p))
  }

  const handle = (actions: readonly MonAction[]): void => {
    for (const a of actions) {
      switch (a.type) {
        case 'log':
          o.log(a.level, a.message)
          break
        case 'run-monitor': {
          o.log('debug', `${a.serviceId}: running ${a.name} ${a.args.join(' ')}`)
          if (a.path === 'builtin:http.monitor') {
            const ac = new AbortController()
            const result = runHttpMonitor(a.args, ac.signal).then(
              (r): MonitorResult => ({ kind: 'exited', exitCode: r.exitCode, output: r.output }),
              (err: unknown): MonitorResult => ({ kind: 'spawn-failed', message: (err as Error).message }),
            )
            running.set(a.runId, { kill: () => ac.abort(), result })
            void result.then((r) => finished(a.runId, r))
          } else {
            const m = startExternalMonitor(a.path, a.args, a.env, o.env)
            running.set(a.runId, { kill: () => m.kill(), result: m.result })
            void m.result.then((r) => finished(a.runId, r))
          }
          break
        }
        case 'kill-monitor':
          o.log('warning', `${a.serviceId}: killing monitor run ${a.runId}: ${a.reason}`)
          running.get(a.runId)?.kill()
          break
        case 'run-alert': {
          const path = alerts.get(a.name)
          const what = `${a.kind === 'up' ? 'upalert' : a.kind === 'startup' ? 'startupalert' : 'alert'} ${a.name} for ${a.serviceId}`
          if (path === undefined) {
            o.log('error', `no alert found while trying to run [${a.name}] (${what})`)
            break
          }
          if (path === 'builtin:lvs.alert') {
            track(
              runLvsAlert(a.args, { ipvsadm: o.ipvsadm, exec: run, settings: o.lvs, memo, timeoutMs: o.alertTimeoutMs }, a.reassert).then((r) => {
                for (const m of r.messages) o.log(r.exitCode === 0 ? 'info' : 'error', `${what}${a.reassert ? ' (re-assert after start)' : ''}: ${m}`)
              }),
            )
          } else {
            o.log('info', `${what}: ${path} ${a.args.join(' ')}`)
            track(
              runExternalAlert(path, a.args, a.stdin, a.env, o.env, o.alertTimeoutMs).then((r) => {
                // mon ignores an alert's result; we only log a failure (it is never fatal).
                if (r.exitCode !== 0 || r.failure !== undefined) {
                  o.log('warning', `${what} failed: ${r.failure ?? `exit ${r.exitCode}`}${r.output.trim() === '' ? '' : `: ${r.output.trim().split('\n').slice(0, 3).join(' | ')}`}`)
                }
              }),
            )
          }
          break
        }
      }
    }
  }

  for (const d of diagnostics) o.log('warning', `${d.path}:${d.line ?? ''}: ${d.message}`)
  handle(sched.start(now(), wall()))
  await withTimeout(writeState(), STOP_WRITE_TIMEOUT_MS, undefined)
  arm()

  const daemon: MonDaemon = {
    config,
    state: () => state(stopping),
    async stop() {
      if (stopping) return
      stopping = true
      if (timer) clearTimeout(timer)
      for (const r of running.values()) r.kill()
      const results = [...running.values()].map((r) => r.result)
      await Promise.race([Promise.allSettled(results), new Promise((res) => setTimeout(res, STOP_MONITORS_WAIT_MS).unref())])
      await Promise.race([Promise.allSettled([...alertsInFlight]), new Promise((res) => setTimeout(res, o.alertTimeoutMs).unref())])
      await withTimeout(writeState(true), STOP_WRITE_TIMEOUT_MS, undefined)
    },
  }
  return { ok: true, daemon, diagnostics }
}
