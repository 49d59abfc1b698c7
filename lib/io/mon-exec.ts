// Running mon's external monitors and alerts: argv arrays, stdin, merged output, environment; killable as a tree.

import { execa } from 'execa'
import { killTree } from './process-tree.js'
import type { MonitorResult } from '../monitor/mon-scheduler.js'

type Env = Readonly<Record<string, string | undefined>>

export interface RunningMonitor {
  result: Promise<MonitorResult>
  /** SIGTERM to the monitor and its children, SIGKILL after graceMs. */
  kill(graceMs?: number): void
}

/**
 * mon run_monitor: stdin /dev/null, stderr merged into stdout, environment = ours + the MON_* set.
 * The child stays in our process group, so stopping the group leaves no monitor behind.
 */
export function startExternalMonitor(path: string, args: readonly string[], env: Record<string, string>, baseEnv: Env): RunningMonitor {
  let child: ReturnType<typeof execa> | undefined
  let result: Promise<MonitorResult>
  try {
    child = execa(path, [...args], {
      stdin: 'ignore',
      all: true,
      reject: false,
      stripFinalNewline: false,
      env: { ...baseEnv, ...env } as Record<string, string>,
      extendEnv: false,
      maxBuffer: 1 << 20,
    })
    const c = child
    result = c.then((r): MonitorResult => {
      const output = typeof r.all === 'string' ? r.all : ''
      if (typeof r.exitCode === 'number') return { kind: 'exited', exitCode: r.exitCode, output }
      if (r.signal !== undefined) return { kind: 'signalled', signal: r.signal, output }
      return { kind: 'spawn-failed', message: r.shortMessage ?? 'could not run' }
    }, (err: unknown) => ({ kind: 'spawn-failed', message: (err as Error).message }))
  } catch (err) {
    result = Promise.resolve({ kind: 'spawn-failed', message: (err as Error).message })
  }
  return {
    result,
    kill(graceMs = 2000) {
      const pid = child?.pid
      if (pid === undefined) return
      void killTree(pid, 'SIGTERM')
      const t = setTimeout(() => void killTree(pid, 'SIGKILL'), graceMs)
      t.unref()
      void result.then(() => clearTimeout(t))
    },
  }
}

export interface AlertRun {
  exitCode: number
  output: string
  failure?: string
}

/**
 * mon call_alert: the monitor output on stdin, result ignored by mon; we wait for it only to log a
 * failure. Bounded by timeoutMs (the alert and its children are killed).
 */
export async function runExternalAlert(path: string, args: readonly string[], stdin: string, env: Record<string, string>, baseEnv: Env, timeoutMs: number): Promise<AlertRun> {
  let child: ReturnType<typeof execa>
  try {
    child = execa(path, [...args], {
      input: stdin,
      all: true,
      reject: false,
      stripFinalNewline: false,
      env: { ...baseEnv, ...env } as Record<string, string>,
      extendEnv: false,
      maxBuffer: 1 << 20,
    })
  } catch (err) {
    return { exitCode: 255, output: '', failure: (err as Error).message }
  }
  const pid = child.pid
  let timedOut = false
  const timer = setTimeout(() => {
    timedOut = true
    if (pid !== undefined) void killTree(pid, 'SIGKILL')
  }, timeoutMs)
  timer.unref()
  const r = await child
  clearTimeout(timer)
  const output = typeof r.all === 'string' ? r.all : ''
  if (timedOut) return { exitCode: 255, output, failure: `killed after ${timeoutMs} ms` }
  if (typeof r.exitCode === 'number') return { exitCode: r.exitCode, output }
  return { exitCode: 255, output, failure: r.signal !== undefined ? `killed by ${r.signal}` : (r.shortMessage ?? 'could not run') }
}
