// The lvs resource agent (`lvs [args…] start|stop|status`): the seed's init.d/lvs job — forwarding, the IPVS service and its real servers, the monitor.

import { mkdir, readFile, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { Diagnostic } from '../config/diagnostics.js'
import { formatDiagnostic, hasErrors } from '../config/diagnostics.js'
import { parseMonCf } from '../config/mon-cf.js'
import { describeFailure, run } from './agent-exec.js'
import { lvsOptions, type LvsOptions } from './agent-options.js'
import type { AgentResult } from './ipaddr.js'
import type { MonitorHook } from './lvs-monitor-types.js'
import { describeService, parseLvsArgs, parseRules, planApply, planRemove, tableFromMonCf, tablePresent, type LvsTable } from './lvs-table.js'
import { pathExists } from './path-exists.js'

type Env = Readonly<Record<string, string | undefined>>

export interface LvsDeps {
  /** Starts and stops the real-server monitor (lib/io/lvs-monitor-hook.ts runs hb-mon as a process). */
  monitor: MonitorHook
  /** The runner's cancellation at the agent's timeout: ipvsadm and the monitor hook are ended, no further step runs. */
  signal?: AbortSignal
}

const IP_FORWARD = 'net/ipv4/ip_forward'


export type TableResult = { ok: true; table: LvsTable; diagnostics: Diagnostic[] } | { ok: false; diagnostics: Diagnostic[]; message: string }

/** The table, from (in order) haresources arguments, the rules file, mon.cf's lvs.alert lines. */
export async function loadDesiredTable(args: readonly string[], paths: LvsOptions): Promise<TableResult> {
  if (args.length > 0) {
    const t = parseLvsArgs(args)
    return t.ok ? { ok: true, table: t.table, diagnostics: [] } : { ok: false, diagnostics: [], message: t.message }
  }
  if (await pathExists(paths.rulesFile)) {
    const { table, diagnostics } = parseRules(await readFile(paths.rulesFile, 'utf8'), paths.rulesFile)
    if (hasErrors(diagnostics)) return { ok: false, diagnostics, message: `${paths.rulesFile} has errors` }
    if (table.services.length === 0) return { ok: false, diagnostics, message: `${paths.rulesFile} adds no virtual service` }
    return { ok: true, table, diagnostics }
  }
  if (await pathExists(paths.monCf)) {
    const parsed = parseMonCf(await readFile(paths.monCf, 'utf8'), paths.monCf)
    const { table, diagnostics } = tableFromMonCf(parsed.config, paths.monCf)
    const all = [...parsed.diagnostics, ...diagnostics]
    if (table.services.length === 0) return { ok: false, diagnostics: all, message: `${paths.monCf} has no lvs.alert line with -V VIP:PORT` }
    return { ok: true, table, diagnostics: all }
  }
  return { ok: false, diagnostics: [], message: `no table: no lvs:: arguments in haresources, no ${paths.rulesFile}, no ${paths.monCf}` }
}

function sig(signal: AbortSignal | undefined): { signal?: AbortSignal } {
  return signal === undefined ? {} : { signal }
}

async function readLiveTable(paths: LvsOptions, env: Env, signal: AbortSignal | undefined): Promise<{ ok: true; table: LvsTable } | { ok: false; message: string }> {
  const o = await run(paths.ipvsadm, ['-S', '-n'], { env, ...sig(signal) })
  if (o.exitCode !== 0 || o.failure !== undefined) return { ok: false, message: describeFailure(o) }
  const { table, diagnostics } = parseRules(o.stdout, 'ipvsadm -S -n', 'ipvsadm')
  if (hasErrors(diagnostics)) return { ok: false, message: `cannot read the live table: ${diagnostics.map(formatDiagnostic).join('; ')}` }
  return { ok: true, table }
}

export async function runLvs(args: string[], op: string, env: Record<string, string | undefined>, deps: LvsDeps): Promise<AgentResult> {
  const out: string[] = []
  const err: string[] = []
  const done = (exitCode: number): AgentResult => ({
    exitCode,
    stdout: out.length === 0 ? '' : `${out.join('\n')}\n`,
    stderr: err.length === 0 ? '' : `${err.join('\n')}\n`,
  })
  if (!['start', 'stop', 'status'].includes(op)) {
    err.push('Usage : lvs [VIP:PORT::SCHEDULER::REAL,...[::dr|nat|tun]] {start|stop|status}')
    // LSB: 2 = invalid argument (the seed's script exited 1).
    return done(2)
  }
  const paths = lvsOptions(env)
  const desired = await loadDesiredTable(args, paths)
  for (const d of desired.diagnostics) err.push(formatDiagnostic(d))
  if (!desired.ok) {
    err.push(`lvs: ${desired.message}`)
    if (op === 'status') {
      out.push('lvs is stopped (not configured)')
      return done(3)
    }
    if (op === 'stop') {
      // Nothing to delete without a table, but a monitor and the forwarding switch may still be ours.
      const m = await deps.monitor.stop({ runDir: paths.runDir, env, options: paths.monitor, ...sig(deps.signal) })
      err.push(m.ok ? `lvs: ${m.detail}` : `lvs: ${m.message}`)
      const fwd = await restoreForwarding(paths)
      if (fwd !== undefined) err.push(`lvs: ${fwd}`)
      out.push('lvs stopped')
      return done(m.ok ? 0 : 1)
    }
    // LSB 6: not configured.
    return done(6)
  }
  const table = desired.table
  const summary = table.services.map((s) => `${describeService(s)} (${s.reals.length} real servers)`).join(', ')
  if (paths.dryRun) return dryRunLvs(op, table, summary, paths, out, err, done)
  // Stop deletes every service of ours whatever the table holds, so it needs no reading first: one
  // ipvsadm process fewer on the release path, which is the time both directors may hold the address.
  if (op === 'stop') return stopLvs(table, paths, env, deps, out, err, done)
  const live = await readLiveTable(paths, env, deps.signal)
  if (!live.ok) {
    err.push(`lvs: ${live.message}`)
    if (op === 'status') {
      out.push('lvs is stopped (IPVS table unreadable)')
      return done(3)
    }
    return done(1)
  }
  if (op === 'status') {
    if (tablePresent(table, live.table)) {
      out.push(`lvs is running: ${summary}`)
      return done(0)
    }
    out.push('lvs is stopped')
    return done(3)
  }
  // start
  const fwd = await enableForwarding(paths)
  if (fwd !== undefined) err.push(`lvs: ${fwd}`)
  const applied = await runBatch(paths, env, planApply(table, live.table), deps.signal)
  err.push(...applied.lines)
  if (!applied.ok) {
    out.push('lvs start failed')
    return done(1)
  }
  if (deps.signal?.aborted) {
    out.push('lvs start failed')
    err.push('lvs: cancelled before the real-server monitor was started: the agent timed out')
    return done(1)
  }
  if (await pathExists(paths.monCf)) {
    const m = await deps.monitor.start({ monCf: paths.monCf, table, runDir: paths.runDir, env, options: paths.monitor, ...sig(deps.signal) })
    // A monitor that cannot start leaves a working but static table: warn, do not give the group up.
    err.push(m.ok ? `lvs: ${m.detail}` : `lvs: WARNING: real-server monitor not started: ${m.message}`)
  } else err.push(`lvs: no ${paths.monCf}; no real-server monitor`)
  out.push(`lvs started: ${summary} (from ${table.source})`)
  return done(0)
}

async function stopLvs(
  table: LvsTable,
  paths: LvsOptions,
  env: Env,
  deps: LvsDeps,
  out: string[],
  err: string[],
  done: (exitCode: number) => AgentResult,
): Promise<AgentResult> {
  // The monitor first, so no alert re-adds a server behind our back.
  const m = await deps.monitor.stop({ runDir: paths.runDir, env, options: paths.monitor, ...sig(deps.signal) })
  err.push(m.ok ? `lvs: ${m.detail}` : `lvs: ${m.message}`)
  // Every service of ours, present or not: "No such service" just means it was not there (idempotent stop).
  const removed = await runBatch(paths, env, planRemove(table, table), deps.signal, /No such service/)
  err.push(...removed.lines)
  let removedOk = removed.ok
  if (!removed.ok) {
    // A table nobody can read holds nothing of ours: stop must not wedge the group on a broken ipvsadm.
    const live = await readLiveTable(paths, env, deps.signal)
    if (!live.ok) {
      err.push(`lvs: ${live.message}; nothing of ours can be in it`)
      removedOk = true
    }
  }
  const failed = !m.ok || !removedOk
  // A stop cut off (timeout, cancel) may have left services in the table: they still need forwarding.
  const fwd = deps.signal?.aborted === true ? undefined : await restoreForwarding(paths)
  if (fwd !== undefined) err.push(`lvs: ${fwd}`)
  out.push(failed ? 'lvs stop failed' : 'lvs stopped')
  return done(failed ? 1 : 0)
}

/**
 * The planned ipvsadm command lines in one process: a single line as itself, several through one
 * `ipvsadm -R` (lvs-mon-agents §2.5: one command per stdin line, words split on blanks; a kernel
 * error is printed and the restore goes on, the exit status is the last line's), so a line's failure
 * shows as stderr text. Stderr lines matching `tolerated` are not failures.
 */
async function runBatch(paths: LvsOptions, env: Env, lines: readonly string[][], signal: AbortSignal | undefined, tolerated?: RegExp): Promise<{ ok: boolean; lines: string[] }> {
  if (lines.length === 0) return { ok: true, lines: [] }
  const [only] = lines
  const o =
    only !== undefined && lines.length === 1
      ? await run(paths.ipvsadm, only, { env, ...sig(signal) })
      : await run(paths.ipvsadm, ['-R'], { env, input: `${lines.map((l) => l.join(' ')).join('\n')}\n`, ...sig(signal) })
  const complaints = o.stderr.split('\n').filter((l) => l.trim() !== '')
  const untolerated = complaints.filter((l) => tolerated === undefined || !tolerated.test(l))
  const ok = o.failure === undefined && untolerated.length === 0 && (o.exitCode === 0 || complaints.length > 0)
  const via = lines.length === 1 ? '' : ' (one ipvsadm -R)'
  return { ok, lines: ok ? lines.map((l) => `lvs: ipvsadm ${l.join(' ')}${via}`) : [`lvs: ${describeFailure(o)}`] }
}

/** Turns ip_forward on (the seed's `echo 1 > /proc/sys/net/ipv4/ip_forward`), remembering whether it was off. */
async function enableForwarding(paths: LvsOptions): Promise<string | undefined> {
  const file = join(paths.procSys, IP_FORWARD)
  let before: string
  try {
    before = (await readFile(file, 'utf8')).trim()
  } catch (e) {
    return `cannot read ${file}: ${(e as Error).message}`
  }
  if (before === '1') return undefined
  const record = join(paths.runDir, 'ip_forward.before')
  try {
    await mkdir(paths.runDir, { recursive: true, mode: 0o700 })
    if (!(await pathExists(record))) await writeFile(record, `${before}\n`)
    await writeFile(file, '1\n')
    return `forwarding on (${file} was ${before})`
  } catch (e) {
    return `cannot turn forwarding on: ${(e as Error).message}`
  }
}

async function restoreForwarding(paths: LvsOptions): Promise<string | undefined> {
  const record = join(paths.runDir, 'ip_forward.before')
  let before: string
  try {
    before = (await readFile(record, 'utf8')).trim()
  } catch {
    return undefined
  }
  const file = join(paths.procSys, IP_FORWARD)
  try {
    await writeFile(file, `${before}\n`)
    await rm(record, { force: true })
    return `forwarding restored to ${before}`
  } catch (e) {
    return `cannot restore ${file}: ${(e as Error).message}`
  }
}

/**
 * HBTS_DRY_RUN=1 (isDryRun in agent-options.ts): the ipvsadm commands, the forwarding switch and the
 * monitor are printed as `DRY RUN: …` instead of run; <run dir>/lvs/dry-run marks the table as built
 * so status and stop answer as if it were.
 */
async function dryRunLvs(
  op: string,
  table: LvsTable,
  summary: string,
  paths: LvsOptions,
  out: string[],
  err: string[],
  done: (exitCode: number) => AgentResult,
): Promise<AgentResult> {
  const marker = join(paths.runDir, 'dry-run')
  const built = await pathExists(marker)
  const empty: LvsTable = { source: table.source, services: [] }
  if (op === 'status') {
    out.push(built ? `lvs is running: ${summary}` : 'lvs is stopped')
    return done(built ? 0 : 3)
  }
  if (op === 'start') {
    if (!built) {
      err.push(`DRY RUN: echo 1 > ${join(paths.procSys, IP_FORWARD)}`)
      for (const argv of planApply(table, empty)) err.push(`DRY RUN: ${paths.ipvsadm} ${argv.join(' ')}`)
      err.push(`DRY RUN: start the real-server monitor for ${paths.monCf}`)
      await mkdir(paths.runDir, { recursive: true, mode: 0o700 })
      await writeFile(marker, `${summary}\n`)
    }
    out.push(`lvs started: ${summary} (from ${table.source})`)
    return done(0)
  }
  if (built) {
    err.push('DRY RUN: stop the real-server monitor')
    for (const argv of planRemove(table, table)) err.push(`DRY RUN: ${paths.ipvsadm} ${argv.join(' ')}`)
    await rm(marker, { force: true })
  }
  out.push('lvs stopped')
  return done(0)
}
