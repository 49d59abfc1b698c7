#!/usr/bin/env -S node --max-semi-space-size=1
// heartbeat: the daemon command — heartbeat 3.0.6's flags (-f -k -s -r -V -d) and the init-script verbs.

import { hostname } from 'node:os'
import { readFile } from 'node:fs/promises'
import { isAbsolute, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { setTimeout as sleep } from 'node:timers/promises'
import { daemonPaths, fifoPath, controlSocketPath } from '../config/paths.js'
import type { DaemonPaths } from '../config/paths.js'
import { probeDaemon, processAlive, writePidFile, removePidFileSync } from '../io/pidfile.js'
import { describeCHeartbeat, runningDaemon } from '../io/running-daemon.js'
import type { DaemonState } from '../io/daemon-state.js'
import { writeFifoMessage } from '../io/fifo-write.js'
import { hbVersionString } from '../control/version.js'
import { parseCommand } from './cli-args.js'
import {
  isInitVerb,
  notConfiguredAnswer,
  reloadAnswer,
  restartWaitLine,
  restartWaitMs,
  standbyAnswer,
  standbyCheck,
  startAnswer,
  statusAnswer,
  stopAnswer,
  usageAnswer,
  LSB,
} from './init-verbs.js'
import type { Answer, InitVerb } from './init-verbs.js'
import { pathExists } from '../agents/path-exists.js'

type Env = Readonly<Record<string, string | undefined>>

/** What lib/daemon/run.ts exports. */
export interface DaemonModule {
  runDaemon(opts: { paths: DaemonPaths; nodeName?: string; foreground: boolean; debugLevel: number }): Promise<unknown>
}

/** What main() runs besides itself; tests inject a stand-in loop (production never loads code named at run time). */
export interface HeartbeatDeps {
  /** The daemon loop; loaded lazily so `-s`/`-k` work without the daemon's modules. */
  loadDaemon: () => Promise<DaemonModule>
  /** The script the detached daemon runs with `-f` (this file; a test entry re-runs itself). */
  script: string
}

const PRODUCTION_DEPS: HeartbeatDeps = {
  loadDaemon: () => import('../daemon/run.js'),
  script: fileURLToPath(import.meta.url),
}

const USAGE = `Usage: heartbeat [-dfkrsVlv] [start|stop|status|restart|reload|force-reload|standby]
  The heartbeat-ts daemon (heartbeat 3.0.6, release 1, haresources mode) and its init-script verbs.
Options:
  -f              run the daemon in the foreground (systemd, and the detached daemon itself)
  -k              stop the running daemon (SIGTERM) and wait until it is gone
  -s              say whether heartbeat runs (exit 0 running, 1 dead with a pidfile, 3 stopped)
  -r              reread the configuration (SIGHUP); start the daemon when it is not running
  -d              more debug output (repeat for more)
  -v              verbose: one more debug level
  -l              accepted for old scripts (ha.cf realtime off turns SCHED_RR off)
  -V              print the version (3.0.6's form)
  --version       print the command's name and version
  -h, --help      print this help
Verbs (the init script's):
  start           start the daemon in the background, unless it runs
  stop            stop the daemon and wait until it is gone
  status          as -s
  restart         stop, wait for the peer to take over, start
  reload          as -r
  force-reload    as -r
  standby         give every resource to the peer, as hb_standby
Without an option or verb: start the daemon in the background.
Exit status: 0 success; 1 failure (a bad verb too, as the init script); 2 bad usage; 3 not running.
`

function print(a: Answer): number {
  if (a.stdout) process.stdout.write(a.stdout)
  if (a.stderr) process.stderr.write(a.stderr)
  return a.exitCode
}

function hostNames(env: Env): { uname: string; nodeName: string } {
  const uname = hostname().toLowerCase()
  return { uname, nodeName: env.HBTS_NODE_NAME ?? uname }
}

/**
 * Every path of `paths` absolute (relative ones are taken from the working directory), so that the
 * process can change to / and no longer depend on a directory an admin may remove. undefined when
 * a path is relative and the working directory is already gone.
 */
export function absolutePaths(paths: DaemonPaths, cwd: () => string): DaemonPaths | undefined {
  const values = Object.values(paths) as string[]
  if (values.every((p) => isAbsolute(p))) return paths
  let base: string
  try {
    base = cwd()
  } catch {
    return undefined
  }
  return Object.fromEntries(Object.entries(paths).map(([k, v]) => [k, resolve(base, v as string)])) as unknown as DaemonPaths
}

/**
 * A pidfile naming no heartbeat-ts of ours may name the C heartbeat (the same file, a migration or a
 * rollback): its words for a refusal, or undefined.
 */
async function cHeartbeatRunning(paths: DaemonPaths, state: DaemonState): Promise<{ pid: number; words: string } | undefined> {
  if (state.kind !== 'stale') return undefined
  const d = await runningDaemon({ pidFile: paths.pidFile })
  return d.kind === 'c-heartbeat' ? { pid: d.pid, words: describeCHeartbeat(d) } : undefined
}

/** heartbeat -s / status: the C heartbeat counts as running, as its own init script would say. */
async function daemonStatus(paths: DaemonPaths): Promise<DaemonState> {
  const state = await probeDaemon(paths.pidFile)
  const c = await cHeartbeatRunning(paths, state)
  return c === undefined ? state : { kind: 'running', pid: c.pid }
}

/** The foreground daemon: take the pidfile, run the loop, give the pidfile back on exit. */
async function foreground(paths: DaemonPaths, env: Env, debugLevel: number, deps: HeartbeatDeps): Promise<number> {
  const state = await probeDaemon(paths.pidFile)
  if (state.kind === 'running' && state.pid !== process.pid) {
    process.stderr.write(`ERROR: Heartbeat already running [pid ${state.pid}].\n`)
    return LSB.failure
  }
  const c = await cHeartbeatRunning(paths, state)
  if (c !== undefined) {
    process.stderr.write(`ERROR: ${c.words} is running; stop it before starting heartbeat-ts.\n`)
    return LSB.failure
  }
  let mod: DaemonModule
  try {
    mod = await deps.loadDaemon()
  } catch (err) {
    process.stderr.write(`ERROR: cannot load the daemon loop (lib/daemon/run.js): ${(err as Error).message}\n`)
    return LSB.failure
  }
  await writePidFile(paths.pidFile, process.pid)
  process.on('exit', () => removePidFileSync(paths.pidFile, process.pid))
  const nodeName = env.HBTS_NODE_NAME
  const rc = await mod.runDaemon({
    paths,
    ...(nodeName !== undefined ? { nodeName } : {}),
    foreground: env.HBTS_DAEMONIZED !== '1',
    debugLevel,
  })
  return typeof rc === 'number' ? rc : 0
}

/** No flags: start in the background unless already running (then say so and succeed, like 3.0.6). */
async function daemonize(paths: DaemonPaths, env: Env, debugLevel: number, deps: HeartbeatDeps): Promise<{ rc: number; detail: string }> {
  const state = await probeDaemon(paths.pidFile)
  if (state.kind === 'running') {
    return { rc: 0, detail: `heartbeat: already running [pid ${state.pid}].\n` }
  }
  // Two daemons on one node would both answer for it on the wire and both take its resources.
  const c = await cHeartbeatRunning(paths, state)
  if (c !== undefined) return { rc: LSB.failure, detail: `ERROR: ${c.words} is running; stop it before starting heartbeat-ts.\n` }
  const timeoutMs = Number(env.HBTS_START_TIMEOUT_MS ?? 30_000)
  // Loaded here, not at the top: execa costs `heartbeat -k` (stop, a hand-over) more than Node's own start-up on a loaded node.
  const { startDetached } = await import('../io/daemonize.js')
  const r = await startDetached({
    script: deps.script,
    args: ['-f', ...Array.from({ length: debugLevel }, () => '-d')],
    runDir: paths.runDir,
    pidFile: paths.pidFile,
    controlSocket: controlSocketPath(paths),
    env,
    timeoutMs: Number.isFinite(timeoutMs) ? timeoutMs : 30_000,
  })
  return { rc: r.rc, detail: r.detail }
}

const KILL_POLL_MS = 50

/** -k: SIGTERM, then wait without a timeout until it is gone (heartbeat -k; the graceful stop can take long). */
async function kill(paths: DaemonPaths): Promise<{ rc: number; detail: string }> {
  const state = await probeDaemon(paths.pidFile)
  if (state.kind !== 'running') return { rc: 0, detail: 'INFO: Heartbeat already stopped.\n' }
  try {
    process.kill(state.pid, 'SIGTERM')
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'ESRCH') return { rc: 0, detail: 'INFO: Heartbeat already stopped.\n' }
    return { rc: LSB.permission, detail: `ERROR: cannot signal heartbeat [pid ${state.pid}]: ${code ?? String(err)}\n` }
  }
  // The admin waits on this loop: look often, it costs a kill(0) each time.
  while (processAlive(state.pid)) await sleep(KILL_POLL_MS)
  return { rc: 0, detail: '' }
}

