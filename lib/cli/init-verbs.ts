// Init verbs of the heartbeat command (start, stop, status, ...): pidfile state → words and LSB exit code.
// Pure: the caller probes the pidfile, runs the daemon, and prints what these functions return.

import type { DaemonState } from '../io/daemon-state.js'

export interface Answer {
  stdout: string
  stderr: string
  exitCode: number
}

export const INIT_VERBS = ['start', 'stop', 'status', 'restart', 'reload', 'force-reload', 'standby'] as const
export type InitVerb = (typeof INIT_VERBS)[number]

export function isInitVerb(word: string): word is InitVerb {
  return (INIT_VERBS as readonly string[]).includes(word)
}

/** LSB exit codes (LSB core, "Init Script Actions"). */
export const LSB = {
  ok: 0,
  /** status: dead, pidfile exists. Other actions: generic failure. */
  deadPidFile: 1,
  failure: 1,
  invalidArgs: 2,
  notRunning: 3,
  permission: 4,
  notConfigured: 6,
} as const

export interface HostNames {
  /** uname -n, lower-cased as heartbeat does for its local node name. */
  uname: string
  /** The cluster's name for this node (normally the same). */
  nodeName: string
}

/** heartbeat -s: `heartbeat OK [pid N et al] is running on host [node]...` (0); stopped 3; stale pidfile 1. */
export function statusAnswer(state: DaemonState, host: HostNames): Answer {
  switch (state.kind) {
    case 'running':
      return {
        stdout: `heartbeat OK [pid ${state.pid} et al] is running on ${host.uname.toLowerCase()} [${host.nodeName}]...\n`,
        stderr: '',
        exitCode: LSB.ok,
      }
    case 'stopped':
      return { stdout: 'heartbeat is stopped. No process\n', stderr: '', exitCode: LSB.notRunning }
    case 'stale':
      // Same words as stopped; only the exit code tells them apart (HB306 main, -s).
      return { stdout: 'heartbeat is stopped. No process\n', stderr: '', exitCode: LSB.deadPidFile }
  }
}

// init.d/heartbeat words: "Done." on success, " Heartbeat failure [rc=N]. Failed." otherwise.
function done(what: string): string {
  return `${what}: Done.\n`
}
function failed(what: string, rc: number, detail: string): string {
  const extra = detail.trim() === '' ? '' : `\n${detail.trimEnd()}\n`
  return `${what}: Heartbeat failure [rc=${rc}]. Failed.\n${extra}`
}

/** The init script refuses to touch anything without ha.cf, yet exits 0 so boot goes on (init.d/heartbeat). */
export function notConfiguredAnswer(haCfPath: string): Answer {
  return {
    stdout: `Heartbeat not configured: ${haCfPath} not found. Heartbeat failure [rc=1]. Failed.\n`,
    stderr: '',
    exitCode: LSB.ok,
  }
}

/** `start`: rc is what starting the daemon returned (0 also when it was already running); detail = its error output. */
export function startAnswer(rc: number, detail = ''): Answer {
  const what = 'Starting High-Availability services'
  return rc === 0
    ? { stdout: done(what), stderr: '', exitCode: LSB.ok }
    : { stdout: failed(what, rc, detail), stderr: '', exitCode: rc }
}

/** `stop`: rc of heartbeat -k (0 also when it was already stopped). */
export function stopAnswer(rc: number, detail = ''): Answer {
  const what = 'Stopping High-Availability services'
  return rc === 0
    ? { stdout: done(what), stderr: '', exitCode: LSB.ok }
    : { stdout: failed(what, rc, detail), stderr: '', exitCode: rc }
}

/** `reload`/`force-reload`: rc of heartbeat -r. (heartbeat's script always exits 0 here; we pass the rc on.) */
export function reloadAnswer(rc: number, detail = ''): Answer {
  const what = 'Reloading High-Availability services'
  return rc === 0
    ? { stdout: done(what), stderr: '', exitCode: LSB.ok }
    : { stdout: failed(what, rc, detail), stderr: '', exitCode: rc }
}

