// Before signalling a pid read from a file: is it still the process that wrote the file?
//
// A pid in a file outlives its process; the number gets reused, and a file in a directory another
// account can write may name any process. We signal only a process that runs as us (or root), whose
// command line is the one expected, and that started no later than the file says (start time in
// clock ticks since boot, /proc/PID/stat field 22, which clock steps do not move).

import { readFile, stat } from 'node:fs/promises'
import { basename, dirname } from 'node:path'
import { checkDir, effectiveUid, readFileNoFollow, writeFileAtomic } from './safe-files.js'

/** What /proc says about a process: the one identity every pid check uses (pidfiles, monitor.pid, hb-mon's owner). */
export interface ProcessIdentity {
  pid: number
  /** Owner of /proc/PID: the process's real uid. */
  uid: number
  /** /proc/PID/cmdline split at NULs (empty for kernel threads and zombies). */
  argv: string[]
  /** Start time in clock ticks since boot (/proc/PID/stat field 22): a reused pid has a different one. */
  startTicks: number
  /** Process group (field 5): the LVS monitor is stopped as a group when it leads one. */
  pgrp: number
  /** Exited, not yet reaped (state Z). */
  zombie: boolean
}

/** USER_HZ: the unit of /proc start times, 100 on every Linux architecture Node runs on. */
export const CLOCK_TICKS_PER_SEC = 100

/** The fields we use of a /proc/PID/stat line; the command name (field 2) may hold spaces and ')'. */
export function parseStatLine(statLine: string): { state: string; ppid: number; pgrp: number; startTicks: number } | undefined {
  const close = statLine.lastIndexOf(')')
  if (close < 0) return undefined
  // rest[0] is field 3 (state), so field N is rest[N - 3].
  const rest = statLine.slice(close + 2).split(' ')
  const ppid = Number(rest[1])
  const pgrp = Number(rest[2])
  const startTicks = Number(rest[19])
  if (!Number.isSafeInteger(ppid) || !Number.isSafeInteger(pgrp) || !/^\d+$/.test(rest[19] ?? '') || !Number.isSafeInteger(startTicks)) return undefined
  return { state: rest[0] ?? '', ppid, pgrp, startTicks }
}

/** Field 22 of a /proc/PID/stat line (the start time in clock ticks). */
export function parseStartTicks(statLine: string): number | undefined {
  return parseStatLine(statLine)?.startTicks
}

/** The identity of process `pid` (zombies included, marked), or undefined when there is none (or /proc cannot tell). */
export async function processIdentity(pid: number): Promise<ProcessIdentity | undefined> {
  if (!Number.isSafeInteger(pid) || pid <= 0) return undefined
  try {
    const [statLine, cmdline, st] = await Promise.all([
      readFile(`/proc/${pid}/stat`, 'latin1'),
      readFile(`/proc/${pid}/cmdline`),
      stat(`/proc/${pid}`),
    ])
    const f = parseStatLine(statLine)
    if (f === undefined) return undefined
    const argv = cmdline.length === 0 ? [] : cmdline.toString('utf8').replace(/\0$/, '').split('\0')
    return { pid, uid: st.uid, argv, startTicks: f.startTicks, pgrp: f.pgrp, zombie: f.state === 'Z' }
  } catch {
    return undefined
  }
}

/** Like processIdentity, but a zombie (exited, not reaped) counts as gone. */
export async function liveProcessIdentity(pid: number): Promise<ProcessIdentity | undefined> {
  const id = await processIdentity(pid)
  return id === undefined || id.zombie ? undefined : id
}

/** What a pidfile of ours holds: the pid (first line, all that 3.0.6, systemd and LSB tools read), and our start time. */
export interface PidRecord {
  pid: number
  /** Present in pidfiles heartbeat-ts writes ("start_ticks N" on the second line). */
  startTicks: number | undefined
}

export function formatPidRecord(r: PidRecord): string {
  return r.startTicks === undefined ? `${r.pid}\n` : `${r.pid}\nstart_ticks ${r.startTicks}\n`
}

/** `PID\n` (heartbeat 3.0.6, hand-written) or `PID\nstart_ticks N\n` (ours); anything else is not a pidfile. */
export function parsePidRecord(text: string): PidRecord | undefined {
  const m = /^\s*(\d{1,10})[ \t]*(?:\r?\n(?:start_ticks (\d{1,20})\s*)?)?$/.exec(text)
  if (!m) return undefined
  const pid = Number(m[1])
  if (!(pid > 0 && pid < 2 ** 31)) return undefined
  const startTicks = m[2] === undefined ? undefined : Number(m[2])
  return { pid, startTicks: startTicks !== undefined && Number.isSafeInteger(startTicks) ? startTicks : undefined }
}

export interface PidExpectation {
  /** Does this command line belong to the program that writes the pidfile? */
  argv: (argv: readonly string[]) => boolean
  /** Words for messages: "heartbeat", "the LVS monitor". */
  what: string
}

export type PidVerdict =
  | { ok: true; pid: number; identity: ProcessIdentity }
  /** gone: no process has this pid (a stale file). Otherwise some other process has it: never signal it. */
  | { ok: false; pid: number | undefined; gone: boolean; reason: string }

