// Runs cluster-glue's `stonith` command for the resource manager's `run-stonith` action: the reset
// 3.0.6 does in-process through libstonith, from a child here, with a timeout; the result goes back
// as a `stonith-result` event. The CLI exits with the plugin's return code: 0 S_OK, 3 S_BADHOST.
import { execa } from 'execa'
import type { StonithDevice } from '../config/stonith.js'
import type { RmAction, RmEvent, StonithOutcome } from '../resources/rm-types.js'

/** cluster-glue's `stonith`, found on PATH as Debian installs it (/usr/sbin). */
export const STONITH_COMMAND = 'stonith'
/** A reset "often takes a few seconds" (hb_resource.c); a hung device must not hold the takeover forever. */
export const DEFAULT_STONITH_TIMEOUT_MS = 60_000
const S_BADHOST = 3

/** `stonith -t TYPE {-F FILE | -p PARAMS} -T reset NODE`, as argv. */
export function stonithArgv(device: StonithDevice, node: string): string[] {
  const config = device.config.kind === 'file' ? ['-F', device.config.path] : ['-p', device.config.params]
  return ['-t', device.type, ...config, '-T', 'reset', node]
}

/** The argv for the log: -p parameters often hold a device password, so they are not shown. */
function shownArgs(args: readonly string[]): string[] {
  return args.map((a, i) => (args[i - 1] === '-p' ? '<params>' : a))
}

export function outcomeOf(exitCode: number | undefined): StonithOutcome {
  if (exitCode === 0) return 'ok'
  return exitCode === S_BADHOST ? 'badhost' : 'bad'
}

export interface StonithRunOptions {
  timeoutMs: number
  command?: string
  signal?: AbortSignal
  env?: NodeJS.ProcessEnv
}

export interface StonithRun {
  event: Extract<RmEvent, { type: 'stonith-result' }>
  argv: string[]
  /** For the log: the command line (parameters hidden) and what it said. */
  lines: string[]
}

/** Carry out one `run-stonith` action (never throws; a missing command or a timeout is a failed reset). */
export async function executeStonithAction(action: Extract<RmAction, { type: 'run-stonith' }>, opts: StonithRunOptions): Promise<StonithRun> {
  const command = opts.command ?? STONITH_COMMAND
  const args = stonithArgv(action.device, action.node)
  const r = await execa(command, args, {
    reject: false,
    timeout: opts.timeoutMs,
    forceKillAfterDelay: 1000,
    ...(opts.signal !== undefined ? { cancelSignal: opts.signal } : {}),
    ...(opts.env !== undefined ? { env: opts.env, extendEnv: false } : {}),
    stdin: 'ignore',
    maxBuffer: 64 * 1024,
    all: true,
  })
  const exitCode = r.timedOut || r.isCanceled ? undefined : r.exitCode
  const how = r.timedOut ? `timed out after ${opts.timeoutMs} ms` : r.isCanceled ? 'cancelled' : r.exitCode !== undefined ? `exit ${r.exitCode}` : (r.cause instanceof Error ? r.cause.message : `signal ${r.signal ?? '?'}`)
  const output = typeof r.all === 'string' ? r.all.split('\n').filter((l) => l.trim() !== '') : []
  return {
    event: { type: 'stonith-result', id: action.id, node: action.node, outcome: outcomeOf(exitCode), detail: how },
    argv: [command, ...args],
    lines: [`${[command, ...shownArgs(args)].join(' ')}: ${how}`, ...output.map((l) => `stonith: ${l}`)],
  }
}

/** The plugin types cluster-glue has installed (`stonith -L`); undefined when the command cannot run. */
export async function installedStonithTypes(opts: { command?: string; timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}): Promise<Set<string> | undefined> {
  const r = await execa(opts.command ?? STONITH_COMMAND, ['-L'], {
    reject: false,
    timeout: opts.timeoutMs ?? 20_000,
    ...(opts.env !== undefined ? { env: opts.env, extendEnv: false } : {}),
    stdin: 'ignore',
    maxBuffer: 256 * 1024,
  })
  if (r.exitCode !== 0 || typeof r.stdout !== 'string') return undefined
  return new Set(r.stdout.split('\n').map((l) => l.trim()).filter((l) => l !== ''))
}

/**
 * 3.0.6 refuses to start with a type libstonith cannot load ("Invalid Stonith type [x]"); here the
 * check is against `stonith -L`. The message for a line whose type is not installed, else undefined.
 */
export function invalidTypeMessage(type: string, installed: ReadonlySet<string>): string | undefined {
  return installed.has(type) ? undefined : `Invalid Stonith type [${type}]: cluster-glue has no such plugin (stonith -L lists the installed ones)`
}
