// The contract between the lvs agent and the real-server monitor (issue 5): start it with the table, stop it with no orphans.

import { existsSync } from 'node:fs'
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { spawnDetached } from './agent-exec.js'
import type { LvsTable } from './lvs-table.js'

type Env = Readonly<Record<string, string | undefined>>

export type HookResult = { ok: true; detail: string } | { ok: false; message: string }

export interface MonitorStartRequest {
  /** mon.cf to run (HBTS_MON_CF, default /etc/mon/mon.cf); it exists when start is called. */
  monCf: string
  /** The table lvs has just installed, for a monitor that wants to re-assert it. */
  table: LvsTable
  /** Where lvs keeps its runtime files; the hook may keep its pidfile there. */
  runDir: string
  env: Env
}

export interface MonitorStopRequest {
  runDir: string
  env: Env
}

/**
 * What lvs calls. Both must be idempotent: start while running keeps the one monitor, stop while
 * stopped succeeds. Stop must not return before the monitor and its child monitors are gone.
 */
export interface MonitorHook {
  start(req: MonitorStartRequest): Promise<HookResult>
  stop(req: MonitorStopRequest): Promise<HookResult>
}

/**
 * The default hook runs a monitor program in its own process group:
 *   HBTS_LVS_MONITOR_CMD (an executable; argv `-c <mon.cf>`), else `node dist/lib/cli/hb-mon.js -c <mon.cf>`
 *   when that file exists. The program must stay in the foreground (unlike `mon -f`), run its
 *   monitors and alerts in its process group, and exit on SIGTERM. The pid goes to
 *   <runDir>/monitor.pid; stop sends SIGTERM to the whole group and SIGKILL after HBTS_LVS_MONITOR_STOP_MS (5000).
 */
export function processMonitorHook(): MonitorHook {
  return {
    async start(req) {
      const pidFile = join(req.runDir, 'monitor.pid')
      const live = await livePid(pidFile)
      if (live !== undefined) return { ok: true, detail: `monitor already running (pid ${live})` }
      const cmd = monitorCommand(req.env, req.monCf)
      if (cmd === undefined) return { ok: true, detail: 'no real-server monitor installed (set HBTS_LVS_MONITOR_CMD or build lib/cli/hb-mon.ts); the table stays as built' }
      const s = spawnDetached(cmd.file, cmd.args, req.env)
      if (!s.ok) return { ok: false, message: s.message }
      await mkdir(dirname(pidFile), { recursive: true, mode: 0o700 })
      await writeFile(pidFile, `${s.pid}\n`)
      return { ok: true, detail: `monitor started: ${[cmd.file, ...cmd.args].join(' ')} (pid ${s.pid})` }
    },
    async stop(req) {
      const pidFile = join(req.runDir, 'monitor.pid')
      const pid = await livePid(pidFile)
      if (pid === undefined) {
        await rm(pidFile, { force: true })
        return { ok: true, detail: 'monitor not running' }
      }
      const limitMs = Number(req.env.HBTS_LVS_MONITOR_STOP_MS ?? '5000') || 5000
      signalGroup(pid, 'SIGTERM')
      const deadline = performance.now() + limitMs
      while (groupAlive(pid) && performance.now() < deadline) await delay(50)
      let how = 'SIGTERM'
      if (groupAlive(pid)) {
        signalGroup(pid, 'SIGKILL')
        how = `SIGKILL after ${limitMs} ms`
        for (let i = 0; i < 40 && groupAlive(pid); i++) await delay(25)
      }
      await rm(pidFile, { force: true })
      return groupAlive(pid) ? { ok: false, message: `monitor process group ${pid} survived SIGKILL` } : { ok: true, detail: `monitor stopped (pid ${pid}, ${how})` }
    },
  }
}

function monitorCommand(env: Env, monCf: string): { file: string; args: string[] } | undefined {
  const custom = env.HBTS_LVS_MONITOR_CMD
  if (custom !== undefined && custom !== '') return { file: custom, args: ['-c', monCf] }
  const builtIn = join(dirname(fileURLToPath(import.meta.url)), '..', 'cli', 'hb-mon.js')
  if (existsSync(builtIn)) return { file: process.execPath, args: [builtIn, '-c', monCf] }
  return undefined
}

async function livePid(pidFile: string): Promise<number | undefined> {
  let text: string
  try {
    text = await readFile(pidFile, 'utf8')
  } catch {
    return undefined
  }
  const pid = Number(text.trim())
  if (!Number.isInteger(pid) || pid <= 1) return undefined
  return groupAlive(pid) ? pid : undefined
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal)
  } catch {
    // group already gone
  }
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