/** -r: SIGHUP makes the daemon reread its configuration; not running → start it. */
async function reload(paths: DaemonPaths, env: Env, debugLevel: number, deps: HeartbeatDeps): Promise<{ rc: number; detail: string }> {
  const state = await probeDaemon(paths.pidFile)
  if (state.kind !== 'running') return daemonize(paths, env, debugLevel, deps)
  try {
    process.kill(state.pid, 'SIGHUP')
    return { rc: 0, detail: '' }
  } catch (err) {
    return { rc: LSB.permission, detail: `ERROR: cannot signal heartbeat [pid ${state.pid}]: ${String(err)}\n` }
  }
}

/** resource.d/startstop hooks of the init script (pre-start, post-start <rc>, pre-stop, post-stop <rc>). */
async function runStartStop(paths: DaemonPaths, args: string[]): Promise<void> {
  const hook = join(paths.haDir, 'resource.d', 'startstop')
  if (!(await pathExists(hook))) return
  const { execa } = await import('execa')
  await execa(hook, args, { stdio: 'inherit', reject: false, timeout: 300_000 })
}

async function initVerb(verb: InitVerb, paths: DaemonPaths, env: Env, debugLevel: number, deps: HeartbeatDeps): Promise<number> {
  const haCf = join(paths.haDir, 'ha.cf')
  const haCfText = await readFile(haCf, 'latin1').catch(() => undefined)
  if (verb === 'status') return print(statusAnswer(await daemonStatus(paths), hostNames(env)))
  if (haCfText === undefined) return print(notConfiguredAnswer(haCf))
  switch (verb) {
    case 'start': {
      await runStartStop(paths, ['pre-start'])
      const r = await daemonize(paths, env, debugLevel, deps)
      const rc = print(startAnswer(r.rc, r.rc === 0 ? '' : r.detail))
      await runStartStop(paths, ['post-start', String(rc)])
      return rc
    }
    case 'stop': {
      await runStartStop(paths, ['pre-stop'])
      const r = await kill(paths)
      const rc = print(stopAnswer(r.rc, r.rc === 0 ? '' : r.detail))
      await runStartStop(paths, ['post-stop', String(rc)])
      return rc
    }
    case 'restart': {
      const wasRunning = (await probeDaemon(paths.pidFile)).kind === 'running'
      const stopped = await kill(paths)
      const stopRc = print(stopAnswer(stopped.rc, stopped.detail))
      if (stopRc !== 0) return stopRc
      if (wasRunning) {
        // Let the peer take the resources over before we come back (init.d/heartbeat restart).
        const override = Number(env.HBTS_RESTART_WAIT_MS)
        const waitMs = Number.isFinite(override) && env.HBTS_RESTART_WAIT_MS !== undefined ? override : restartWaitMs(haCfText)
        process.stdout.write(restartWaitLine(waitMs))
        await sleep(waitMs)
        process.stdout.write('Done.\n')
      }
      const r = await daemonize(paths, env, debugLevel, deps)
      return print(startAnswer(r.rc, r.rc === 0 ? '' : r.detail))
    }
    case 'reload':
    case 'force-reload': {
      const r = await reload(paths, env, debugLevel, deps)
      return print(reloadAnswer(r.rc, r.rc === 0 ? '' : r.detail))
    }
    case 'standby': {
      const check = standbyCheck(haCfText, await probeDaemon(paths.pidFile))
      if (!check.ok) return print(check.answer)
      try {
        // What hb_standby (no argument) writes: give every resource away.
        await writeFifoMessage(fifoPath(paths), [
          ['t', 'ask_resources'],
          ['rsc_hold', 'all'],
          ['info', 'me'],
        ])
        return print(standbyAnswer(check.stdout, 0))
      } catch (err) {
        return print(standbyAnswer(check.stdout, LSB.failure, `cannot write ${fifoPath(paths)}: ${(err as Error).message}`))
      }
    }
  }
}

