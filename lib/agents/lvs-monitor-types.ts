// The contract between the lvs agent and its real-server monitor (issue 5): the agent starts it with
// the table and stops it with no orphans. The process-based hook lives in lib/io/lvs-monitor-hook.ts.

import type { MonitorOptions } from './agent-options.js'
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
  /** For the monitor process. */
  env: Env
  /** The hook's settings as the agent read them; from `env` when absent. */
  options?: MonitorOptions
  /** The agent's cancellation: nothing is started once it fired. */
  signal?: AbortSignal
}

export interface MonitorStopRequest {
  runDir: string
  env: Env
  options?: MonitorOptions
  /** The agent's cancellation: the monitor gets SIGKILL at once instead of its grace. */
  signal?: AbortSignal
}

/**
 * What lvs calls. Both must be idempotent: start while running keeps the one monitor, stop while
 * stopped succeeds. Stop must not return before the monitor and its child monitors are gone.
 */
export interface MonitorHook {
  start(req: MonitorStartRequest): Promise<HookResult>
  stop(req: MonitorStopRequest): Promise<HookResult>
}

