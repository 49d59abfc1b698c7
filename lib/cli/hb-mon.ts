#!/usr/bin/env node
// hb-mon: the real-server monitor process (mon-compatible) that the lvs agent starts and stops.
//
// Contract (for the lvs agent and for tests):
//   argv     hb-mon -c /etc/mon/mon.cf [-s mondir[:dir]] [-a alertdir[:dir]] [-b basedir]
//                   [-P pidfile] [--state file] [--log file] [-f]
//   runs in the foreground (the caller puts it in its own process group); -f detaches like mon -f.
//   Monitors and alerts run in its process group: signalling the group (kill -TERM -PGID) stops
//   everything; SIGTERM/SIGINT to hb-mon alone also kills its monitors before it exits 0.
//   SIGHUP re-reads mon.cf (a file with errors is refused, the old one keeps running).
//   Exit 1 when mon.cf cannot be read or has errors (printed as path:line: message on stderr).
//   pidfile     -P, HBTS_MON_PIDFILE, default $HBTS_RUN_DIR/mon.pid (/run/heartbeat/mon.pid)
//   state file  --state, HBTS_MON_STATE, default $HBTS_RUN_DIR/mon-state.json (JSON, see lib/monitor/mon-state.ts)
//   log         every line goes where the node's heartbeat logs, as ha.cf says (logfile, debugfile,
//               logfacility; read from $HBTS_HA_DIR/ha.cf, default /etc/ha.d), as program hb-mon;
//               also to --log, HBTS_MON_LOG, default $HBTS_RUN_DIR/mon.log, and stderr. An unreadable
//               ha.cf: a warning, and only those two. `debug N` in ha.cf (N > 0) or HBTS_MON_DEBUG=1: debug lines too.
//   HBTS_IPVSADM (default ipvsadm): the ipvsadm the built-in lvs.alert runs
//   down action: HBTS_LVS_QUIESCENT=1|0 if set, else heartbeat-ts.conf `[lvs] down_action = remove|quiesce`
//   (in $HBTS_HA_DIR, default /etc/ha.d); default remove. quiesce = weight 0 instead of removing.
//   HBTS_MON_TIMEOUT (seconds, default 60): a monitor still running after this is killed and counts as failed
//   HBTS_MON_ALERT_TIMEOUT (seconds, default 30): bound for one alert
//   HBTS_MON_MONDIR / HBTS_MON_ALERTDIR: same as -s / -a
//   HBTS_MON_OWNER (PID:STARTTICKS, set by the lvs agent's hook): the node that started it; hb-mon exits
//   when that process is gone. It also exits when the directory of its pidfile vanishes or is replaced.
//   HBTS_MON_WATCH_MS (default 2000): how often both are checked.
//   Processes: chdir('/') at start (paths are made absolute first). A stop is bounded (monitors 3 s,
//   alerts HBTS_MON_ALERT_TIMEOUT, the final state write 2 s); a second SIGTERM/SIGINT exits at once,
//   SIGKILLing every process below hb-mon. hb-mon --stop stops the node's monitor (SysV stop).

import { appendFile, readFile, stat } from 'node:fs/promises'
import { hostname } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { formatDiagnostic } from '../config/diagnostics.js'
import { parseCommand } from './cli-args.js'
import { parseMonCf } from '../config/mon-cf.js'
import { parseSettings } from '../config/settings.js'
import { spawnDetached } from '../agents/agent-exec.js'
import { lvsAlertSettingsFromEnv } from '../agents/lvs-alert.js'
import type { LvsAlertSettings } from '../agents/lvs-alert.js'
import { hbMonPaths, MON_OWNER_ENV, processMonitorHook } from '../io/lvs-monitor-hook.js'
import { daemonPaths } from '../config/paths.js'
import { startMonDaemon } from '../daemon/mon-daemon.js'
import type { MonDaemon, MonDaemonOptions } from '../daemon/mon-daemon.js'
import { formatLogLine, openLogger } from '../io/logger.js'
import type { Logger } from '../io/logger.js'
import { loadLogSettings } from '../daemon/load-config.js'
import { makeDirs, withTimeout } from '../io/bounded-io.js'
import { descendants, descendantsSync } from '../io/process-tree.js'
import { liveProcessIdentity } from '../io/pid-check.js'
import type { LogLevel } from '../io/logger.js'
import { removePidFile, removePidFileSync, writePidFile } from '../io/pidfile.js'
import type { MonLogLevel } from '../monitor/mon-scheduler.js'

type Env = Readonly<Record<string, string | undefined>>

export { hbMonPaths }
export type { HbMonPaths } from '../io/lvs-monitor-hook.js'

