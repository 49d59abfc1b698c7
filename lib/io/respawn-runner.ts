// ha.cf `respawn USER COMMAND` clients on the host: the account looked up (NSS, getent), the
// command run as that user with the account's uid, gid and supplementary groups, in its own process
// group, restarted and stopped as the pure core (lib/resources/respawn.ts) decides.

import { access, readdir, readFile, stat } from 'node:fs/promises'
import { constants } from 'node:fs'
import { execa, type ResultPromise } from 'execa'
import type { Diagnostic } from '../config/diagnostics.js'
import type { ClientChild } from '../config/ha-cf.js'
import type { LogLevel } from '../config/log-level.js'
import { RESPAWN_STOP_KILL_AFTER_MS, RespawnClients, type RespawnAction, type RespawnExit } from '../resources/respawn.js'
import { parseStatLine } from './pid-check.js'
import { withTimeout } from './bounded-io.js'

/** A getent lookup never holds a start or a check up longer than this. */
const LOOKUP_TIMEOUT_MS = 5000
/** A line of a client's output longer than this is cut (the logger bounds it again). */
const OUTPUT_LINE_MAX = 1024
/** How long past SIGKILL a stop still waits for a client's exit to be reaped. */
const STOP_REAP_GRACE_MS = 5000
/** At most this many output lines per client and minute reach the log; the rest is counted. */
const OUTPUT_LINES_PER_MINUTE = 60

export interface Account {
  name: string
  uid: number
  gid: number
}

/** The account as NSS knows it (getent passwd), as 3.0.6's getpwnam; undefined when there is none. */
export async function lookupAccount(user: string, env: Readonly<Record<string, string | undefined>> = process.env): Promise<Account | undefined> {
  const r = await execa('getent', ['passwd', user], { reject: false, timeout: LOOKUP_TIMEOUT_MS, env: { PATH: env.PATH ?? '/usr/bin:/bin' }, extendEnv: false, stdin: 'ignore' })
  if (r.exitCode !== 0) return undefined
  const fields = String(r.stdout).split('\n')[0]?.split(':') ?? []
  const uid = Number(fields[2])
  const gid = Number(fields[3])
  if (fields[0] === undefined || !Number.isInteger(uid) || !Number.isInteger(gid)) return undefined
  return { name: fields[0], uid, gid }
}

/** Why `path` cannot be run (3.0.6 checks access(X_OK) at start); undefined when it can. */
export async function notExecutable(path: string): Promise<string | undefined> {
  try {
    const st = await stat(path)
    if (!st.isFile()) return 'is not a regular file'
    await access(path, constants.X_OK)
    return undefined
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    return code === 'ENOENT' ? 'does not exist' : code === 'EACCES' ? 'is not executable' : String(code ?? err)
  }
}

export interface ResolvedClient {
  child: ClientChild
  account: Account
}

/**
 * The clients' accounts and programs, checked as 3.0.6 checks them before it starts (config.c:
 * an unknown user or a command that is not an executable absolute path stops the start).
 */
export async function resolveClients(children: readonly ClientChild[], haCfPath: string, env?: Readonly<Record<string, string | undefined>>): Promise<{ clients: ResolvedClient[]; diagnostics: Diagnostic[] }> {
  const clients: ResolvedClient[] = []
  const diagnostics: Diagnostic[] = []
  for (const child of children) {
    const at = { path: haCfPath, line: child.line, severity: 'error' as const }
    const account = await lookupAccount(child.user, env)
    if (account === undefined) diagnostics.push({ ...at, message: `respawn: user ${JSON.stringify(child.user)} does not exist (getent passwd); heartbeat cannot run ${child.path} as that user` })
    const why = child.path.startsWith('/') ? await notExecutable(child.path) : 'is not an absolute path'
    if (why !== undefined) diagnostics.push({ ...at, message: `respawn: ${JSON.stringify(child.path)} ${why}` })
    if (account !== undefined && why === undefined) clients.push({ child, account })
  }
  return { clients, diagnostics }
}

/**
 * The argv that runs `command` as `account`: 3.0.6 forks, calls initgroups/setgid/setuid and execs
 * `/bin/sh -c "exec COMMAND"`; setpriv does the same three calls (libuv's uid/gid options would drop
 * the supplementary groups instead of setting the account's). Running as ourselves needs no setpriv.
 */
