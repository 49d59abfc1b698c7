// mon.cf reader (mon 1.3 grammar): globals, hostgroups, watches, services, periods and alerts, with diagnostics.

import { quote, type Diagnostic } from './diagnostics.js'
import { didYouMean } from './did-you-mean.js'
import { ENV_LINE, GLOBALS, GLOBAL_NAMES, PERIOD_KEYWORDS, SERVICE_KEYWORDS, TAG, TOP_KEYWORDS, WATCH_WORDS } from './mon-cf-keywords.js'
import { firstWord, logicalLines, type LogicalLine } from './mon-cf-lines.js'
import { resolveWatches } from './mon-cf-resolve.js'
import type { Report } from './mon-cf-values.js'
import { parseTimePeriod, type TimePeriod } from './time-period.js'

export { parseTimeval, type TimevalResult } from './mon-cf-values.js'

export interface ExitRange {
  from: number
  to: number
}

/** A program line (`monitor` or an alert kind): name looked up in mondir/alertdir, args already split. */
export interface MonCommand {
  name: string
  args: string[]
  line: number
  /** The line as written (after trimming), for messages. */
  text: string
}

export interface MonMonitor extends MonCommand {
  /** mon appends the watch's hosts unless the line ends with a separate `;;`. */
  appendHosts: boolean
}

export interface MonAlert extends MonCommand {
  /** `alert exit=N[-M] ...`: only for monitor exit codes in the range. */
  exitRange?: ExitRange
}

export type AlertAfter =
  | { kind: 'consecutive'; count: number }
  | { kind: 'count-within'; count: number; withinMs: number }
  | { kind: 'failing-for'; durationMs: number }

export interface AlertEvery {
  ms: number
  /** What must be unchanged for a repeat to be suppressed: the summary (default), the whole output, or nothing. */
  compare: 'summary' | 'output' | 'none'
  /** `strict`: the timer is not reset by a success. */
  strict: boolean
}

export interface MonPeriod {
  label?: string
  /** The Time::Period text, e.g. `wd {Sun-Sat}`. */
  spec: string
  period: TimePeriod
  line: number
  alerts: MonAlert[]
  upalerts: MonAlert[]
  startupalerts: MonAlert[]
  alertEvery?: AlertEvery
  alertAfter?: AlertAfter
  numAlerts?: number
  noCompAlerts: boolean
  /** Parsed like mon; mon 1.3 never applies it (docs §1.11), nor do we. */
  upalertAfterMs?: number
  exitRange?: ExitRange
}

export interface MonService {
  name: string
  line: number
  intervalMs?: number
  failureIntervalMs?: number
  randskewMs?: number
  monitor?: MonMonitor
  description?: string
  /** Service `VAR=value` lines: extra environment for its monitor and alerts. */
  env: Record<string, string>
  allowEmptyGroup: boolean
  excludeHosts: string[]
  excludePeriod?: TimePeriod
  periods: MonPeriod[]
}

export interface MonWatch {
  group: string
  line: number
  /** The hostgroup's hosts (or the tag itself when no hostgroup of that name exists, as mon does). */
  hosts: string[]
  services: MonService[]
}

export interface MonHostgroup {
  name: string
  line: number
  hosts: string[]
}

export interface MonGlobals {
  cfbasedir?: string
  basedir?: string
  /** Search path, split on `:`. */
  alertdir?: string[]
  mondir?: string[]
  statedir?: string
  logdir?: string
  pidfile?: string
  /** Max concurrent monitors; 0 = no limit (mon's default). */
  maxprocs: number
  histlength: number
  randstartMs?: number
  /** Every `key = value` line as written, including the ones heartbeat-ts does not use. */
  all: Record<string, string>
}

export interface MonCf {
  globals: MonGlobals
  hostgroups: MonHostgroup[]
  watches: MonWatch[]
}

/** Read mon.cf text. Pure; never throws; every problem becomes a Diagnostic naming path and line. */
export function parseMonCf(text: string, path: string): { config: MonCf; diagnostics: Diagnostic[] } {
  const diagnostics: Diagnostic[] = []
  const r: Report = {
    err: (line, message) => diagnostics.push({ path, line, severity: 'error', message }),
    warn: (line, message) => diagnostics.push({ path, line, severity: 'warning', message }),
  }
  const reader = new RecordReader(r)
  for (const ll of logicalLines(text)) reader.read(ll)
  resolveWatches(r, reader.watches, reader.hostgroups)
  diagnostics.sort((a, b) => (a.line ?? 0) - (b.line ?? 0))
  return { config: { globals: reader.globals, hostgroups: [...reader.hostgroups.values()], watches: reader.watches }, diagnostics }
}