const usage = `usage: hb-mon -c mon.cf [-s mondir[:dir]] [-a alertdir[:dir]] [-b basedir] [-P pidfile] [--state file] [--log file] [-f]
       hb-mon --stop
  The real-server monitor (mon-compatible) that the lvs resource starts and stops.
Options:
  -c, --config FILE     mon.cf to read (default /etc/mon/mon.cf)
  -s, --mondir DIRS     where monitor scripts are (colon-separated)
  -a, --alertdir DIRS   where alert scripts are (colon-separated)
  -b, --basedir DIR     base for relative mondir/alertdir
  -P, --pidfile FILE    pidfile (default /run/heartbeat-ts/mon.pid)
  --state FILE          state file (default /run/heartbeat-ts/mon-state.json)
  --log FILE            log file (default /run/heartbeat-ts/mon.log)
  -f, --fork            detach, as mon -f; prints the new pid
  --stop                stop this node's monitor (the SysV script's stop)
  --version             print the version
  -h, --help            print this help
Exit status: 0 success; 1 mon.cf unreadable or with errors, or a failed stop; 2 bad usage.
`

function seconds(env: Env, name: string, dflt: number): number {
  const v = Number(env[name])
  return Number.isFinite(v) && v > 0 ? v * 1000 : dflt * 1000
}

/** The down action: HBTS_LVS_QUIESCENT when set, else heartbeat-ts.conf's [lvs] down_action, else remove. */
export async function lvsSettings(env: Env, warn: (message: string) => void): Promise<LvsAlertSettings> {
  if ((env.HBTS_LVS_QUIESCENT ?? '') !== '') return lvsAlertSettingsFromEnv(env)
  const path = join(daemonPaths(env).haDir, 'heartbeat-ts.conf')
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch {
    return { quiescent: false }
  }
  const { settings, diagnostics } = parseSettings(text, path)
  for (const d of diagnostics) warn(formatDiagnostic(d))
  return { quiescent: settings.lvs.downAction === 'quiesce' }
}

/** After the monitors were stopped: anything still below hb-mon (an alert's grandchild) is killed. */
async function killStragglers(): Promise<void> {
  for (const pid of await descendants(process.pid)) {
    try {
      process.kill(pid, 'SIGKILL')
    } catch {
      // gone
    }
  }
}

