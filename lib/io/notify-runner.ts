// heartbeat-ts.conf [notify] command: the admin's hook, run on every state change of a node or a
// resource group with the event as arguments and HBTS_EVENT_* variables. Fire and forget: the
// caller never waits, each run is bounded by a timeout, and at most `maxRunning` run at once.

import { execa } from 'execa'

export interface NotifyOptions {
  /** The hook's argv (absolute path first); the event's words are appended. */
  command: readonly string[]
  timeoutMs: number
  maxRunning: number
  /** The base environment (the daemon's); HBTS_EVENT_* are added. */
  env?: Readonly<Record<string, string | undefined>>
  /** How each run ended, for the log: exit code, or why not. */
  onDone?: (r: NotifyResult) => void
}

export interface NotifyResult {
  kind: string
  outcome: 'ok' | 'failed' | 'timeout' | 'skipped'
  exitCode?: number
  detail?: string
}

/** The event kinds that are a state change of a node or a group. */
export const NOTIFY_KINDS: ReadonlySet<string> = new Set(['node-dead', 'node-back', 'group'])

/** `key=value` words and HBTS_EVENT_KEY variables for the event's scalar fields; HBTS_EVENT_JSON has it all. */
export function notifyWords(event: Record<string, unknown>): { args: string[]; env: Record<string, string> } {
  const args: string[] = []
  const env: Record<string, string> = { HBTS_EVENT_JSON: JSON.stringify(event) }
  for (const [k, v] of Object.entries(event)) {
    if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean') continue
    const text = String(v)
    args.push(k === 'kind' ? text : `${k}=${text}`)
    env[`HBTS_EVENT_${k.toUpperCase().replace(/[^A-Z0-9]/g, '_')}`] = text
  }
  return { args, env }
}

export class NotifyRunner {
  private readonly o: NotifyOptions
  private running = 0
  /** Events whose hook was not run because `maxRunning` were still running. */
  skipped = 0
  private readonly controller = new AbortController()

  constructor(o: NotifyOptions) {
    this.o = o
  }

  /** Starts the hook for `event` (if it is a state change) and returns at once. */
  notify(event: Record<string, unknown> & { kind: string }): void {
    if (this.o.command.length === 0 || !NOTIFY_KINDS.has(event.kind)) return
    if (this.running >= this.o.maxRunning) {
      this.skipped++
      this.o.onDone?.({ kind: event.kind, outcome: 'skipped', detail: `${this.running} hooks still running` })
      return
    }
    const [file, ...fixed] = this.o.command
    if (file === undefined) return
    const words = notifyWords(event)
    this.running++
    const child = execa(file, [...fixed, ...words.args], {
      env: { ...this.o.env, ...words.env },
      extendEnv: false,
      reject: false,
      timeout: this.o.timeoutMs,
      cancelSignal: this.controller.signal,
      forceKillAfterDelay: 1000,
      stdin: 'ignore',
      stdout: 'ignore',
      stderr: 'pipe',
      maxBuffer: 4096,
    })
    void child.then(
      (r) => {
        this.running--
        const stderr = typeof r.stderr === 'string' ? r.stderr.slice(-200) : ''
        const outcome = r.timedOut ? 'timeout' : r.exitCode === 0 ? 'ok' : 'failed'
        this.o.onDone?.({ kind: event.kind, outcome, ...(r.exitCode !== undefined ? { exitCode: r.exitCode } : {}), ...(stderr !== '' || r.failed ? { detail: stderr || r.shortMessage } : {}) })
      },
      (err: unknown) => {
        this.running--
        this.o.onDone?.({ kind: event.kind, outcome: 'failed', detail: (err as Error).message })
      },
    )
  }

  /** Hooks still running. */
  get active(): number {
    return this.running
  }

  /** Kills what still runs (the daemon is exiting). */
  close(): void {
    this.controller.abort()
  }
}
