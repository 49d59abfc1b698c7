// Runs resource agents for the ResourceManager: built-ins in-process, scripts through execa with a timeout.
import { constants } from 'node:fs'
import { access, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { execa } from 'execa'
import type { ResourceRef } from '../config/haresources.js'
import { statusSaysRunning } from '../resources/status-words.js'
import type { AgentOp, RmEvent } from '../resources/rm-types.js'

export type AgentEnv = Record<string, string | undefined>

export interface AgentOutput {
  exitCode: number
  stdout: string
  stderr: string
}

/**
 * A built-in agent run in-process: same contract as the executable (`<agent> args… op`). `signal`
 * aborts at the agent's timeout: the agent must then start nothing more and end what it started.
 */
export type InProcessAgent = (args: string[], op: string, env: AgentEnv, signal: AbortSignal) => Promise<AgentOutput>

/** name → in-process implementation (IPaddr, lvs, …). */
export type AgentRegistry = ReadonlyMap<string, InProcessAgent>

/** ResourceManager's scriptpath(): resource.d, then the init directories (Debian, then Red Hat). */
export const DEFAULT_AGENT_DIRS: readonly string[] = ['/etc/ha.d/resource.d', '/etc/init.d', '/etc/rc.d/init.d']

export const DEFAULT_AGENT_TIMEOUTS_MS: Readonly<Record<AgentOp, number>> = { start: 60_000, stop: 60_000, status: 20_000 }

export interface AgentRunnerOptions {
  /** Directories searched in order for `<agent>`; heartbeat's by default (tests point them elsewhere). */
  dirs?: readonly string[]
  builtins?: AgentRegistry
  /** Complete environment for agents (see haEnvironment); the runner adds nothing of its own. */
  env: AgentEnv
  timeoutsMs?: Partial<Record<AgentOp, number>>
  /** After SIGTERM to a timed-out agent's process group, SIGKILL follows this much later. */
  killGraceMs?: number
  /** Ends this one call at once, the way its timeout would (the manager's `cancel-agent`). */
  cancel?: AbortSignal
}

export interface AgentRun {
  agent: string
  op: AgentOp
  /** What ran: the script path and its arguments, or `builtin:<name>` and its arguments. */
  argv: string[]
  builtin: boolean
  exitCode: number
  stdout: string
  stderr: string
  timedOut: boolean
  /** Ended by `cancel` before it answered. */
  cancelled: boolean
  durationMs: number
}

export type AgentErrorCode = 'AGENT_NOT_FOUND' | 'AGENT_FAILED' | 'AGENT_TIMEOUT' | 'AGENT_CANCELLED' | 'AGENT_SPAWN'

/** A failed agent call: names the agent, operation, argv, exit code and stderr; the original as `cause`. */
export class AgentError extends Error {
  readonly code: AgentErrorCode
  readonly agent: string
  readonly op: AgentOp
  readonly argv: readonly string[]
  readonly exitCode: number | undefined
  readonly stderr: string

  constructor(
    code: AgentErrorCode,
    info: { agent: string; op: AgentOp; argv: readonly string[]; exitCode?: number; stderr?: string; why: string },
    cause?: unknown,
  ) {
    const err = (info.stderr ?? '').trim()
    super(
      `${info.agent} ${info.op} failed: ${info.why} [${info.argv.join(' ')}]` +
        `${info.exitCode !== undefined ? ` exit ${info.exitCode}` : ''}${err === '' ? '' : `: ${err}`}`,
      cause === undefined ? undefined : { cause },
    )
    this.name = 'AgentError'
    this.code = code
    this.agent = info.agent
    this.op = info.op
    this.argv = info.argv
    this.exitCode = info.exitCode
    this.stderr = info.stderr ?? ''
  }
}

/** The environment heartbeat gives resource scripts (§9.3). */
export interface HaEnvironmentOptions {
  curHost: string
  haDir?: string
  logFile?: string
  debugLog?: string
  logFacility?: string
  debugLevel?: number
  useLogd?: boolean
  ocfRoot?: string
  /** ha.cf `env NAME=value` directives: exported as HA_NAME. */
  envDirectives?: Readonly<Record<string, string>>
  /** The daemon's own environment to start from (PATH, …). */
  base?: AgentEnv
}

export function haEnvironment(o: HaEnvironmentOptions): AgentEnv {
  const haDir = o.haDir ?? '/etc/ha.d'
  const env: AgentEnv = { ...o.base }
  env.HA_CURHOST = o.curHost
  env.HA_DIR = haDir
  env.HA_FUNCS = join(haDir, 'shellfuncs')
  env.HA_DATEFMT = '%Y/%m/%d_%T\t'
  if (o.logFile !== undefined) env.HA_LOGFILE = o.logFile
  if (o.debugLog !== undefined) env.HA_DEBUGLOG = o.debugLog
  if (o.logFacility !== undefined) env.HA_LOGFACILITY = o.logFacility
  if (o.debugLevel !== undefined && o.debugLevel > 0) env.HA_debug = String(o.debugLevel)
  env.HA_LOGD = o.useLogd ? 'yes' : 'no'
  env.OCF_ROOT = o.ocfRoot ?? '/usr/lib/ocf'
  for (const [k, v] of Object.entries(o.envDirectives ?? {})) env[`HA_${k}`] = v
  return env
}

/** ResourceManager's scriptpath(): the first regular, executable `<dir>/<name>`. */
export async function findAgent(name: string, dirs: readonly string[] = DEFAULT_AGENT_DIRS): Promise<string | undefined> {
  if (name === '' || name.includes('/') || name === '.' || name === '..') return undefined
  for (const dir of dirs) {
    const p = join(dir, name)
    try {
      const st = await stat(p)
      if (!st.isFile()) continue
      await access(p, constants.X_OK)
      return p
    } catch {
      // not here: keep looking
    }
  }
  return undefined
}

/**
 * Run `<agent> [args…] <op>`. Built-ins named in the registry run in-process; anything else is
 * looked up in `dirs` and run through execa with an argument array, in its own process group,
 * killed (group-wide, SIGTERM then SIGKILL) at its timeout. Resolves with the outcome for
 * `status` whatever its exit code (ResourceManager reads only its stdout); rejects with an
 * AgentError for a missing agent, a timeout, or a non-zero start/stop.
 */
export async function runAgent(resource: ResourceRef, op: AgentOp, opts: AgentRunnerOptions): Promise<AgentRun> {
  const timeoutMs = opts.timeoutsMs?.[op] ?? DEFAULT_AGENT_TIMEOUTS_MS[op]
  const args = [...resource.args]
  if (opts.cancel?.aborted === true) {
    // Cancelled before it ran: nothing is started only to be killed.
    throw new AgentError('AGENT_CANCELLED', { agent: resource.agent, op, argv: [resource.agent, ...args, op], why: 'cancelled before it ran' })
  }
  const builtin = opts.builtins?.get(resource.agent)
  const started = performance.now()
  let run: AgentRun
  if (builtin !== undefined) {
    run = await runBuiltin(resource.agent, builtin, args, op, opts, timeoutMs, started)
  } else {
    const path = await findAgent(resource.agent, opts.dirs ?? DEFAULT_AGENT_DIRS)
    if (path === undefined) {
      throw new AgentError('AGENT_NOT_FOUND', {
        agent: resource.agent,
        op,
        argv: [resource.agent, ...args, op],
        why: `Cannot locate resource script ${resource.agent} in ${(opts.dirs ?? DEFAULT_AGENT_DIRS).join(', ')}`,
      })
    }
    run = await runScript(resource.agent, path, args, op, opts, timeoutMs, started)
  }
  if (run.cancelled) {
    throw new AgentError('AGENT_CANCELLED', { agent: run.agent, op, argv: run.argv, stderr: run.stderr, why: 'cancelled by the resource manager' })
  }
  if (run.timedOut) {
    throw new AgentError('AGENT_TIMEOUT', { agent: run.agent, op, argv: run.argv, stderr: run.stderr, why: `timed out after ${timeoutMs} ms` })
  }
  if (op !== 'status' && run.exitCode !== 0) {
    throw new AgentError('AGENT_FAILED', { agent: run.agent, op, argv: run.argv, exitCode: run.exitCode, stderr: run.stderr, why: `Return code ${run.exitCode}` })
  }
  return run
}

async function runBuiltin(
  agent: string,
  fn: InProcessAgent,
  args: string[],
  op: AgentOp,
  opts: AgentRunnerOptions,
  timeoutMs: number,
  started: number,
): Promise<AgentRun> {
  const argv = [`builtin:${agent}`, ...args, op]
  const graceMs = opts.killGraceMs ?? 2000
  const ac = new AbortController()
  let timer: NodeJS.Timeout | undefined
  let onCancel: (() => void) | undefined
  const ended = new Promise<'timeout' | 'cancelled'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), timeoutMs)
    onCancel = () => resolve('cancelled')
    if (opts.cancel?.aborted === true) onCancel()
    else opts.cancel?.addEventListener('abort', onCancel, { once: true })
  })
  const work = fn(args, op, opts.env, ac.signal)
  try {
    const out = await Promise.race([work, ended])
    if (out === 'timeout' || out === 'cancelled') {
      // Cancel the agent's work (its helpers get SIGTERM, then SIGKILL) and give it the grace to
      // wind down, so no helper of ours outlives the failure we report.
      ac.abort()
      const wound = await Promise.race([
        work.then(
          (r) => r,
          () => undefined,
        ),
        new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), graceMs + 1000)),
      ])
      const stderr = `${wound?.stderr ?? ''}${wound === undefined ? `${agent}: still running ${graceMs + 1000} ms after it was cancelled; left to end on its own\n` : ''}`
      const how = { timedOut: out === 'timeout', cancelled: out === 'cancelled' }
      return { agent, op, argv, builtin: true, exitCode: 1, stdout: wound?.stdout ?? '', stderr, ...how, durationMs: performance.now() - started }
    }
    return { agent, op, argv, builtin: true, ...out, timedOut: false, cancelled: false, durationMs: performance.now() - started }
  } catch (cause) {
    throw new AgentError('AGENT_FAILED', { agent, op, argv, why: `built-in agent threw: ${String(cause)}` }, cause)
  } finally {
    clearTimeout(timer)
    if (onCancel !== undefined) opts.cancel?.removeEventListener('abort', onCancel)
  }
}