export async function main(argv: string[]): Promise<number> {
  const parsed = parseCommand('hb-mon', usage, argv, {
    config: { type: 'string', short: 'c' },
    mondir: { type: 'string', short: 's' },
    alertdir: { type: 'string', short: 'a' },
    basedir: { type: 'string', short: 'b' },
    pidfile: { type: 'string', short: 'P' },
    state: { type: 'string' },
    log: { type: 'string' },
    fork: { type: 'boolean', short: 'f' },
    stop: { type: 'boolean' },
  })
  if (!parsed.ok) return parsed.exitCode
  const values: Record<string, string | boolean | undefined> = parsed.values
  const env = process.env
  if (values.stop) {
    // The node's monitor as the lvs agent's stop finds it (monitor.pid, then hb-mon's own pidfile), pid and command line checked.
    const r = await processMonitorHook().stop({ runDir: join(daemonPaths(env).runDir, 'lvs'), env })
    process.stdout.write(`hb-mon: ${r.ok ? r.detail : r.message}\n`)
    return r.ok ? 0 : 1
  }
  if (values.fork) {
    // mon -f: detach into a new session; the parent returns at once.
    const rest = argv.filter((a) => a !== '-f' && a !== '--fork')
    const s = spawnDetached(process.execPath, [fileURLToPath(import.meta.url), ...rest], env)
    if (!s.ok) {
      process.stderr.write(`hb-mon: ${s.message}\n`)
      return 1
    }
    process.stdout.write(`${s.pid}\n`)
    return 0
  }
  const flags: { pidfile?: string; state?: string; log?: string } = {}
  if (typeof values.pidfile === 'string') flags.pidfile = values.pidfile
  if (typeof values.state === 'string') flags.state = values.state
  if (typeof values.log === 'string') flags.log = values.log
  // Every path absolute before chdir('/'): a relative one under a deleted working directory made
  // Node's recursive mkdir spin for good, and every spawn fail.
  let abs: (p: string) => string
  try {
    const cwd = process.cwd()
    abs = (p) => resolve(cwd, p)
  } catch (err) {
    process.stderr.write(`hb-mon: the working directory is gone (${(err as Error).message}); start it from an existing one\n`)
    return 1
  }
  const monCf = abs(typeof values.config === 'string' ? values.config : daemonPaths(env).monCf)
  const given = hbMonPaths(env, flags)
  const paths = { pidFile: abs(given.pidFile), stateFile: abs(given.stateFile), logFile: abs(given.logFile) }
  const haDir = abs(daemonPaths(env).haDir)
  const split = (v: unknown): string[] | undefined => (typeof v === 'string' && v !== '' ? v.split(':').map(abs) : undefined)
  const monDirs = split(values.mondir) ?? split(env.HBTS_MON_MONDIR)
  const alertDirs = split(values.alertdir) ?? split(env.HBTS_MON_ALERTDIR)
  const baseDir = typeof values.basedir === 'string' ? abs(values.basedir) : undefined
  process.chdir('/')

  const host = hostname()
  const levelOf: Record<MonLogLevel, LogLevel> = { debug: 'debug', info: 'info', warning: 'warn', error: 'error' }
  // The node's log, as ha.cf names it: where admins look (mon logs to syslog), and it outlives a reboot, unlike /run.
  const logSettings = await loadLogSettings(haDir)
  const debug = /^(1|yes|true|on)$/i.test(env.HBTS_MON_DEBUG ?? '') || (logSettings.ok && logSettings.log.debugLevel > 0)
  let nodeLog: Logger | undefined
  if (logSettings.ok) {
    nodeLog = await openLogger({ ...logSettings.log, host, entity: 'hb-mon', debugLevel: debug ? 1 : 0 })
  }
  for (const dir of new Set([dirname(paths.pidFile), dirname(paths.stateFile), dirname(paths.logFile)])) {
    try {
      await makeDirs(dir, 0o700)
    } catch (err) {
      process.stderr.write(`hb-mon: cannot make ${dir}: ${(err as Error).message}\n`)
      return 1
    }
  }
  let logChain: Promise<void> = Promise.resolve()
  const log = (level: MonLogLevel, message: string): void => {
    if (level === 'debug' && !debug) return
    const line = `${formatLogLine(levelOf[level], message, new Date(), { syslogFormat: true, host, pid: process.pid, entity: 'hb-mon' })}\n`
    process.stderr.write(line)
    logChain = logChain.then(() => appendFile(paths.logFile, line)).catch(() => undefined)
    nodeLog?.log(levelOf[level], message)
  }
  if (!logSettings.ok) log('warning', `cannot read the node's log settings (${logSettings.message}); logging to ${paths.logFile} and standard error only`)
  /** Flushed and closed before any exit, so the last lines (why it stopped) are in the node's log. */
  const closeLogs = async (): Promise<void> => {
    await withTimeout(logChain, 1000, undefined)
    if (nodeLog) await withTimeout(nodeLog.close(), 2000, undefined)
  }

  const options: MonDaemonOptions = {
    monCfPath: monCf,
    env,
    stateFile: paths.stateFile,
    monitorTimeoutMs: seconds(env, 'HBTS_MON_TIMEOUT', 60),
    alertTimeoutMs: seconds(env, 'HBTS_MON_ALERT_TIMEOUT', 30),
    ipvsadm: env.HBTS_IPVSADM ?? 'ipvsadm',
    lvs: await lvsSettings(env, (m) => log('warning', m)),
    log,
  }
  if (monDirs) options.monDirs = monDirs
  if (alertDirs) options.alertDirs = alertDirs
  if (baseDir !== undefined) options.baseDir = baseDir

  // What ties this hb-mon to its node: the directory of its pidfile (as it is now) and the node's daemon.
  const runDir = dirname(paths.pidFile)
  const runDirId = await stat(runDir).then((st) => `${st.dev}:${st.ino}`)
  const owner = parseOwner(env[MON_OWNER_ENV])

  const started = await startMonDaemon(options)
  for (const d of started.diagnostics) process.stderr.write(`${formatDiagnostic(d)}\n`)
  if (!started.ok) {
    process.stderr.write(`hb-mon: ${started.message}\n`)
    // Started by the lvs agent, stderr goes nowhere: the node's log says why the monitor is not running.
    for (const d of started.diagnostics) nodeLog?.log(d.severity === 'error' ? 'error' : 'warn', formatDiagnostic(d))
    nodeLog?.log('error', `${started.message}; not monitoring`)
    await closeLogs()
    return 1
  }
  let daemon: MonDaemon = started.daemon
  await writePidFile(paths.pidFile, process.pid)
  log('info', `started: ${monCf}, ${daemon.config.watches.length} watches; ${options.lvs.quiescent ? 'down = weight 0' : 'down = remove'}; state in ${paths.stateFile}${owner === undefined ? '' : `; exits with node pid ${owner.pid}`}`)

  // Signal handlers do not keep Node alive; a watch list with nothing to run must not end the process.
  const keepAlive = setInterval(() => undefined, 1 << 30)
  // Each step of a stop is bounded: a stop never hangs on a file system, an alert or a child.
  const stopBoundMs = 3000 + options.alertTimeoutMs + 2000 + 1000
  return new Promise<number>((resolveExitRaw) => {
    // Armed below, once the handlers exist; cleared on every way out.
    const timers: { watch?: NodeJS.Timeout } = {}
    const resolveExit = (code: number): void => {
      clearInterval(keepAlive)
      clearInterval(timers.watch)
      resolveExitRaw(code)
    }
    let stopping = false
    let reloading: Promise<void> = Promise.resolve()
    const exitNow = (signal: string): void => {
      process.stderr.write(`hb-mon: second ${signal}: exiting now, killing every process below hb-mon\n`)
      removePidFileSync(paths.pidFile, process.pid)
      for (const pid of descendantsSync(process.pid)) {
        try {
          process.kill(pid, 'SIGKILL')
        } catch {
          // gone
        }
      }
      process.exit(1)
    }
    const shutdown = (why: string, code = 0): void => {
      stopping = true
      log('info', `${why}: stopping monitors`)
      void (async () => {
        await withTimeout(reloading, stopBoundMs, undefined)
        await withTimeout(daemon.stop(), stopBoundMs, undefined)
        await withTimeout(killStragglers(), 2000, undefined)
        await withTimeout(removePidFile(paths.pidFile, process.pid), 1000, undefined)
        await closeLogs()
        resolveExit(code)
      })()
    }
    const onStopSignal = (signal: string): void => {
      if (stopping) exitNow(signal)
      else shutdown(signal)
    }
    process.on('SIGTERM', () => onStopSignal('SIGTERM'))
    process.on('SIGINT', () => onStopSignal('SIGINT'))

    const watchMs = Number(env.HBTS_MON_WATCH_MS) > 0 ? Number(env.HBTS_MON_WATCH_MS) : 2000
    let checking = false
    timers.watch = setInterval(() => {
      if (stopping || checking) return
      checking = true
      void (async () => {
        const dirNow = await stat(runDir).then((st) => `${st.dev}:${st.ino}`, () => undefined)
        if (dirNow !== runDirId) return shutdown(`${runDir} ${dirNow === undefined ? 'is gone' : 'was replaced'}: nobody can stop this monitor any more`)
        if (owner !== undefined && String((await liveProcessIdentity(owner.pid))?.startTicks) !== owner.startTicks) return shutdown(`the node that started this monitor (pid ${owner.pid}) is gone`)
        return undefined
      })().finally(() => {
        checking = false
      })
    }, watchMs)

    let reloadBusy = false
    process.on('SIGHUP', () => {
      if (stopping || reloadBusy) return
      reloadBusy = true
      // mon: SIGHUP re-reads the configuration; a file with errors is refused and the old one keeps running.
      reloading = (async () => {
        // As heartbeat on SIGHUP: the log files are reopened (logrotate may have moved them).
        await withTimeout(nodeLog?.reopen() ?? Promise.resolve(), 2000, undefined)
        let text: string
        try {
          text = await readFile(monCf, 'utf8')
        } catch (err) {
          log('error', `SIGHUP: ${monCf}: ${(err as Error).message}; keeping the running configuration`)
          return
        }
        const check = parseMonCf(text, monCf).diagnostics.filter((d) => d.severity === 'error')
        if (check.length > 0) {
          for (const d of check) log('error', formatDiagnostic(d))
          log('error', 'SIGHUP: configuration has errors; keeping the running one')
          return
        }
        if (stopping) return
        await withTimeout(daemon.stop(), stopBoundMs, undefined)
        const next = await startMonDaemon(options)
        if (!next.ok) {
          log('error', `SIGHUP: ${next.message}; exiting`)
          if (!stopping) shutdown('SIGHUP failed', 1)
          return
        }
        daemon = next.daemon
        // A stop that came during the reload stops the new one too (shutdown waits for this promise).
        log('info', 'SIGHUP: configuration re-read')
      })().finally(() => {
        reloadBusy = false
      })
    })
  })
}

/** HBTS_MON_OWNER: `PID:STARTTICKS` of the node that started this monitor. */
function parseOwner(text: string | undefined): { pid: number; startTicks: string } | undefined {
  const m = /^(\d+):(\d+)$/.exec(text?.trim() ?? '')
  if (m === null) return undefined
  return { pid: Number(m[1]), startTicks: m[2] as string }
}

const isEntry = process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)
if (isEntry) {
  process.exitCode = await main(process.argv.slice(2))
  process.exit()
}
