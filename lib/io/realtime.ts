// ha.cf `realtime on`: heartbeat 3.0.6 runs SCHED_RR (priority 1 as Debian ships it) so a busy machine
// cannot starve its heartbeats. Node has no sched_setscheduler, so chrt(1) sets it on every thread of
// this process from outside (the event loop, V8's GC helpers, libuv's pool), with SCHED_RESET_ON_FORK
// so the agents and scripts the daemon starts run at normal priority. Without chrt or the privilege,
// the main thread's nice level is raised instead.

import { setPriority } from 'node:os'
import { execa } from 'execa'

/** 3.0.6's priority as it runs here (ps -o rtprio of its processes). */
export const REALTIME_PRIORITY = 1
/** The fallback: a better nice level for the main thread. */
export const REALTIME_NICE = -10

export type PriorityOutcome = { kind: 'rr'; priority: number } | { kind: 'nice'; nice: number; why: string } | { kind: 'none'; why: string }

export async function raiseSchedulingPriority(pid: number, chrt = 'chrt'): Promise<PriorityOutcome> {
  const r = await execa(chrt, ['--rr', '--reset-on-fork', '--all-tasks', '--pid', String(REALTIME_PRIORITY), String(pid)], {
    reject: false,
    timeout: 5000,
    stdin: 'ignore',
  })
  if (r.exitCode === 0) return { kind: 'rr', priority: REALTIME_PRIORITY }
  const why = `${chrt}: ${String(r.stderr).trim() || r.shortMessage}`
  if (pid !== process.pid) return { kind: 'none', why }
  try {
    setPriority(0, REALTIME_NICE)
    return { kind: 'nice', nice: REALTIME_NICE, why }
  } catch (err) {
    return { kind: 'none', why: `${why}; setpriority: ${(err as Error).message}` }
  }
}