export async function main(argv: string[], env: Env = process.env, deps: HeartbeatDeps = PRODUCTION_DEPS): Promise<number> {
  const parsed = parseCommand(
    'heartbeat',
    USAGE,
    argv,
    {
      foreground: { type: 'boolean', short: 'f' },
      kill: { type: 'boolean', short: 'k' },
      status: { type: 'boolean', short: 's' },
      reload: { type: 'boolean', short: 'r' },
      // -V is 3.0.6's (the bare version); --version is every command's (name and version).
      'print-version': { type: 'boolean', short: 'V' },
      debug: { type: 'boolean', short: 'd', multiple: true },
      // -l (no realtime) and -v (verbose) are accepted for old scripts; ha.cf's realtime decides.
      'no-realtime': { type: 'boolean', short: 'l' },
      verbose: { type: 'boolean', short: 'v' },
    },
    // A verb and anything after it: a bad verb is the init script's usage (exit 1), below.
    Number.MAX_SAFE_INTEGER,
  )
  if (!parsed.ok) return parsed.exitCode
  const { values: o, positionals } = parsed
  // Issue 11: paths absolute, then chdir('/'), before anything is spawned; a start from a directory
  // that is later removed must not make every agent run fail (execa asks for the working directory).
  const paths = absolutePaths(daemonPaths(env), () => process.cwd())
  if (paths === undefined) {
    process.stderr.write('heartbeat: the working directory is gone and a path in HBTS_* is relative; start heartbeat from an existing directory\n')
    return LSB.failure
  }
  process.chdir('/')
  const debugLevel = (o.debug?.length ?? 0) + (o.verbose ? 1 : 0)
  const actions = [o.foreground, o.kill, o.status, o.reload, o['print-version']].filter(Boolean).length
  if (positionals.length > 0) {
    const [verb, ...extra] = positionals
    if (verb === undefined || !isInitVerb(verb) || extra.length > 0 || actions > 0) return print(usageAnswer('heartbeat'))
    return initVerb(verb, paths, env, debugLevel, deps)
  }
  if (actions > 1) {
    process.stderr.write(`heartbeat: -f, -k, -s, -r and -V exclude each other\n${USAGE}`)
    return LSB.invalidArgs
  }
  if (o['print-version']) {
    process.stdout.write(`${hbVersionString()}\n`)
    return 0
  }
  if (o.status) return print(statusAnswer(await daemonStatus(paths), hostNames(env)))
  if (o.foreground) return foreground(paths, env, debugLevel, deps)
  const r = o.kill ? await kill(paths) : o.reload ? await reload(paths, env, debugLevel, deps) : await daemonize(paths, env, debugLevel, deps)
  if (r.detail) process.stderr.write(r.detail)
  return r.rc
}

// Run only as the command, not when a test imports main().
if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === (await import('node:fs')).realpathSync(process.argv[1])) {
  process.exitCode = await main(process.argv.slice(2))
}