const has = (table: object, kw: string): boolean => Object.hasOwn(table, kw)

/** mon read_cf's records: globals at the top, hostgroup and watch blocks ended by a blank line. */
class RecordReader {
  readonly globals: MonGlobals = { maxprocs: 0, histlength: 100, all: {} }
  readonly hostgroups = new Map<string, MonHostgroup>()
  readonly watches: MonWatch[] = []
  private mode: 'top' | 'hostgroup' | 'watch' = 'top'
  private group: MonHostgroup | undefined
  private watch: MonWatch | undefined
  private service: MonService | undefined
  private period: MonPeriod | undefined
  private blankInWatch = false
  private doubleSpacedWarned = false

  private readonly r: Report

  constructor(r: Report) {
    this.r = r
  }

  private closeRecord(): void {
    this.mode = 'top'
    this.group = undefined
    this.watch = undefined
    this.service = undefined
    this.period = undefined
    this.blankInWatch = false
  }

  read(ll: LogicalLine): void {
    const r = this.r
    if (ll.blank) {
      // mon: an empty line ends the hostgroup/watch record. The seed document prints the file
      // double-spaced, so inside a watch we wait for the next line before deciding.
      if (this.mode === 'watch') this.blankInWatch = true
      else if (this.mode === 'hostgroup') this.closeRecord()
      return
    }
    const word = firstWord(ll)
    if (this.mode === 'watch' && this.blankInWatch) {
      const continues = ll.indented && (WATCH_WORDS.includes(word) || ENV_LINE.test(ll.text))
      if (continues && this.watch !== undefined) {
        if (!this.doubleSpacedWarned) {
          r.warn(ll.line, `blank line inside watch ${quote(this.watch.group)}: mon ends the watch there; read as the double-spaced form, so ${quote(ll.text)} stays in the watch`)
          this.doubleSpacedWarned = true
        }
        this.blankInWatch = false
      } else this.closeRecord()
    }
    if (word === 'hostgroup' || word === 'group') return this.startHostgroup(ll)
    if (word === 'alias' || word === 'view') {
      this.closeRecord()
      r.warn(ll.line, `${quote(word)} record is accepted but has no effect in heartbeat-ts`)
      this.mode = 'hostgroup' // swallow its lines until the blank line, as mon does
      this.group = { name: '', line: ll.line, hosts: [] }
      return
    }
    if (this.mode === 'hostgroup') {
      // mon read_cf: hostgroup continuation is tested before `watch`, so a watch line without a
      // blank line before it becomes host names (and so does the rest of its block).
      const group = this.group
      if (group !== undefined && group.name !== '') {
        if (word === 'watch') {
          r.warn(ll.line, `${quote(ll.text)} follows hostgroup ${quote(group.name)} with no blank line between: mon reads its words as more hosts of ${quote(group.name)}`)
        }
        group.hosts.push(...ll.text.split(/\s+/))
      }
      return
    }
    if (word === 'watch') return this.startWatch(ll)
    if (this.mode === 'watch') return this.watchLine(ll)
    const g = /^([A-Za-z_]\w*)\s*=\s*(.*)$/.exec(ll.text)
    if (g) return this.setGlobal(ll.line, g[1] as string, (g[2] ?? '').trim())
    if (WATCH_WORDS.includes(word)) {
      r.err(ll.line, `${quote(word)} outside a watch block (a blank line ends the watch)`)
      return
    }
    r.err(ll.line, `unknown syntax ${quote(ll.text)}${didYouMean(word, TOP_KEYWORDS)}`)
  }

  private startHostgroup(ll: LogicalLine): void {
    this.closeRecord()
    const [name, ...hosts] = ll.text.split(/\s+/).slice(1)
    if (name === undefined) return this.r.err(ll.line, 'hostgroup needs a name')
    if (!TAG.test(name)) return this.r.err(ll.line, `hostgroup name ${quote(name)} may only contain letters, digits, "_", "." and "-"`)
    // mon: re-defining a hostgroup replaces it.
    this.group = { name, line: ll.line, hosts }
    this.hostgroups.set(name, this.group)
    this.mode = 'hostgroup'
  }

