// Which heartbeat runs on this node: heartbeat-ts, the C heartbeat (3.0.6, during a migration or after
// a rollback), or none. Both write the same pidfile (/var/run/heartbeat.pid); the process it names
// tells them apart: the C daemon's executable is .../heartbeat/heartbeat and it retitles itself
// "heartbeat: master control process"; ours is node running .../heartbeat.js.

import { readFile, readlink, stat } from 'node:fs/promises'
import { basename, dirname } from 'node:path'
import { CLOCK_TICKS_PER_SEC, MAX_PIDFILE_BYTES, parsePidRecord, parseStatLine } from './pid-check.js'
import { HEARTBEAT_PROCESS } from './pidfile.js'
import { checkDir, effectiveUid, readFileNoFollow } from './safe-files.js'

export type RunningDaemon =
  | { kind: 'heartbeat-ts'; pid: number }
  /** exe: the daemon's executable, undefined when /proc/PID/exe cannot be read (not root). */
  | { kind: 'c-heartbeat'; pid: number; exe: string | undefined }
  | { kind: 'none'; reason: string }

export interface DetectOptions {
  /** The heartbeat pidfile (DaemonPaths.pidFile). */
  pidFile: string
  /** Where /proc is; tests give a fake tree. */
  procRoot?: string
}

/** A pidfile without a start time only says its process started before the file's mtime (clock slack). */
const MTIME_SLACK_MS = 5000

/** The C daemon's process title (heartbeat.c sets it for the master control process). */
const C_TITLE = /^heartbeat: /

/** /usr/lib/heartbeat/heartbeat, /usr/libexec/heartbeat/heartbeat, /usr/lib64/heartbeat/heartbeat, … */
export function isCHeartbeatExe(exe: string): boolean {
  return basename(exe) === 'heartbeat' && basename(dirname(exe)) === 'heartbeat'
}

async function readPidFile(pidFile: string): Promise<{ pid: number; startTicks: number | undefined; mtimeMs: number } | { reason: string }> {
  try {
    await checkDir(dirname(pidFile))
    const r = await readFileNoFollow(pidFile, MAX_PIDFILE_BYTES)
    if (r.stat.uid !== 0 && r.stat.uid !== effectiveUid()) return { reason: `${pidFile} is owned by uid ${r.stat.uid}, not root` }
    if ((r.stat.mode & 0o022) !== 0) return { reason: `${pidFile} is writable by group or others` }
    const rec = parsePidRecord(r.bytes.toString('latin1'))
    if (rec === undefined) return { reason: `${pidFile} holds no pid` }
    return { pid: rec.pid, startTicks: rec.startTicks, mtimeMs: r.stat.mtimeMs }
  } catch (err) {
    const e = err as NodeJS.ErrnoException
    return { reason: e.code === 'ENOENT' ? `no ${pidFile}` : `${pidFile}: ${e.message}` }
  }
}

/** Tell which heartbeat, if any, the pidfile names. Never throws: anything unreadable is "none" with the reason. */
export async function runningDaemon(opts: DetectOptions): Promise<RunningDaemon> {
  const proc = opts.procRoot ?? '/proc'
  const rec = await readPidFile(opts.pidFile)
  if ('reason' in rec) return { kind: 'none', reason: rec.reason }
  const { pid } = rec
  let statLine: string
  let cmdline: Buffer
  let uid: number
  try {
    ;[statLine, cmdline, uid] = await Promise.all([
      readFile(`${proc}/${pid}/stat`, 'latin1'),
      readFile(`${proc}/${pid}/cmdline`),
      stat(`${proc}/${pid}`).then((st) => st.uid),
    ])
  } catch {
    return { kind: 'none', reason: `${opts.pidFile} names pid ${pid}, which is gone (a stale pidfile)` }
  }
  const fields = parseStatLine(statLine)
  if (fields === undefined || fields.state === 'Z') return { kind: 'none', reason: `pid ${pid} has exited (a stale pidfile)` }
  if (uid !== 0 && uid !== effectiveUid()) return { kind: 'none', reason: `pid ${pid} runs as uid ${uid}, not root: not heartbeat` }
  // The pidfile outlives its process and the number gets reused: the process must be as old as the file says.
  if (rec.startTicks !== undefined) {
    if (fields.startTicks !== rec.startTicks) return { kind: 'none', reason: `pid ${pid} started after ${opts.pidFile} was written (pid reused)` }
  } else {
    const btime = /^btime (\d+)$/m.exec(await readFile(`${proc}/stat`, 'latin1').catch(() => ''))
    const startedMs = btime ? Number(btime[1]) * 1000 + (fields.startTicks * 1000) / CLOCK_TICKS_PER_SEC : undefined
    if (startedMs !== undefined && startedMs > rec.mtimeMs + MTIME_SLACK_MS) {
      return { kind: 'none', reason: `pid ${pid} started after ${opts.pidFile} was written (pid reused)` }
    }
  }
  const argv = cmdline.length === 0 ? [] : cmdline.toString('utf8').replace(/\0$/, '').split('\0')
  // A binary replaced by a package upgrade reads "/usr/libexec/heartbeat/heartbeat (deleted)".
  const exe = await readlink(`${proc}/${pid}/exe`).then(
    (p) => p.replace(/ \(deleted\)$/, ''),
    () => undefined,
  )
  if (exe !== undefined ? isCHeartbeatExe(exe) : C_TITLE.test(argv[0] ?? '')) return { kind: 'c-heartbeat', pid, exe }
  if (HEARTBEAT_PROCESS.argv(argv)) return { kind: 'heartbeat-ts', pid }
  return { kind: 'none', reason: `pid ${pid} is not heartbeat: its command line is ${JSON.stringify(argv.join(' ').slice(0, 200))}` }
}

/** "the C heartbeat (pid 812, /usr/libexec/heartbeat/heartbeat)": for messages. */
export function describeCHeartbeat(d: { pid: number; exe: string | undefined }): string {
  return `the C heartbeat (pid ${d.pid}${d.exe === undefined ? '' : `, ${d.exe}`})`
}