/** A pidfile without start_ticks (3.0.6's, or written by hand) only says the process started before the file's mtime. */
const MTIME_SLACK_MS = 5000

async function bootTimeMs(): Promise<number | undefined> {
  const text = await readFile('/proc/stat', 'latin1').catch(() => '')
  const m = /^btime (\d+)$/m.exec(text)
  return m ? Number(m[1]) * 1000 : undefined
}

/**
 * Whether `pid` is the process that `expect` describes: it runs as us or root, its command line
 * matches, and it started at `startTicks` (when the record has it) or no later than `notAfterMs`
 * (wall clock, e.g. the pidfile's mtime). Only an ok verdict may be signalled.
 */
export async function checkPid(
  pid: number,
  expect: PidExpectation,
  record: { startTicks?: number | undefined; notAfterMs?: number | undefined } = {},
): Promise<PidVerdict> {
  const id = await processIdentity(pid)
  if (id === undefined) return { ok: false, pid, gone: true, reason: `no process ${pid}` }
  const no = (reason: string): PidVerdict => ({ ok: false, pid, gone: false, reason: `pid ${pid} is not ${expect.what}: ${reason}` })
  if (id.uid !== 0 && id.uid !== effectiveUid()) return no(`it runs as uid ${id.uid}`)
  if (!expect.argv(id.argv)) return no(`its command line is ${JSON.stringify(id.argv.join(' ').slice(0, 200))}`)
  if (record.startTicks !== undefined) {
    if (id.startTicks !== record.startTicks) return no(`it started at tick ${id.startTicks}, the pidfile says ${record.startTicks} (pid reused)`)
  } else if (record.notAfterMs !== undefined) {
    const boot = await bootTimeMs()
    const startedMs = boot === undefined ? undefined : boot + (id.startTicks * 1000) / CLOCK_TICKS_PER_SEC
    if (startedMs !== undefined && startedMs > record.notAfterMs + MTIME_SLACK_MS) return no('it started after the pidfile was written (pid reused)')
  }
  return { ok: true, pid, identity: id }
}

/** Largest pidfile we read: a pid and a start time fit in 64 bytes; more is not a pidfile. */
export const MAX_PIDFILE_BYTES = 256

export type PidFileVerdict = PidVerdict | { ok: false; pid: undefined; gone: true; reason: string; missing: true }

/**
 * Read `pidFile` (no symlink followed, owned by us or root, in a directory only root can change) and
 * check the process it names with checkPid. missing: no file at all. A file failing its own checks
 * is reported like a stale one (gone: true, nothing to signal).
 */
export async function checkPidFile(pidFile: string, expect: PidExpectation): Promise<PidFileVerdict> {
  let bytes: Buffer
  let mtimeMs: number
  try {
    await checkDir(dirname(pidFile))
    const r = await readFileNoFollow(pidFile, MAX_PIDFILE_BYTES)
    if (r.stat.uid !== 0 && r.stat.uid !== effectiveUid()) {
      return { ok: false, pid: undefined, gone: true, reason: `${pidFile} is owned by uid ${r.stat.uid}, not root` }
    }
    if ((r.stat.mode & 0o022) !== 0) return { ok: false, pid: undefined, gone: true, reason: `${pidFile} is writable by group or others` }
    bytes = r.bytes
    mtimeMs = r.stat.mtimeMs
  } catch (err) {
    const e = err as NodeJS.ErrnoException
    if (e.code === 'ENOENT') return { ok: false, pid: undefined, gone: true, reason: `no ${pidFile}`, missing: true }
    return { ok: false, pid: undefined, gone: true, reason: `${pidFile}: ${e.message}` }
  }
  const rec = parsePidRecord(bytes.toString('latin1'))
  if (rec === undefined) return { ok: false, pid: undefined, gone: true, reason: `${pidFile} holds no pid` }
  return checkPid(rec.pid, expect, { startTicks: rec.startTicks, notAfterMs: mtimeMs })
}

/** Write `pid` and its start time to `pidFile` atomically, never through a link (see writeFileAtomic). */
export async function writePidRecord(pidFile: string, pid: number): Promise<void> {
  const id = await processIdentity(pid)
  await writeFileAtomic(pidFile, formatPidRecord({ pid, startTicks: id?.startTicks }), { mode: 0o644 })
}

/**
 * A command line runs `name`: the program (argv[0]) or the script it runs (the first word after it
 * that is not an option, as in `node --flag /usr/sbin/heartbeat -f`) is called `name` or `name.js`.
 */
export function runsProgram(name: string): (argv: readonly string[]) => boolean {
  const is = (a: string | undefined) => a !== undefined && (basename(a) === name || basename(a) === `${name}.js`)
  return (argv) => is(argv[0]) || is(argv.slice(1).find((a) => !a.startsWith('-')))
}

/** The record in `pidFile` (no symlink followed), or undefined when there is no readable one. */
export async function readPidFileRecord(pidFile: string): Promise<PidRecord | undefined> {
  try {
    return parsePidRecord((await readFileNoFollow(pidFile, MAX_PIDFILE_BYTES)).bytes.toString('latin1'))
  } catch {
    return undefined
  }
}