async function runScript(
  agent: string,
  path: string,
  args: string[],
  op: AgentOp,
  opts: AgentRunnerOptions,
  timeoutMs: number,
  started: number,
): Promise<AgentRun> {
  const argv = [path, ...args, op]
  let sub
  try {
    sub = execa(path, [...args, op], {
      reject: false,
      stdin: 'ignore',
      env: opts.env,
      extendEnv: false,
      // its own process group, so a timeout takes the script's children with it
      detached: true,
      cleanup: true,
      stripFinalNewline: false,
      maxBuffer: 1024 * 1024,
    })
  } catch (cause) {
    throw new AgentError('AGENT_SPAWN', { agent, op, argv, why: String(cause) }, cause)
  }
  const pid = sub.pid
  let timedOut = false
  let killTimer: NodeJS.Timeout | undefined
  const signalGroup = (sig: NodeJS.Signals): void => {
    if (pid === undefined) return
    try {
      process.kill(-pid, sig)
    } catch {
      // already gone
    }
  }
  let cancelled = false
  const end = (): void => {
    signalGroup('SIGTERM')
    killTimer = setTimeout(() => signalGroup('SIGKILL'), opts.killGraceMs ?? 2000)
  }
  const timer = setTimeout(() => {
    timedOut = true
    end()
  }, timeoutMs)
  const onCancel = (): void => {
    if (timedOut || cancelled) return
    cancelled = true
    clearTimeout(timer)
    end()
  }
  if (opts.cancel?.aborted === true) onCancel()
  else opts.cancel?.addEventListener('abort', onCancel, { once: true })
  try {
    const r = await sub
    if (r.failed && typeof r.exitCode !== 'number' && !timedOut && !cancelled) {
      throw new AgentError('AGENT_SPAWN', { agent, op, argv, stderr: String(r.stderr ?? ''), why: r.shortMessage ?? 'could not run' }, r)
    }
    return {
      agent,
      op,
      argv,
      builtin: false,
      exitCode: typeof r.exitCode === 'number' ? r.exitCode : 1,
      stdout: typeof r.stdout === 'string' ? r.stdout : '',
      stderr: typeof r.stderr === 'string' ? r.stderr : '',
      timedOut,
      cancelled,
      durationMs: performance.now() - started,
    }
  } finally {
    clearTimeout(timer)
    clearTimeout(killTimer)
    opts.cancel?.removeEventListener('abort', onCancel)
    // A script may leave background children holding nothing we need: they die with it.
    if (timedOut || cancelled) signalGroup('SIGKILL')
  }
}