/** The line printed between stop and start by `restart` while the peer takes the resources over. */
export function restartWaitLine(waitMs: number): string {
  return `Waiting ${formatSeconds(waitMs)} s to allow resource takeover to complete: `
}

function formatSeconds(ms: number): string {
  return Number.isInteger(ms / 1000) ? String(ms / 1000) : (ms / 1000).toFixed(1)
}

export function usageAnswer(cmd: string): Answer {
  return {
    stdout: '',
    stderr: `Usage: ${cmd} {start|stop|status|restart|reload|force-reload|standby}\n`,
    exitCode: LSB.failure,
  }
}

/**
 * shellfuncs ha_parameter: the value of the first ha.cf line whose first word is `name`
 * (case-insensitive), comments cut, blanks squeezed; keepalive defaults to 2 and deadtime
 * to 2*keepalive+1 when absent. undefined when absent and without a default.
 */
export function haParameter(haCfText: string, name: string): string | undefined {
  const want = name.toLowerCase()
  for (const raw of haCfText.split('\n')) {
    const line = raw.replace(/#.*/, '').replace(/[ \t]+/g, ' ').replace(/^ /, '').trimEnd()
    const sp = line.indexOf(' ')
    if (sp <= 0) continue
    if (line.slice(0, sp).toLowerCase() === want) return line.slice(sp + 1)
  }
  if (want === 'keepalive') return '2'
  if (want === 'deadtime') {
    const ka = Number(haParameter(haCfText, 'keepalive'))
    return Number.isFinite(ka) ? String(ka * 2 + 1) : undefined
  }
  return undefined
}

/** ha.cf(5) time: a bare number is seconds; `ms` and `us` suffixes; undefined if not a time. */
export function haTimeMs(value: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)(ms|us|s)?$/.exec(value.trim())
  if (!m) return undefined
  const n = Number(m[1])
  return m[2] === 'ms' ? n : m[2] === 'us' ? n / 1000 : n * 1000
}

/**
 * `restart` waits deadtime + 10 s between stop and start so the peer can take the
 * resources over (init.d/heartbeat; it runs `sleep` on the text, which breaks on "500ms").
 */
export function restartWaitMs(haCfText: string): number {
  const dt = haTimeMs(haParameter(haCfText, 'deadtime') ?? '')
  return (dt ?? 5000) + 10_000
}

/**
 * `standby` preconditions (init.d/heartbeat StandbyHA): only in nice_failback mode.
 * ok → the line to print before asking; otherwise the refusal.
 */
export function standbyCheck(haCfText: string, state: DaemonState): { ok: true; stdout: string } | { ok: false; answer: Answer } {
  const af = (haParameter(haCfText, 'auto_failback') ?? '').toLowerCase()
  const nf = (haParameter(haCfText, 'nice_failback') ?? '').toLowerCase()
  const refuse = (line: string): { ok: false; answer: Answer } => ({
    ok: false,
    answer: { stdout: `${line}\n`, stderr: '', exitCode: LSB.failure },
  })
  if (af.includes('legacy')) return refuse('auto_failback is set to legacy.  Cannot enter standby.')
  if (nf.includes('off')) return refuse('nice_failback is disabled.  Cannot enter standby.')
  if (af === '' && nf === '') return refuse('auto_failback defaulted to legacy.  Cannot enter standby.')
  const head = `auto_failback: ${af}\n`
  if (state.kind !== 'running') {
    return { ok: false, answer: { stdout: `${head}Heartbeat is not currently running.\n`, stderr: '', exitCode: LSB.failure } }
  }
  return { ok: true, stdout: head }
}

/** `standby` once the request went out (or failed to). */
export function standbyAnswer(head: string, rc: number, detail = ''): Answer {
  const what = 'Attempting to enter standby mode'
  return rc === 0
    ? { stdout: head + done(what), stderr: '', exitCode: LSB.ok }
    : { stdout: head + failed(what, rc, detail), stderr: '', exitCode: rc }
}
