// The process-based real-server monitor hook for the lvs agent (issue 5): hb-mon started in its own
// process group with the table, stopped with no orphans; and the lvs agent run with it.

import { existsSync } from 'node:fs'
import { readFile, rm } from 'node:fs/promises'
import { basename, dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { monitorOptions, type MonitorOptions } from '../agents/agent-options.js'
import { makeDirs } from './bounded-io.js'
import { writeFileAtomic } from './safe-files.js'
import { checkPid, liveProcessIdentity, readPidFileRecord, type PidExpectation } from './pid-check.js'
import { spawnDetached } from '../agents/agent-exec.js'
import { runLvs } from '../agents/lvs.js'
import type { AgentResult } from '../agents/ipaddr.js'
import type { MonitorHook } from '../agents/lvs-monitor-types.js'

export type { HookResult, MonitorHook, MonitorStartRequest, MonitorStopRequest } from '../agents/lvs-monitor-types.js'

type Env = Readonly<Record<string, string | undefined>>

export { hbMonPaths, type HbMonPaths } from '../agents/agent-options.js'

/** hb-mon's environment variable naming the node that started it (`PID:STARTTICKS`); hb-mon exits when that process is gone. */
export const MON_OWNER_ENV = 'HBTS_MON_OWNER'

/**
 * The default hook runs a monitor program in its own process group:
 *   HBTS_LVS_MONITOR_CMD (an executable; argv `-c <mon.cf>`), else `node dist/lib/cli/hb-mon.js -c <mon.cf>`
 *   when that file exists. The program must stay in the foreground (unlike `mon -f`), run its
 *   monitors and alerts in its process group, and exit on SIGTERM. <runDir>/monitor.pid holds its
 *   pid, start time and owner (the heartbeat daemon named by the node's pidfile, also given to it as
 *   HBTS_MON_OWNER); stop sends SIGTERM to the whole group and SIGKILL after HBTS_LVS_MONITOR_STOP_MS (5000).
 *
 * Leftovers (issue 11): a pid is only signalled once /proc shows the same start time and a monitor's
 * command line. Start keeps a monitor of the same owner and stops any other one named by monitor.pid
 * or by hb-mon's own pidfile (a node that crashed left it behind) before starting its own.
 */
export function processMonitorHook(): MonitorHook {
  return {
    async start(req) {
      const pidFile = join(req.runDir, 'monitor.pid')
      const o = req.options ?? monitorOptions(req.env)
      const cmd = monitorCommand(o, req.monCf)
      const owner = await nodeOwner(o)
      const notes: string[] = []
      const mine = await recordedMonitor(pidFile, cmd)
      if (mine !== undefined && mine.owner === owner) return { ok: true, detail: `monitor already running (pid ${mine.pid})` }
      if (mine !== undefined) notes.push(await stopMonitor(mine, o, req.signal, `leftover monitor (started by ${mine.owner === '' ? 'no running node' : `node ${mine.owner}`})`))
      for (const left of await leftovers(o, pidFile, cmd)) notes.push(await stopMonitor(left, o, req.signal, 'leftover monitor'))
      if (cmd === undefined) return { ok: true, detail: [...notes, 'no real-server monitor installed (set HBTS_LVS_MONITOR_CMD or build lib/cli/hb-mon.ts); the table stays as built'].join('; ') }
      if (req.signal?.aborted) return { ok: false, message: [...notes, 'monitor not started: the agent was cancelled'].join('; ') }
      const env = { ...req.env, [MON_OWNER_ENV]: owner === '' ? undefined : owner }
      const s = spawnDetached(cmd.file, cmd.args, env)
      if (!s.ok) return { ok: false, message: s.message }
      const started = await liveProcessIdentity(s.pid)
      await makeDirs(resolve(dirname(pidFile)), 0o700)
      await writeFileAtomic(pidFile, `${s.pid}\n${started?.startTicks ?? ''}\n${owner}\n`)
      return { ok: true, detail: [...notes, `monitor started: ${[cmd.file, ...cmd.args].join(' ')} (pid ${s.pid})`].join('; ') }
    },
    async stop(req) {
      const pidFile = join(req.runDir, 'monitor.pid')
      const o = req.options ?? monitorOptions(req.env)
      const cmd = monitorCommand(o, '')
      const found = await recordedMonitor(pidFile, cmd)
      const notes: string[] = []
      if (found !== undefined) notes.push(await stopMonitor(found, o, req.signal, 'monitor'))
      // hb-mon's own pidfile may name one that monitor.pid lost track of.
      for (const left of await leftovers(o, pidFile, cmd)) notes.push(await stopMonitor(left, o, req.signal, 'leftover monitor'))
      await rm(pidFile, { force: true })
      const failed = notes.filter((n) => n.includes('survived'))
      if (failed.length > 0) return { ok: false, message: failed.join('; ') }
      return { ok: true, detail: notes.length === 0 ? 'monitor not running' : notes.join('; ') }
    },
  }
}

interface FoundMonitor {
  pid: number
  /** Recorded owner ('' for none or an old pidfile). */
  owner: string
  /** false: the leader is gone but processes of its group remain (a pgid is not reused while in use). */
  leaderAlive: boolean
}

function isMonitorArgv(argv: readonly string[], cmd: { file: string } | undefined): boolean {
  return argv.some((a) => (cmd !== undefined && a === cmd.file) || basename(a) === 'hb-mon.js' || basename(a) === 'hb-mon')
}

function monitorExpectation(cmd: { file: string } | undefined): PidExpectation {
  return { argv: (argv) => isMonitorArgv(argv, cmd), what: 'the LVS monitor' }
}

/** The monitor monitor.pid names, if it is still that process (start time and command line) or its group lives on. */
async function recordedMonitor(pidFile: string, cmd: { file: string } | undefined): Promise<FoundMonitor | undefined> {
  let text: string
  try {
    text = await readFile(pidFile, 'utf8')
  } catch {
    return undefined
  }
  const [pidLine = '', ticks = '', owner = ''] = text.split('\n')
  const pid = Number(pidLine.trim())
  if (!Number.isInteger(pid) || pid <= 1) return undefined
  const verdict = await checkPid(pid, monitorExpectation(cmd), ticks.trim() !== '' ? { startTicks: Number(ticks.trim()) } : {})
  if (verdict.ok) return { pid, owner: owner.trim(), leaderAlive: true }
  // A leader that exited may leave monitors in its group; a group id stays unique while the group exists.
  if ((await liveProcessIdentity(pid)) === undefined && groupAlive(pid)) return { pid, owner: owner.trim(), leaderAlive: false }
  return undefined
}

/** A live hb-mon named by hb-mon's own pidfile that monitor.pid does not name (a node before us started it). */
async function leftovers(o: MonitorOptions, monitorPidFile: string, cmd: { file: string } | undefined): Promise<FoundMonitor[]> {
  const recorded = await recordedMonitor(monitorPidFile, cmd)
  let text: string
  try {
    text = await readFile(o.hbMonPidFile, 'utf8')
  } catch {
    return []
  }
  const pid = Number(text.split('\n')[0]?.trim())
  if (!Number.isInteger(pid) || pid <= 1 || pid === recorded?.pid || pid === process.pid) return []
  const verdict = await checkPid(pid, monitorExpectation(cmd))
  return verdict.ok ? [{ pid, owner: '', leaderAlive: true }] : []
}

/** SIGTERM to the monitor's group (to the process alone when it leads no group), SIGKILL after the grace or at cancellation. */
async function stopMonitor(m: FoundMonitor, o: MonitorOptions, signal: AbortSignal | undefined, what: string): Promise<string> {
  const limitMs = o.stopGraceMs
  const id = m.leaderAlive ? await liveProcessIdentity(m.pid) : undefined
  const asGroup = !m.leaderAlive || id?.pgrp === m.pid
  const send = (sig: NodeJS.Signals): void => {
    try {
      process.kill(asGroup ? -m.pid : m.pid, sig)
    } catch {
      // already gone
    }
  }
  const alive = (): boolean => (asGroup ? groupAlive(m.pid) : processAliveNow(m.pid))
  const startedAt = performance.now()
  send('SIGTERM')
  const deadline = startedAt + limitMs
  // hb-mon usually ends within tens of ms, and a graceful hand-over waits on this stop: look again
  // soon at first (2, 4, 8 … ms), then every 50 ms, instead of a fixed 50 ms that adds 25 on average.
  let pauseMs = 2
  while (alive() && performance.now() < deadline && !(signal?.aborted ?? false)) {
    await delay(pauseMs)
    pauseMs = Math.min(50, pauseMs * 2)
  }
  let how = 'SIGTERM'
  if (alive()) {
    send('SIGKILL')
    how = signal?.aborted ? 'SIGKILL (the agent was cancelled)' : `SIGKILL after ${limitMs} ms`
    for (let i = 0; i < 40 && alive(); i++) await delay(25)
  }
  if (alive()) return `${what} ${asGroup ? 'process group' : 'process'} ${m.pid} survived SIGKILL`
  // the time is in the agent's output: a slow monitor shows up in the log of every hand-over
  return `${what} stopped (pid ${m.pid}, ${how}, in ${Math.round(performance.now() - startedAt)} ms)`
}

/** The heartbeat daemon of this node (named by its pidfile) as `PID:STARTTICKS`, or '' when none runs. */
async function nodeOwner(o: MonitorOptions): Promise<string> {
  // Our daemon writes `PID\nstart_ticks N\n`, 3.0.6 `PID\n`: read either, never follow a link.
  const rec = await readPidFileRecord(o.nodePidFile)
  const id = rec === undefined ? undefined : await liveProcessIdentity(rec.pid)
  return id === undefined ? '' : `${id.pid}:${id.startTicks}`
}

function processAliveNow(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}
function monitorCommand(o: MonitorOptions, monCf: string): { file: string; args: string[] } | undefined {
  if (o.command !== undefined) return { file: o.command, args: ['-c', monCf] }
  const builtIn = join(dirname(fileURLToPath(import.meta.url)), '..', 'cli', 'hb-mon.js')
  if (existsSync(builtIn)) return { file: process.execPath, args: [builtIn, '-c', monCf] }
  return undefined
}

/** True while any process of the group (leader or a child monitor) exists. */
function groupAlive(pid: number): boolean {
  try {
    process.kill(-pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

/** The lvs agent with the process-based monitor (what resource.d/lvs and the daemon's built-in run). */
export function runLvsAgent(args: string[], op: string, env: Env, signal?: AbortSignal): Promise<AgentResult> {
  return runLvs(args, op, env, { monitor: processMonitorHook(), ...(signal !== undefined ? { signal } : {}) })
}