/**
 * Carry out a manager's `run-agent` action and build the `agent-result` event (never throws).
 * For `status`, `running` is ResourceManager's reading of stdout (§9.2); a missing script or a
 * timeout reads as not running, as the shell's empty output would.
 */
export async function executeAgentAction(
  action: { id: number; resource: ResourceRef; op: AgentOp },
  opts: AgentRunnerOptions,
): Promise<{ event: RmEvent; run?: AgentRun; error?: AgentError }> {
  try {
    const run = await runAgent(action.resource, action.op, opts)
    const running = action.op === 'status' ? statusSaysRunning(run.stdout) : action.op === 'start'
    return { event: { type: 'agent-result', id: action.id, ok: true, running, exitCode: run.exitCode }, run }
  } catch (e) {
    const error = e instanceof AgentError ? e : new AgentError('AGENT_FAILED', { agent: action.resource.agent, op: action.op, argv: [], why: String(e) }, e)
    return {
      event: {
        type: 'agent-result',
        id: action.id,
        ok: action.op === 'status' && error.code === 'AGENT_NOT_FOUND' ? true : false,
        running: false,
        ...(error.exitCode !== undefined ? { exitCode: error.exitCode } : {}),
        detail: error.message,
      },
      error,
    }
  }
}

/** Debug-log lines for one agent call: heartbeat sends the scripts' output to HA_DEBUGLOG. */
export function debugLines(run: AgentRun): string[] {
  const lines = [`${run.argv.join(' ')}: exit ${run.exitCode}${run.timedOut ? ' (timed out)' : ''}${run.cancelled ? ' (cancelled)' : ''} in ${Math.round(run.durationMs)} ms`]
  for (const [name, text] of [['stdout', run.stdout], ['stderr', run.stderr]] as const) {
    for (const l of text.split('\n')) if (l.trim() !== '') lines.push(`${run.agent} ${name}: ${l}`)
  }
  return lines
}
