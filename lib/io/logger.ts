// The daemon's log: logfile, debugfile and the logfacility syslog facility, in heartbeat's line format.

import { createWriteStream, fstat, type WriteStream } from 'node:fs'
import { stat } from 'node:fs/promises'
import { execa, type ResultPromise } from 'execa'

import type { LogLevel } from '../config/log-level.js'
export type { LogLevel }

/** The words heartbeat prints (cl_log prio names): "info:", "WARN:", "ERROR:", "CRIT:", "debug:". */
export const LEVEL_WORD: Record<LogLevel, string> = {
  debug: 'debug',
  info: 'info',
  warn: 'WARN',
  error: 'ERROR',
  crit: 'CRIT',
}

/** syslog(3) severities: LOG_CRIT 2, LOG_ERR 3, LOG_WARNING 4, LOG_INFO 6, LOG_DEBUG 7. */
export const SYSLOG_SEVERITY: Record<LogLevel, number> = { crit: 2, error: 3, warn: 4, info: 6, debug: 7 }

/** syslog(3) facility codes for ha.cf's logfacility names. */
export const FACILITY_CODE: Readonly<Record<string, number>> = {
  kern: 0, user: 1, mail: 2, daemon: 3, auth: 4, syslog: 5, lpr: 6, news: 7, uucp: 8, cron: 9,
  authpriv: 10, ftp: 11, security: 4,
  local0: 16, local1: 17, local2: 18, local3: 19, local4: 20, local5: 21, local6: 22, local7: 23,
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec']
const two = (n: number): string => String(n).padStart(2, '0')

export interface LineOptions {
  /** ha.cf syslogmsgfmt (default true): syslog-style lines in the files, as 3.0.6 writes them. */
  syslogFormat: boolean
  /** uname -n, shown in syslog-style lines. */
  host: string
  pid: number
  entity?: string
}

/** A control byte in a logged string (C0, DEL, C1): written as an escape, never raw. */
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/g
const NAMED_ESCAPES: Readonly<Record<string, string>> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' }

/**
 * Text made safe for one log line: control bytes become `\n`, `\r`, `\t` or `\xHH`, so a node or
 * resource name from the wire cannot start a new line (a forged record, or `<0>` read by
 * `logger --prio-prefix` as an emergency), move the cursor or ring a terminal.
 */
export function escapeLogText(text: string): string {
  return text.replace(CONTROL, (c) => NAMED_ESCAPES[c] ?? `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`)
}

/** The longest message text (in UTF-8 bytes) a line carries; longer text is cut with a note. */
export const MAX_TEXT_BYTES = 900

/**
 * `text` cut to at most maxBytes of UTF-8, on a character boundary, saying how many bytes were
 * left out. util-linux `logger` splits a longer line into 1024-byte records and reads a `<N>` at
 * the start of the next one as its priority, so a long wire string could forge one.
 */
export function boundLogText(text: string, maxBytes = MAX_TEXT_BYTES): string {
  const total = Buffer.byteLength(text, 'utf8')
  if (total <= maxBytes) return text
  let bytes = 0
  let end = 0
  const budget = maxBytes - 40 // room for the note
  for (const ch of text) {
    const n = Buffer.byteLength(ch, 'utf8')
    if (bytes + n > budget) break
    bytes += n
    end += ch.length
  }
  return `${text.slice(0, end)}... [${total - bytes} more bytes cut]`
}

/**
 * One log line without the newline. syslogmsgfmt on (3.0.6's default, see any n1-ha-log.txt of
 * the captures): `Nov 25 17:17:19 titanic5.etri.re.kr heartbeat: [24966]: WARN: text`. cl_log
 * prints the day with %02d ("Jan 05"), not syslog's space padding.
 * syslogmsgfmt off (cl_log's older format): `heartbeat[24966]: 2026/11/25_17:17:19 WARN: text`.
 */
export function formatLogLine(level: LogLevel, text: string, at: Date, o: LineOptions): string {
  const entity = o.entity ?? 'heartbeat'
  const time = `${two(at.getHours())}:${two(at.getMinutes())}:${two(at.getSeconds())}`
  if (o.syslogFormat) {
    return `${MONTHS[at.getMonth()]} ${two(at.getDate())} ${time} ${o.host} ${entity}: [${o.pid}]: ${LEVEL_WORD[level]}: ${text}`
  }
  const date = `${at.getFullYear()}/${two(at.getMonth() + 1)}/${two(at.getDate())}_${time}`
  return `${entity}[${o.pid}]: ${date} ${LEVEL_WORD[level]}: ${text}`
}

/**
 * The message part heartbeat hands to syslog(3) (ident "heartbeat"), so the syslog line reads
 * `... heartbeat: [24966]: WARN: text` like the file; prefixed `<PRI>` for `logger --prio-prefix`.
 */
export function syslogRecord(level: LogLevel, text: string, facility: number, pid: number): string {
  return `<${facility * 8 + SYSLOG_SEVERITY[level]}>[${pid}]: ${LEVEL_WORD[level]}: ${text}`
}

/** Where syslog lines go: the local socket (default /dev/log), or a UDP syslog server (tests). */
export type SyslogTarget = { kind: 'socket'; path: string } | { kind: 'udp'; host: string; port: number }

export interface LoggerConfig {
  logfile: string | undefined
  debugfile: string | undefined
  /** A syslog facility name, or undefined/'none' for no syslog. */
  logfacility: string | undefined
  syslogFormat: boolean
  host: string
  /** Messages above this level go nowhere (debug shows only when debugLevel > 0). */
  debugLevel: number
  /** Also write each line here (stderr when running in the foreground). */
  echo?: NodeJS.WritableStream | undefined
  pid?: number
  /** Default: the socket /dev/log. */
  syslogTarget?: SyslogTarget
  /** The program name in every line and the syslog tag (default heartbeat; hb-mon logs as hb-mon). */
  entity?: string
  /** How often (at most) a write checks whether logrotate moved the file away. Default 1000 ms. */
  rotationCheckMs?: number
}

/** Lines that wait while a rotation check runs; more are dropped and counted. */
export const MAX_HELD_LINES = 10_000
/** Bytes queued on one output (file, syslog pipe, echo) that has not caught up; more lines are dropped and counted. */
export const MAX_QUEUED_BYTES = 1024 * 1024

export interface Logger {
  log(level: LogLevel, text: string): void
  /** Close and reopen the files (SIGHUP, after logrotate moved them); re-check /dev/log. */
  reopen(): Promise<void>
  setDebugLevel(level: number): void
  /** Resolves when the lines logged so far are in the files (and a pending rotation check is done). */
  flush(): Promise<void>
  close(): Promise<void>
}

/** cl_log: a file named /dev/null (any case) means no file at all. */
function fileName(path: string | undefined): string | undefined {
  return path === undefined || path.toLowerCase() === '/dev/null' ? undefined : path
}

function endStream(s: WriteStream | undefined): Promise<void> {
  if (!s || s.destroyed || s.errored) return Promise.resolve()
  return new Promise((resolve) => {
    s.once('error', () => resolve())
    s.end(() => resolve())
  })
}

/** Resolves once everything written so far has reached the file (or the stream failed). */
function drained(s: WriteStream | undefined): Promise<void> {
  if (!s || s.destroyed || s.errored) return Promise.resolve()
  return new Promise((resolve) => {
    s.once('error', () => resolve())
    s.write('', () => resolve())
  })
}

/** One open log file and the identity (dev, inode) of what it has open, to notice rotation. */
interface LogFile {
  path: string
  /** Debug lines too (the debugfile, or a logfile that is also the debugfile). */
  takesDebug: boolean
  /** Non-debug lines (the logfile, or the debugfile, which gets everything). */
  takesOthers: boolean
  stream: WriteStream | undefined
  /** Lines not queued because the stream had MAX_QUEUED_BYTES waiting; reported once it catches up. */
  dropped: number
  identity: { dev: number; ino: number } | undefined
  /** Settles once the stream's identity is known (or its open failed). */
  opened: Promise<void>
}

/**
 * The daemon's logger. Writes are queued on append-mode streams (never synchronous). What goes
 * where follows cluster-glue's cl_direct_log: debugfile gets every message, debug included;
 * logfile gets every message but debug; with only a logfile, debug lines reach no file. syslog
 * (logfacility) gets every message at its own priority through a long-lived util-linux `logger`
 * child (Node has no syslog client). Like cl_log, a file moved or deleted under us (logrotate
 * without copytruncate) is noticed by comparing the path's inode with the open one — cl_log checks
 * once a minute, we at most once a second, asynchronously from the write path — and reopened.
 */
export async function openLogger(cfg: LoggerConfig): Promise<Logger> {
  const pid = cfg.pid ?? process.pid
  const entity = cfg.entity ?? 'heartbeat'
  const checkEveryMs = cfg.rotationCheckMs ?? 1000
  const target: SyslogTarget = cfg.syslogTarget ?? { kind: 'socket', path: '/dev/log' }
  let debugLevel = cfg.debugLevel
  let failures = 0
  const reportFailure = (e: Error) => {
    // A log file we cannot write must not take the daemon down; say so once on stderr.
    if (failures++ === 0) process.stderr.write(`${entity}: cannot write log: ${e.message}\n`)
  }
  const facilityName = cfg.logfacility !== undefined && cfg.logfacility !== 'none' ? cfg.logfacility : undefined
  const facility = facilityName !== undefined ? FACILITY_CODE[facilityName] : undefined

  const logPath = fileName(cfg.logfile)
  const debugPath = fileName(cfg.debugfile)
  const files: LogFile[] = []
  if (logPath !== undefined) {
    // The same path for both: one stream that takes everything (cl_log would write non-debug lines twice).
    files.push({ path: logPath, takesDebug: logPath === debugPath, takesOthers: true, stream: undefined, dropped: 0, identity: undefined, opened: Promise.resolve() })
  }
  if (debugPath !== undefined && debugPath !== logPath) {
    files.push({ path: debugPath, takesDebug: true, takesOthers: true, stream: undefined, dropped: 0, identity: undefined, opened: Promise.resolve() })
  }

  function openFile(f: LogFile): void {
    // Like heartbeat, no directories are created: a missing one is reported once on stderr.
    const s = createWriteStream(f.path, { flags: 'a', mode: 0o644 })
    f.stream = s
    f.identity = undefined
    s.on('error', reportFailure)
    f.opened = new Promise((resolve) => {
      s.once('error', () => resolve())
      s.once('open', (fd: number) => {
        fstat(fd, (err, st) => {
          if (!err && f.stream === s) f.identity = { dev: st.dev, ino: st.ino }
          resolve()
        })
      })
    })
  }

  // ---- rotation ----------------------------------------------------------------------
  let lastCheckMs = -Infinity
  let checking: Promise<void> | undefined
  // File lines logged while a check runs wait here, so none lands in a file logrotate just moved
  // (and may be compressing); they follow in order once the check has reopened what moved.
  let held: { isDebug: boolean; line: string }[] | undefined
  let droppedWhileHeld = 0
  const rotated = async (f: LogFile): Promise<boolean> => {
    const s = f.stream
    if (!s) return false
    // A stream that failed (directory missing, disk error): try again, cl_log reopens per message.
    if (s.destroyed || s.errored) return true
    if (f.identity === undefined) return false
    const st = await stat(f.path).catch(() => undefined)
    return st === undefined || st.ino !== f.identity.ino || st.dev !== f.identity.dev
  }
  async function checkRotation(): Promise<void> {
    const notes: string[] = []
    try {
      for (const f of files) {
        if (!(await rotated(f))) continue
        const old = f.stream
        const hadOpened = f.identity !== undefined
        openFile(f)
        void endStream(old)
        // cl_log's words, at info, so the new file says why it starts here.
        if (hadOpened) notes.push(`log-rotate detected on logfile ${f.path}`)
      }
    } finally {
      const waiting = held ?? []
      held = undefined
      for (const n of notes) write('info', n)
      for (const w of waiting) toFiles(w.isDebug, w.line)
      if (droppedWhileHeld > 0) {
        const n = droppedWhileHeld
        droppedWhileHeld = 0
        write('warn', `${n} log lines dropped while checking the log files for rotation (more than ${MAX_HELD_LINES} waiting)`)
      }
    }
  }
  function maybeCheckRotation(): void {
    if (checking || files.length === 0) return
    const now = Date.now()
    if (now - lastCheckMs < checkEveryMs) return
    lastCheckMs = now
    held = []
    checking = checkRotation()
      .catch(() => undefined)
      .finally(() => {
        checking = undefined
      })
  }

  // ---- syslog ------------------------------------------------------------------------
  type SyslogChild = ResultPromise<{ stdin: 'pipe'; stdout: 'ignore'; stderr: 'ignore'; reject: false; cleanup: true }>
  let syslog: SyslogChild | undefined
  let syslogUsable = false
  let syslogStartedMs = -Infinity
  let notedNoSyslog = false

  async function probeSyslog(): Promise<void> {
    if (facility === undefined) return
    if (target.kind === 'udp') {
      syslogUsable = true
      return
    }
    // No syslog daemon listening (containers, minimal systems): `logger` would fail on every
    // line, so say so once in the files and keep going without syslog.
    const st = await stat(target.path).catch(() => undefined)
    syslogUsable = st !== undefined && st.isSocket()
    if (!syslogUsable && !notedNoSyslog) {
      notedNoSyslog = true
      const note = `logfacility ${facilityName ?? ''}: ${target.path} is not a syslog socket (no syslog daemon?); messages go to the log files only`
      write('warn', note)
      if (files.length === 0 && !cfg.echo) process.stderr.write(`${entity}: ${note}\n`)
    }
  }

  function startSyslog(): void {
    if (facility === undefined || !syslogUsable) return
    // A logger that keeps dying (syslog daemon gone) is restarted at most every 10 s.
    const now = Date.now()
    if (now - syslogStartedMs < 10_000) return
    syslogStartedMs = now
    const where = target.kind === 'socket' ? ['--socket', target.path] : ['-d', '-n', target.host, '-P', String(target.port), '--rfc3164']
    const child: SyslogChild = execa('logger', ['--prio-prefix', '-t', entity, ...where], {
      stdin: 'pipe',
      stdout: 'ignore',
      stderr: 'ignore',
      reject: false,
      cleanup: true,
    })
    child.stdin.on('error', () => undefined)
    void child.then(() => {
      if (syslog === child) syslog = undefined
    })
    syslog = child
  }

  // ---- writing -----------------------------------------------------------------------
  const fileLine = (level: LogLevel, text: string) =>
    `${formatLogLine(level, text, new Date(), { syslogFormat: cfg.syslogFormat, host: cfg.host, pid, entity })}\n`
  const droppedNote = (n: number, what: string) => `${n} log lines dropped: ${what} did not keep up`

  function toFiles(isDebug: boolean, line: string): void {
    if (held) {
      if (held.length < MAX_HELD_LINES) held.push({ isDebug, line })
      else droppedWhileHeld++
      return
    }
    for (const f of files) {
      if (!(isDebug ? f.takesDebug : f.takesOthers) || !f.stream) continue
      if (f.stream.writableLength > MAX_QUEUED_BYTES) {
        f.dropped++
        continue
      }
      if (f.dropped > 0) {
        f.stream.write(fileLine('warn', droppedNote(f.dropped, f.path)))
        f.dropped = 0
      }
      f.stream.write(line)
    }
  }

  // The echo (stderr in the foreground) and the syslog pipe are bounded the same way.
  let echoDropped = 0
  function toEcho(line: string): void {
    const echo: (NodeJS.WritableStream & { writableLength?: number }) | undefined = cfg.echo
    if (!echo) return
    if ((echo.writableLength ?? 0) > MAX_QUEUED_BYTES) {
      echoDropped++
      return
    }
    if (echoDropped > 0) {
      echo.write(fileLine('warn', droppedNote(echoDropped, 'standard error')))
      echoDropped = 0
    }
    echo.write(line)
  }
  let syslogDropped = 0
  function toSyslog(level: LogLevel, text: string): void {
    if (facility === undefined || !syslogUsable) return
    if (!syslog) startSyslog()
    const stdin = syslog?.stdin
    if (!stdin) return
    if (stdin.writableLength > MAX_QUEUED_BYTES) {
      syslogDropped++
      return
    }
    if (syslogDropped > 0) {
      stdin.write(`${syslogRecord('warn', droppedNote(syslogDropped, 'syslog'), facility, pid)}\n`)
      syslogDropped = 0
    }
    stdin.write(`${syslogRecord(level, text, facility, pid)}\n`)
  }

  /** Every line goes out through here: escaped and bounded once, for every destination. */
  function write(level: LogLevel, rawText: string): void {
    const text = boundLogText(escapeLogText(rawText))
    const line = fileLine(level, text)
    toFiles(level === 'debug', line)
    toEcho(line)
    toSyslog(level, text)
  }

  for (const f of files) openFile(f)
  await probeSyslog()
  startSyslog()

  return {
    log(level, text) {
      if (level === 'debug' && debugLevel <= 0) return
      // The check first: the line that triggers it waits for its outcome.
      maybeCheckRotation()
      write(level, text)
    },
    async reopen() {
      await checking
      const old = files.map((f) => f.stream)
      for (const f of files) openFile(f)
      await Promise.all(old.map(endStream))
      await probeSyslog()
      if (!syslog) {
        syslogStartedMs = -Infinity
        startSyslog()
      }
    },
    async flush() {
      await checking
      await Promise.all(files.map(async (f) => {
        await f.opened
        await drained(f.stream)
      }))
    },
    setDebugLevel(level) {
      debugLevel = Math.max(0, Math.min(255, level))
    },
    async close() {
      await checking
      await Promise.all(files.map((f) => endStream(f.stream)))
      if (syslog) {
        const child = syslog
        child.stdin.end()
        await child
      }
    },
  }
}