  private startWatch(ll: LogicalLine): void {
    this.closeRecord()
    const name = ll.text.split(/\s+/)[1]
    if (name === undefined) return this.r.err(ll.line, 'watch needs a hostgroup name')
    if (!TAG.test(name)) return this.r.err(ll.line, `watch name ${quote(name)} may only contain letters, digits, "_", "." and "-"`)
    const dup = this.watches.find((w) => w.group === name)
    if (dup) return this.r.err(ll.line, `watch ${quote(name)} is defined twice (first at line ${dup.line})`)
    this.watch = { group: name, line: ll.line, hosts: [], services: [] }
    this.watches.push(this.watch)
    this.mode = 'watch'
    this.doubleSpacedWarned = false
  }

  private setGlobal(line: number, key: string, value: string): void {
    const rule = has(GLOBALS, key) ? GLOBALS[key] : undefined
    if (rule === undefined) return this.r.err(line, `unknown variable ${quote(key)}${didYouMean(key, GLOBAL_NAMES)}`)
    this.globals.all[key] = value
    rule(this.r, line, value, this.globals)
  }

  private startService(ll: LogicalLine, watch: MonWatch, name: string): void {
    if (!TAG.test(name)) this.r.err(ll.line, `service name ${quote(name)} may only contain letters, digits, "_", "." and "-"`)
    const dup = watch.services.find((s) => s.name === name)
    if (dup) this.r.err(ll.line, `service ${quote(name)} is defined twice in watch ${quote(watch.group)} (first at line ${dup.line})`)
    this.service = { name, line: ll.line, env: {}, allowEmptyGroup: false, excludeHosts: [], periods: [] }
    watch.services.push(this.service)
    this.period = undefined
  }

  private startPeriod(ll: LogicalLine, service: MonService, rest: string): void {
    const lm = /^([A-Za-z_]\w*):\s*(.*)$/.exec(rest)
    const label = lm?.[1]
    const spec = lm ? (lm[2] ?? '') : rest
    const key = label ?? spec
    const parsed = parseTimePeriod(spec)
    // a bad period still collects its alert lines (into a placeholder) so they are checked
    if (!parsed.ok) this.r.err(ll.line, `malformed period ${quote(spec)}: ${parsed.reason}`)
    const dup = service.periods.find((q) => (q.label ?? q.spec) === key)
    if (dup) this.r.err(ll.line, `period ${quote(key)} is defined twice in service ${quote(service.name)} (first at line ${dup.line})`)
    const period: MonPeriod = { spec, period: parsed.ok ? parsed.period : { kind: 'never' }, line: ll.line, alerts: [], upalerts: [], startupalerts: [], noCompAlerts: false }
    if (label !== undefined) period.label = label
    if (parsed.ok && !dup) service.periods.push(period)
    this.period = period
  }

  private watchLine(ll: LogicalLine): void {
    const watch = this.watch
    if (watch === undefined) return
    const r = this.r
    const m = /^(\S+)\s*(.*)$/.exec(ll.text)
    const kw = m?.[1] ?? ''
    const rest = m?.[2] ?? ''
    if (kw === 'service') {
      if (rest === '') r.err(ll.line, 'service needs a name')
      else this.startService(ll, watch, rest.split(/\s+/)[0] ?? rest)
      return
    }
    const env = ENV_LINE.exec(ll.text)
    const isService = has(SERVICE_KEYWORDS, kw) || env !== null
    const isPeriod = kw === 'period' || has(PERIOD_KEYWORDS, kw)
    if (!isService && !isPeriod) {
      r.err(ll.line, `unknown keyword ${quote(kw)} in watch ${quote(watch.group)}${didYouMean(kw, WATCH_WORDS)}`)
      return
    }
    const service = this.service
    if (service === undefined) {
      r.err(ll.line, `${quote(kw)} before any "service" line in watch ${quote(watch.group)}`)
      return
    }
    if (kw === 'period') return this.startPeriod(ll, service, rest)
    if (isService) {
      if (this.period !== undefined) {
        r.err(ll.line, `${quote(env ? ll.text : kw)} belongs before the first "period" of service ${quote(service.name)}`)
        return
      }
      if (env) service.env[env[1] as string] = env[2] ?? ''
      else SERVICE_KEYWORDS[kw]?.(r, ll, rest, service)
      return
    }
    if (this.period === undefined) {
      r.err(ll.line, `${quote(kw)} needs a "period" line before it in service ${quote(service.name)}`)
      return
    }
    PERIOD_KEYWORDS[kw]?.(r, ll, rest, this.period)
  }
}
