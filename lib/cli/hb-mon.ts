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
//   log         --log, HBTS_MON_LOG, default $HBTS_RUN_DIR/mon.log (and stderr)
//   HBTS_IPVSADM (default ipvsadm): the ipvsadm the built-in lvs.alert runs
//   down action: HBTS_LVS_QUIESCENT=1|0 if set, else heartbeat-ts.conf `[lvs] down_action = remove|quiesce`
//   (in $HBTS_HA_DIR, default /etc/ha.d); default remove. quiesce = weight 0 instead of removing.
//   HBTS_MON_TIMEOUT (seconds, default 60): a monitor still running after this is killed and counts as failed
//   HBTS_MON_ALERT_TIMEOUT (seconds, default 30): bound for one alert
//   HBTS_MON_MONDIR / HBTS_MON_ALERTDIR: same as -s / -a

import { appendFile, mkdir, readFile } from 'node:fs/promises'
import { hostname } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { formatDiagnostic } from '../config/diagnostics.js'
import { parseMonCf } from '../config/mon-cf.js'
import { parseSettings } from '../config/settings.js'
import { spawnDetached } from '../agents/agent-exec.js'
import { lvsAlertSettingsFromEnv } from '../agents/lvs-alert.js'
import type { LvsAlertSettings } from '../agents/lvs-alert.js'
import { daemonPaths } from '../daemon/paths.js'
import { startMonDaemon } from '../daemon/mon-daemon.js'
import type { MonDaemon, MonDaemonOptions } from '../daemon/mon-daemon.js'
import { formatLogLine } from '../io/logger.js'
import { descendants } from '../io/process-tree.js'
import type { LogLevel } from '../io/logger.js'
import { removePidFile, writePidFile } from '../io/pidfile.js'
import type { MonLogLevel } from '../monitor/mon-scheduler.js'

type Env = Readonly<Record<string, string | undefined>>

export interface HbMonPaths {
  pidFile: string
  stateFile: string
  logFile: string
}

/** Where hb-mon keeps its files (flags win over environment, environment over defaults). */
export function hbMonPaths(env: Env, flags: { pidfile?: string; state?: string; log?: string } = {}): HbMonPaths {
  const runDir = daemonPaths(env).runDir
  return {
    pidFile: flags.pidfile ?? env.HBTS_MON_PIDFILE ?? join(runDir, 'mon.pid'),
    stateFile: flags.state ?? env.HBTS_MON_STATE ?? join(runDir, 'mon-state.json'),
    logFile: flags.log ?? env.HBTS_MON_LOG ?? join(runDir, 'mon.log'),
  }
}

const usage = 'usage: hb-mon -c mon.cf [-s mondir] [-a alertdir] [-b basedir] [-P pidfile] [--state file] [--log file] [-f]\n'

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
  let values: Record<string, string | boolean | undefined>
  try {
    values = parseArgs({
      args: argv,
      options: {
        config: { type: 'string', short: 'c' },
        mondir: { type: 'string', short: 's' },
        alertdir: { type: 'string', short: 'a' },
        basedir: { type: 'string', short: 'b' },
        pidfile: { type: 'string', short: 'P' },
        state: { type: 'string' },
        log: { type: 'string' },
        fork: { type: 'boolean', short: 'f' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    }).values
  } catch (err) {
    process.stderr.write(`hb-mon: ${(err as Error).message}\n${usage}`)
    return 2
  }
  if (values.help) {
    process.stdout.write(usage)
    return 0
  }
  const env = process.env
  const monCf = resolve(typeof values.config === 'string' ? values.config : daemonPaths(env).monCf)
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
  const paths = hbMonPaths(env, flags)

  const host = hostname()
  const levelOf: Record<MonLogLevel, LogLevel> = { debug: 'debug', info: 'info', warning: 'warn', error: 'error' }
  const debug = /^(1|yes|true|on)$/i.test(env.HBTS_MON_DEBUG ?? '')
  let logChain: Promise<void> = mkdir(dirname(paths.logFile), { recursive: true }).then(() => undefined, () => undefined)
  const log = (level: MonLogLevel, message: string): void => {
    if (level === 'debug' && !debug) return
    const line = `${formatLogLine(levelOf[level], message, new Date(), { syslogFormat: true, host, pid: process.pid, entity: 'hb-mon' })}\n`
    process.stderr.write(line)
    logChain = logChain.then(() => appendFile(paths.logFile, line)).catch(() => undefined)
  }

  const split = (v: unknown): string[] | undefined => (typeof v === 'string' && v !== '' ? v.split(':') : undefined)
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
  const monDirs = split(values.mondir) ?? split(env.HBTS_MON_MONDIR)
  const alertDirs = split(values.alertdir) ?? split(env.HBTS_MON_ALERTDIR)
  if (monDirs) options.monDirs = monDirs
  if (alertDirs) options.alertDirs = alertDirs
  if (typeof values.basedir === 'string') options.baseDir = values.basedir

  const started = await startMonDaemon(options)
  for (const d of started.diagnostics) process.stderr.write(`${formatDiagnostic(d)}\n`)
  if (!started.ok) {
    process.stderr.write(`hb-mon: ${started.message}\n`)
    return 1
  }
  let daemon: MonDaemon = started.daemon
  await writePidFile(paths.pidFile, process.pid)
  log('info', `started: ${monCf}, ${daemon.config.watches.length} watches; ${options.lvs.quiescent ? 'down = weight 0' : 'down = remove'}; state in ${paths.stateFile}`)

  // Signal handlers do not keep Node alive; a watch list with nothing to run must not end the process.
  const keepAlive = setInterval(() => undefined, 1 << 30)
  return new Promise<number>((resolveExitRaw) => {
    const resolveExit = (code: number): void => {
      clearInterval(keepAlive)
      resolveExitRaw(code)
    }
    let busy = false
    const shutdown = (signal: string): void => {
      if (busy) return
      busy = true
      log('info', `${signal}: stopping monitors`)
      void daemon
        .stop()
        .then(killStragglers)
        .then(() => removePidFile(paths.pidFile, process.pid))
        .then(() => logChain)
        .then(() => resolveExit(0))
    }
    process.on('SIGTERM', () => shutdown('SIGTERM'))
    process.on('SIGINT', () => shutdown('SIGINT'))
    process.on('SIGHUP', () => {
      if (busy) return
      busy = true
      // mon: SIGHUP re-reads the configuration; a file with errors is refused and the old one keeps running.
      void (async () => {
        let text: string
        try {
          text = await readFile(monCf, 'utf8')
        } catch (err) {
          log('error', `SIGHUP: ${monCf}: ${(err as Error).message}; keeping the running configuration`)
          busy = false
          return
        }
        const check = parseMonCf(text, monCf).diagnostics.filter((d) => d.severity === 'error')
        if (check.length > 0) {
          for (const d of check) log('error', formatDiagnostic(d))
          log('error', 'SIGHUP: configuration has errors; keeping the running one')
          busy = false
          return
        }
        await daemon.stop()
        const next = await startMonDaemon(options)
        if (next.ok) {
          daemon = next.daemon
          log('info', 'SIGHUP: configuration re-read')
          busy = false
        } else {
          log('error', `SIGHUP: ${next.message}; exiting`)
          await removePidFile(paths.pidFile, process.pid)
          resolveExit(1)
        }
      })()
    })
  })
}

const isEntry = process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)
if (isEntry) {
  process.exitCode = await main(process.argv.slice(2))
  process.exit()
}