export function clientArgv(command: string, account: Account, ourUid: number): string[] {
  const sh = ['/bin/sh', '-c', `exec ${command}`]
  if (account.uid === ourUid) return sh
  return ['setpriv', `--reuid=${account.uid}`, `--regid=${account.gid}`, '--init-groups', '--', ...sh]
}

/** Cuts a stream into lines, each at most OUTPUT_LINE_MAX characters: a client writing without newlines cannot grow our memory. */
function lineSplitter(onLine: (line: string) => void): { push: (chunk: Buffer) => void; end: () => void } {
  let pending = ''
  return {
    push(chunk) {
      pending += chunk.toString('latin1')
      for (;;) {
        const nl = pending.indexOf('\n')
        if (nl < 0) break
        onLine(pending.slice(0, Math.min(nl, OUTPUT_LINE_MAX)))
        pending = pending.slice(nl + 1)
      }
      if (pending.length > OUTPUT_LINE_MAX) {
        onLine(`${pending.slice(0, OUTPUT_LINE_MAX)}…`)
        pending = ''
      }
    },
    end() {
      if (pending !== '') onLine(pending)
      pending = ''
    },
  }
}

export interface RespawnRunnerOptions {
  clients: readonly ResolvedClient[]
  /** The environment clients get (heartbeat's own, HA_* from ha.cf env lines). */
  env: Readonly<Record<string, string | undefined>>
  log: (level: LogLevel, text: string) => void
  /** Tests: the SIGTERM-to-SIGKILL bound of a stop. */
  killAfterMs?: number
  nowMs?: () => number
}

/**
 * The shell around RespawnClients: spawns, reaps, signals process groups, forwards output to the
 * log, and keeps the one timer the core's next deadline asks for.
 */
export class RespawnRunner {
  private readonly core: RespawnClients
  private readonly o: RespawnRunnerOptions
  private readonly nowMs: () => number
  private readonly killAfterMs: number
  /** Process groups of the clients started this life (pgid → the client's uid), for the sweep at stop. */
  private readonly groups = new Map<number, number>()
  private timer: NodeJS.Timeout | undefined
  private stoppedWaiters: Array<() => void> = []
  /** Output lines logged per client in the current minute, and when that minute began. */
  private readonly budget = new Map<number, { since: number; lines: number; dropped: number }>()

  constructor(o: RespawnRunnerOptions) {
    this.o = o
    this.nowMs = o.nowMs ?? (() => performance.now())
    this.killAfterMs = o.killAfterMs ?? RESPAWN_STOP_KILL_AFTER_MS
    this.core = new RespawnClients(
      o.clients.map((c) => ({ user: c.child.user, command: c.child.command, line: c.child.line })),
      { killAfterMs: this.killAfterMs },
    )
  }

  get count(): number {
    return this.core.count
  }

  /** Pids of the clients running now (hbctl status, tests). */
  runningPids(): number[] {
    return this.core.runningPids().map((p) => p.pid)
  }

  /** Communication is up: start them all (once). */
  start(): void {
    this.act(this.core.start(this.nowMs()))
  }

  /**
   * Stop them all (last started first); resolves when every client has exited and what earlier runs
   * left in their process groups (a child a killed client had forked) is killed too.
   */
  async stop(): Promise<void> {
    const done = new Promise<boolean>((resolve) => this.stoppedWaiters.push(() => resolve(true)))
    this.act(this.core.stop(this.nowMs()))
    // a process SIGKILL cannot end (stuck in the kernel) must not hold the daemon's exit for ever
    const boundMs = (this.killAfterMs + STOP_REAP_GRACE_MS) * Math.max(1, this.core.count)
    if (!(await withTimeout(done, boundMs, false))) this.o.log('error', `respawn clients still not gone ${Math.round(boundMs / 1000)} s after the stop began: going on without them`)
    const left = await this.sweep()
    if (left > 0) this.o.log('info', `Killed ${left} leftover process(es) of respawn clients.`)
  }

  /** SIGKILL to every process still in a client's process group, owned by that client's user. */
  private async sweep(): Promise<number> {
    if (this.groups.size === 0) return 0
    let names: string[]
    try {
      names = await readdir('/proc')
    } catch {
      return 0
    }
    let killed = 0
    await Promise.all(
      names.filter((n) => /^\d+$/.test(n)).map(async (n) => {
        try {
          const [line, st] = await Promise.all([readFile(`/proc/${n}/stat`, 'latin1'), stat(`/proc/${n}`)])
          const f = parseStatLine(line)
          // the same group and the same owner: a recycled pgid of someone else's is left alone
          if (f === undefined || f.state === 'Z' || this.groups.get(f.pgrp) !== st.uid) return
          process.kill(Number(n), 'SIGKILL')
          killed++
        } catch {
          // gone meanwhile
        }
      }),
    )
    return killed
  }

