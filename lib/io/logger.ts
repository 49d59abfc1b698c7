// The daemon's log: logfile, debugfile and the logfacility syslog facility, in heartbeat's line format.

import { createWriteStream, type WriteStream } from 'node:fs'
import { execa, type ResultPromise } from 'execa'

export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'crit'

/** The words heartbeat prints (cl_log prio names): "info:", "WARN:", "ERROR:", "CRIT:", "debug:". */
export const LEVEL_WORD: Record<LogLevel, string> = {
  debug: 'debug',
  info: 'info',
  warn: 'WARN',
  error: 'ERROR',
  crit: 'CRIT',
}

const SYSLOG_SEVERITY: Record<LogLevel, number> = { crit: 2, error: 3, warn: 4, info: 6, debug: 7 }

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

/**
 * One log line without the newline. syslogmsgfmt on (3.0.6's default, see any n1-ha-log.txt of
 * the captures): `Nov 25 17:17:19 titanic5.etri.re.kr heartbeat: [24966]: WARN: text`.
 * syslogmsgfmt off (older format): `heartbeat[24966]: 2026/11/25_17:17:19 WARN: text`.
 */
export function formatLogLine(level: LogLevel, text: string, at: Date, o: LineOptions): string {
  const entity = o.entity ?? 'heartbeat'
  const time = `${two(at.getHours())}:${two(at.getMinutes())}:${two(at.getSeconds())}`
  if (o.syslogFormat) {
    const day = String(at.getDate()).padStart(2, ' ')
    return `${MONTHS[at.getMonth()]} ${day} ${time} ${o.host} ${entity}: [${o.pid}]: ${LEVEL_WORD[level]}: ${text}`
  }
  const date = `${at.getFullYear()}/${two(at.getMonth() + 1)}/${two(at.getDate())}_${time}`
  return `${entity}[${o.pid}]: ${date} ${LEVEL_WORD[level]}: ${text}`
}

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
}

export interface Logger {
  log(level: LogLevel, text: string): void
  /** Close and reopen the files (SIGHUP, after logrotate moved them). */
  reopen(): Promise<void>
  setDebugLevel(level: number): void
  /** Resolves when the lines logged so far are in the files. */
  flush(): Promise<void>
  close(): Promise<void>
}

function openAppend(path: string, onError: (e: Error) => void): WriteStream {
  const s = createWriteStream(path, { flags: 'a', mode: 0o644 })
  s.on('error', onError)
  return s
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

/**
 * The daemon's logger. Writes are queued on append-mode streams (never synchronous). As cl_log
 * does, debug messages go to debugfile only; everything else to logfile and debugfile; syslog
 * gets non-debug messages through a long-lived util-linux `logger` child (Node has no syslog
 * client), one `<PRI>`-prefixed line each.
 */
export async function openLogger(cfg: LoggerConfig): Promise<Logger> {
  const pid = cfg.pid ?? process.pid
  let debugLevel = cfg.debugLevel
  let logStream: WriteStream | undefined
  let debugStream: WriteStream | undefined
  let syslog: ResultPromise<{ stdin: 'pipe'; stdout: 'ignore'; stderr: 'ignore'; reject: false; cleanup: true }> | undefined
  let failures = 0
  const reportFailure = (e: Error) => {
    // A log file we cannot write must not take the daemon down; say so once on stderr.
    if (failures++ === 0) process.stderr.write(`heartbeat: cannot write log: ${e.message}\n`)
  }
  const facility = cfg.logfacility !== undefined && cfg.logfacility !== 'none' ? FACILITY_CODE[cfg.logfacility] : undefined

  function openFiles(): void {
    // Like heartbeat, no directories are created: a missing one is reported once on stderr.
    logStream = cfg.logfile !== undefined ? openAppend(cfg.logfile, reportFailure) : undefined
    debugStream = cfg.debugfile !== undefined && cfg.debugfile !== cfg.logfile ? openAppend(cfg.debugfile, reportFailure) : undefined
  }

  function startSyslog(): void {
    if (facility === undefined) return
    const child = execa('logger', ['--prio-prefix', '-t', 'heartbeat', `--id=${pid}`], {
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

  openFiles()
  startSyslog()

  return {
    log(level, text) {
      if (level === 'debug' && debugLevel <= 0) return
      const line = `${formatLogLine(level, text, new Date(), { syslogFormat: cfg.syslogFormat, host: cfg.host, pid })}\n`
      if (level !== 'debug') logStream?.write(line)
      debugStream?.write(line)
      cfg.echo?.write(line)
      if (facility !== undefined && level !== 'debug') {
        if (!syslog) startSyslog()
        syslog?.stdin.write(`<${facility * 8 + SYSLOG_SEVERITY[level]}>${LEVEL_WORD[level]}: ${text}\n`)
      }
    },
    async reopen() {
      const old = [logStream, debugStream]
      openFiles()
      await Promise.all(old.map(endStream))
    },
    async flush() {
      await Promise.all([drained(logStream), drained(debugStream)])
    },
    setDebugLevel(level) {
      debugLevel = Math.max(0, Math.min(255, level))
    },
    async close() {
      await Promise.all([endStream(logStream), endStream(debugStream)])
      if (syslog) {
        syslog.stdin.end()
        await syslog
      }
    },
  }
}
