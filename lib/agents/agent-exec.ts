// How the built-in agents run helper programs (ip, arping, ipvsadm, hooks): execa, argument arrays, timeouts, results as values.

import { execa } from 'execa'
import { describeMissing, isNotInstalled } from './system-tools.js'

export interface ExecOutcome {
  /** The command line, for messages. */
  command: string
  exitCode: number
  stdout: string
  stderr: string
  /** Spawn failure (ENOENT, EACCES) or timeout, in words; absent when the program ran to an exit code. */
  failure?: string
}

export interface ExecOptions {
  timeoutMs?: number
  input?: string
  env?: Readonly<Record<string, string | undefined>>
  /** The agent's cancellation (its timeout): the helper and everything it started are killed, and the outcome is a failure. */
  signal?: AbortSignal
}

/** A helper's default bound: long enough for a loaded host, short enough that ResourceManager's own timeout is not the first to fire. */
export const DEFAULT_HELPER_TIMEOUT_MS = 10_000

/** After SIGTERM to a helper's process group at its timeout or cancellation, SIGKILL follows this much later. */
export const HELPER_KILL_GRACE_MS = 1000

function signalGroup(pid: number | undefined, signal: NodeJS.Signals): void {
  if (pid === undefined) return
  try {
    process.kill(-pid, signal)
  } catch {
    // group already gone
  }
}

/**
 * Runs a helper in its own process group, so its timeout or the agent's cancellation ends the
 * helper and anything it started (a stand-in script's children) — not the helper alone.
 */
export async function run(file: string, args: readonly string[], options: ExecOptions = {}): Promise<ExecOutcome> {
  const command = [file, ...args].join(' ')
  const timeoutMs = options.timeoutMs ?? DEFAULT_HELPER_TIMEOUT_MS
  const signal = options.signal
  if (signal?.aborted) return { command, exitCode: 255, stdout: '', stderr: '', failure: 'not run: the agent was cancelled' }
  const child = execa(file, [...args], {
    reject: false,
    detached: true,
    stripFinalNewline: false,
    ...(options.input !== undefined ? { input: options.input } : { stdin: 'ignore' as const }),
    // The agent's environment (HA_* variables, PATH) on top of ours, as a forked shell script would see it.
    ...(options.env !== undefined ? { env: options.env } : {}),
  })
  let ended: string | undefined
  let killTimer: NodeJS.Timeout | undefined
  const end = (why: string): void => {
    if (ended !== undefined) return
    ended = why
    signalGroup(child.pid, 'SIGTERM')
    killTimer = setTimeout(() => signalGroup(child.pid, 'SIGKILL'), HELPER_KILL_GRACE_MS)
  }
  const timer = setTimeout(() => end(`timed out after ${timeoutMs} ms`), timeoutMs)
  const onAbort = (): void => end('cancelled: the agent timed out')
  signal?.addEventListener('abort', onAbort)
  let result
  try {
    result = await child
  } finally {
    clearTimeout(timer)
    clearTimeout(killTimer)
    signal?.removeEventListener('abort', onAbort)
    // Whatever the helper left in its group (a background child) goes with it once it was ended.
    if (ended !== undefined) signalGroup(child.pid, 'SIGKILL')
  }
  const outcome: ExecOutcome = {
    command,
    exitCode: typeof result.exitCode === 'number' ? result.exitCode : 255,
    stdout: typeof result.stdout === 'string' ? result.stdout : '',
    stderr: typeof result.stderr === 'string' ? result.stderr : '',
  }
  if (ended !== undefined) outcome.failure = ended
  else if (isNotInstalled(result)) outcome.failure = describeMissing(file)
  else if (result.failed && typeof result.exitCode !== 'number') outcome.failure = result.shortMessage
  return outcome
}

/** One line naming the command, its exit code or failure, and its stderr. */
export function describeFailure(o: ExecOutcome): string {
  const why = o.failure ?? `exit ${o.exitCode}`
  const err = o.stderr.trim()
  return `${o.command}: ${why}${err === '' ? '' : `: ${err}`}`
}

/**
 * Starts a program in its own process group that outlives this call (gratuitous ARP bursts, the
 * real-server monitor). Returns its pid, or a failure message.
 */
export function spawnDetached(file: string, args: readonly string[], env?: Readonly<Record<string, string | undefined>>): { ok: true; pid: number } | { ok: false; message: string } {
  try {
    const child = execa(file, [...args], {
      detached: true,
      cleanup: false,
      stdio: 'ignore',
      reject: false,
      ...(env !== undefined ? { env: env } : {}),
    })
    // The result promise settles when the child ends; nobody waits for it.
    child.catch(() => undefined)
    child.unref()
    if (child.pid === undefined) return { ok: false, message: `${[file, ...args].join(' ')}: could not be started` }
    return { ok: true, pid: child.pid }
  } catch (err) {
    return { ok: false, message: isNotInstalled(err) ? describeMissing(file) : `${[file, ...args].join(' ')}: ${(err as Error).message}` }
  }
}