  private act(actions: readonly RespawnAction[]): void {
    for (const a of actions) {
      switch (a.type) {
        case 'log':
          this.o.log(a.level, a.text)
          break
        case 'spawn':
          this.spawn(a.index)
          break
        case 'signal':
          try {
            // the client's whole process group: what it forked goes with it
            process.kill(-a.pid, a.signal)
          } catch {
            // already gone: its exit is on its way
          }
          break
      }
    }
    if (this.core.stopped) {
      const waiters = this.stoppedWaiters
      this.stoppedWaiters = []
      for (const w of waiters) w()
    }
    this.arm()
  }

  private arm(): void {
    if (this.timer !== undefined) clearTimeout(this.timer)
    this.timer = undefined
    const at = this.core.nextDeadline()
    if (at === undefined) return
    this.timer = setTimeout(() => {
      this.timer = undefined
      this.act(this.core.tick(this.nowMs()))
    }, Math.max(0, at - this.nowMs()))
  }

  private spawn(index: number): void {
    const c = this.o.clients[index]
    if (c === undefined) return
    void notExecutable(c.child.path).then((why) => {
      // 3.0.6 checks access() before each fork: a program removed meanwhile is not started
      if (why !== undefined) return this.act(this.core.spawnFailed(index, `${c.child.path} ${why}`, this.nowMs()))
      let proc: ResultPromise
      try {
        // A daemon: no timeout; stopped by the core's SIGTERM/SIGKILL. Its own session and process
        // group (3.0.6: setpgid), no stdin of ours, output to our log.
        const [file, ...args] = clientArgv(c.child.command, c.account, process.getuid?.() ?? -1)
        proc = execa(file as string, args, { env: { ...this.o.env }, extendEnv: false, stdin: 'ignore', stdout: 'pipe', stderr: 'pipe', detached: true, cleanup: false, buffer: false, reject: false, cwd: '/' })
      } catch (err) {
        return this.act(this.core.spawnFailed(index, (err as Error).message, this.nowMs()))
      }
      const pid = proc.pid
      if (pid === undefined) {
        void proc.catch(() => undefined)
        return this.act(this.core.spawnFailed(index, 'spawn failed', this.nowMs()))
      }
      this.groups.set(pid, c.account.uid)
      for (const [name, stream] of [['stdout', proc.stdout], ['stderr', proc.stderr]] as const) {
        const split = lineSplitter((line) => this.output(index, name, line))
        stream?.on('data', (b: Buffer) => split.push(b))
        stream?.on('end', () => split.end())
      }
      this.act(this.core.started(index, pid, this.nowMs()))
      // The process's own exit, not the end of its output: what it forked may hold the pipes open.
      proc.once('exit', (code, signal) => {
        const how: RespawnExit = signal !== null ? { signal } : { code: code ?? -1 }
        this.act(this.core.exited(index, how, this.nowMs()))
      })
      void proc.catch(() => undefined)
    })
  }

  /** One line a client wrote: to our log at info, escaped and bounded by the logger, at most 60 a minute. */
  private output(index: number, stream: 'stdout' | 'stderr', line: string): void {
    const now = this.nowMs()
    const b = this.budget.get(index) ?? { since: now, lines: 0, dropped: 0 }
    this.budget.set(index, b)
    const command = this.o.clients[index]?.child.path ?? '?'
    if (now - b.since >= 60_000) {
      if (b.dropped > 0) this.o.log('warn', `respawn ${command}: ${b.dropped} more output line(s) not logged`)
      b.since = now
      b.lines = 0
      b.dropped = 0
    }
    if (b.lines >= OUTPUT_LINES_PER_MINUTE) {
      if (b.dropped++ === 0) this.o.log('warn', `respawn ${command}: more than ${OUTPUT_LINES_PER_MINUTE} output lines this minute; the rest of the minute's are not logged`)
      return
    }
    b.lines++
    this.o.log('info', `respawn ${command} ${stream}: ${line}`)
  }
}
