// mon.cf reader (mon 1.3 grammar): globals, hostgroups, watches, services, periods and alerts, with diagnostics.

import type { Diagnostic } from './diagnostics.js'
import { quote } from './diagnostics.js'
import { repairDashes, splitWords } from './mon-words.js'
import { parseTimePeriod } from './time-period.js'
import type { TimePeriod } from './time-period.js'

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

const knownGlobals = [
  'cfbasedir', 'alertdir', 'mondir', 'maxprocs', 'histlength', 'randstart', 'authtype', 'basedir', 'statedir',
  'logdir', 'authfile', 'userfile', 'pamservice', 'serverbind', 'trapbind', 'serverport', 'trapport', 'clientallow',
  'pidfile', 'cltimeout', 'monerrfile', 'dtlogfile', 'dtlogging', 'historicfile', 'historictime', 'dep_recur_limit',
  'dep_behavior', 'dep_memory', 'unack_summary', 'syslog_facility', 'startupalerts_on_reset', 'monremote',
  'exclude_period', 'snmpport', 'trapkey',
]

const serviceKeywords = [
  'interval', 'monitor', 'description', 'failure_interval', 'randskew', 'allow_empty_group', 'exclude_hosts',
  'exclude_period', 'depend', 'alertdepend', 'monitordepend', 'hostdepend', 'dep_behavior', 'dep_memory',
  'traptimeout', 'trapduration', 'redistribute', 'unack_summary',
]
// Parsed by mon, but they only matter for its dependency, trap or client machinery, which heartbeat-ts does not have.
const inertServiceKeywords = new Set([
  'depend', 'alertdepend', 'monitordepend', 'hostdepend', 'dep_behavior', 'dep_memory', 'traptimeout',
  'trapduration', 'redistribute', 'unack_summary',
])
const periodKeywords = [
  'alert', 'upalert', 'startupalert', 'ackalert', 'disablealert', 'alertevery', 'alertafter', 'numalerts',
  'no_comp_alerts', 'upalertafter', 'alertexitrange', 'alerts_dont_count',
]
const topKeywords = ['hostgroup', 'group', 'watch', 'alias', 'view']

const tagRe = /^[A-Za-z0-9_.-]+$/
const envLineRe = /^([A-Z_][A-Z0-9_]*)=(.*)$/

export type TimevalResult = { ok: true; ms: number } | { ok: false }

/** mon's dhmstos: a number with an optional fraction and one unit letter s|m|h|d; a bare number is refused. */
export function parseTimeval(text: string): TimevalResult {
  const m = /^\s*(\d+(?:\.\d*)?|\.\d+)([smhd])\s*$/i.exec(text)
  if (!m) return { ok: false }
  const unit = (m[2] ?? 's').toLowerCase()
  const factor = unit === 's' ? 1000 : unit === 'm' ? 60_000 : unit === 'h' ? 3_600_000 : 86_400_000
  return { ok: true, ms: Math.round(Number(m[1]) * factor) }
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0] as number
    row[0] = i
    for (let j = 1; j <= b.length; j++) {
      const cur = row[j] as number
      row[j] = Math.min(cur + 1, (row[j - 1] as number) + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1))
      prev = cur
    }
  }
  return row[b.length] as number
}

function didYouMean(word: string, candidates: readonly string[]): string {
  let best: string | undefined
  let bestD = 3
  for (const c of candidates) {
    const d = editDistance(word.toLowerCase(), c)
    if (d < bestD) {
      bestD = d
      best = c
    }
  }
  return best === undefined ? '' : ` (did you mean ${quote(best)}?)`
}

interface LogicalLine {
  line: number
  text: string
  indented: boolean
  blank: boolean
}

// mon read_cf: whole-line `#` comments, a trailing `\` joins the next line (its leading blanks removed).
function logicalLines(text: string): LogicalLine[] {
  const physical = text.split(/\r?\n/)
  if (physical.length > 0 && physical[physical.length - 1] === '') physical.pop()
  const out: LogicalLine[] = []
  let i = 0
  while (i < physical.length) {
    const first = physical[i] as string
    const line = i + 1
    i++
    // mon: a comment line is skipped; unlike an empty line it does not end a record.
    if (/^\s*#/.test(first)) continue
    let joined = first
    while (/\\\s*$/.test(joined) && i < physical.length) {
      joined = joined.replace(/\\\s*$/, '') + (physical[i] as string).replace(/^\s+/, '')
      i++
    }
    joined = joined.replace(/\\\s*$/, '')
    const trimmed = joined.trim()
    out.push({ line, text: trimmed, indented: /^\s/.test(joined), blank: trimmed === '' })
  }
  return out
}

/** Read mon.cf text. Pure; never throws; every problem becomes a Diagnostic naming path and line. */
export function parseMonCf(text: string, path: string): { config: MonCf; diagnostics: Diagnostic[] } {
  const diagnostics: Diagnostic[] = []
  const err = (line: number, message: string): void => {
    diagnostics.push({ path, line, severity: 'error', message })
  }
  const warn = (line: number, message: string): void => {
    diagnostics.push({ path, line, severity: 'warning', message })
  }

  const globals: MonGlobals = { maxprocs: 0, histlength: 100, all: {} }
  const hostgroups = new Map<string, MonHostgroup>()
  const watches: MonWatch[] = []

  type Mode = 'top' | 'hostgroup' | 'watch'
  let mode: Mode = 'top'
  let group: MonHostgroup | undefined
  let watch: MonWatch | undefined
  let service: MonService | undefined
  let period: MonPeriod | undefined
  let blankInWatch = false
  let doubleSpacedWarned = false

  const closeRecord = (): void => {
    mode = 'top'
    group = undefined
    watch = undefined
    service = undefined
    period = undefined
    blankInWatch = false
  }

  const timeval = (line: number, keyword: string, value: string, allowZero = false): number | undefined => {
    const r = parseTimeval(value)
    if (!r.ok) {
      const bare = /^\s*\d+(\.\d*)?\s*$/.test(value)
      err(line, `${keyword}: ${quote(value)} is not a time value${bare ? ' (mon needs a unit: 5s, 1m, 2h, 1d)' : ' (use e.g. 5s, 1m, 2h, 1d)'}`)
      return undefined
    }
    if (!allowZero && r.ms === 0) {
      err(line, `${keyword}: ${quote(value)} must be greater than zero`)
      return undefined
    }
    return r.ms
  }

  const count = (line: number, keyword: string, value: string, min: number): number | undefined => {
    if (!/^\d+$/.test(value.trim()) || Number(value) < min) {
      err(line, `${keyword}: ${quote(value)} is not ${min === 0 ? 'a non-negative' : 'a positive'} integer`)
      return undefined
    }
    return Number(value)
  }

  const exitRange = (line: number, keyword: string, value: string): ExitRange | undefined => {
    const m = /^(\d+)(?:-(\d+))?$/.exec(value.trim())
    if (!m) {
      err(line, `${keyword}: bad exit range ${quote(value)} (use N or N-M)`)
      return undefined
    }
    const from = Number(m[1])
    const to = m[2] === undefined ? from : Number(m[2])
    return { from, to }
  }

  const command = (ll: LogicalLine, keyword: string, rest: string): MonCommand | undefined => {
    const split = splitWords(rest)
    if (!split.ok) {
      err(ll.line, `${keyword}: ${split.reason} in ${quote(ll.text)}`)
      return undefined
    }
    const [name, ...args] = split.words
    if (name === undefined || name === '') {
      err(ll.line, `${keyword} needs a program name`)
      return undefined
    }
    const fixed = repairDashes(args)
    for (const r of fixed.repairs) {
      warn(ll.line, `${keyword} argument ${quote(r.original)} starts with an ${r.what}, not "-"; read as ${quote(r.repaired)}`)
    }
    return { name, args: fixed.words, line: ll.line, text: ll.text }
  }

  const alertLine = (ll: LogicalLine, keyword: string, rest: string): MonAlert | undefined => {
    let range: ExitRange | undefined
    const m = /^exit=(\S*)\s*(.*)$/.exec(rest)
    if (m) {
      range = exitRange(ll.line, keyword, m[1] ?? '')
      if (range === undefined) return undefined
      rest = m[2] ?? ''
    }
    const c = command(ll, keyword, rest)
    if (c === undefined) return undefined
    return range === undefined ? c : { ...c, exitRange: range }
  }

  const startService = (ll: LogicalLine, name: string): void => {
    if (watch === undefined) return
    if (!tagRe.test(name)) {
      err(ll.line, `service name ${quote(name)} may only contain letters, digits, "_", "." and "-"`)
    }
    const dup = watch.services.find((s) => s.name === name)
    if (dup) err(ll.line, `service ${quote(name)} is defined twice in watch ${quote(watch.group)} (first at line ${dup.line})`)
    service = { name, line: ll.line, env: {}, allowEmptyGroup: false, excludeHosts: [], periods: [] }
    watch.services.push(service)
    period = undefined
  }

  const serviceKeyword = (ll: LogicalLine, kw: string, rest: string, svc: MonService): void => {
    switch (kw) {
      case 'interval': {
        const ms = timeval(ll.line, kw, rest)
        if (ms !== undefined) svc.intervalMs = ms
        return
      }
      case 'failure_interval': {
        const ms = timeval(ll.line, kw, rest)
        if (ms !== undefined) svc.failureIntervalMs = ms
        return
      }
      case 'randskew': {
        const ms = timeval(ll.line, kw, rest)
        if (ms !== undefined) svc.randskewMs = ms
        return
      }
      case 'monitor': {
        // mon: a separate trailing `;;` means "do not append the hosts".
        const noHosts = /(^|\s);;\s*$/.test(rest)
        const c = command(ll, kw, noHosts ? rest.replace(/;;\s*$/, '') : rest)
        if (c) svc.monitor = { ...c, appendHosts: !noHosts }
        return
      }
      case 'description':
        svc.description = rest
        return
      case 'allow_empty_group':
        svc.allowEmptyGroup = true
        return
      case 'exclude_hosts':
        svc.excludeHosts.push(...rest.split(/\s+/).filter((h) => h !== ''))
        return
      case 'exclude_period': {
        const p = parseTimePeriod(rest)
        if (!p.ok) err(ll.line, `malformed period ${quote(rest)}: ${p.reason}`)
        else svc.excludePeriod = p.period
        return
      }
      default:
        if (inertServiceKeywords.has(kw)) warn(ll.line, `${quote(kw)} is accepted but has no effect in heartbeat-ts`)
    }
  }

  const periodKeyword = (ll: LogicalLine, kw: string, rest: string, p: MonPeriod): void => {
    switch (kw) {
      case 'alert':
      case 'upalert':
      case 'startupalert': {
        const a = alertLine(ll, kw, rest)
        if (a) (kw === 'alert' ? p.alerts : kw === 'upalert' ? p.upalerts : p.startupalerts).push(a)
        return
      }
      case 'ackalert':
      case 'disablealert': {
        const a = alertLine(ll, kw, rest)
        if (a) warn(ll.line, `${kw} never fires: heartbeat-ts has no mon client protocol to ack or disable with`)
        return
      }
      case 'alertevery': {
        const [tv = '', ...mods] = rest.split(/\s+/)
        const ms = timeval(ll.line, kw, tv)
        if (ms === undefined) return
        const every: AlertEvery = { ms, compare: 'summary', strict: false }
        for (const mod of mods) {
          if (mod === 'observe_detail') every.compare = 'output'
          else if (mod === 'ignore_summary') every.compare = 'none'
          else if (mod === 'strict') {
            every.compare = 'none'
            every.strict = true
          } else if (mod !== 'summary') {
            err(ll.line, `alertevery: unknown option ${quote(mod)} (expected observe_detail, ignore_summary, strict or summary)`)
            return
          }
        }
        p.alertEvery = every
        return
      }
      case 'alertafter': {
        const words = rest.split(/\s+/).filter((w) => w !== '')
        const bad = (): void => err(ll.line, `alertafter: ${quote(rest)} is not "N", "N timeval" or "timeval"`)
        if (words.length === 1 && /^\d+$/.test(words[0] ?? '')) {
          const n = Number(words[0])
          if (n < 1) return bad()
          p.alertAfter = { kind: 'consecutive', count: n }
        } else if (words.length === 2 && /^\d+$/.test(words[0] ?? '')) {
          const w = parseTimeval(words[1] ?? '')
          if (!w.ok || w.ms === 0 || Number(words[0]) < 1) return bad()
          p.alertAfter = { kind: 'count-within', count: Number(words[0]), withinMs: w.ms }
        } else if (words.length === 1) {
          const w = parseTimeval(words[0] ?? '')
          if (!w.ok) return bad()
          p.alertAfter = { kind: 'failing-for', durationMs: w.ms }
        } else bad()
        return
      }
      case 'numalerts': {
        const n = count(ll.line, kw, rest, 1)
        if (n !== undefined) p.numAlerts = n
        return
      }
      case 'no_comp_alerts':
        p.noCompAlerts = true
        return
      case 'upalertafter': {
        const ms = timeval(ll.line, kw, rest, true)
        if (ms !== undefined) p.upalertAfterMs = ms
        return
      }
      case 'alertexitrange': {
        const r = exitRange(ll.line, kw, rest)
        if (r) p.exitRange = r
        return
      }
      case 'alerts_dont_count':
        return
    }
  }

  const watchLine = (ll: LogicalLine): void => {
    if (watch === undefined) return
    const m = /^(\S+)\s*(.*)$/.exec(ll.text)
    const kw = m?.[1] ?? ''
    const rest = m?.[2] ?? ''
    if (kw === 'service') {
      if (rest === '') err(ll.line, 'service needs a name')
      else startService(ll, rest.split(/\s+/)[0] ?? rest)
      return
    }
    const env = envLineRe.exec(ll.text)
    const isService = serviceKeywords.includes(kw) || env !== null
    const isPeriod = kw === 'period' || periodKeywords.includes(kw)
    if (!isService && !isPeriod) {
      err(ll.line, `unknown keyword ${quote(kw)} in watch ${quote(watch.group)}${didYouMean(kw, [...serviceKeywords, ...periodKeywords, 'service', 'period'])}`)
      return
    }
    if (service === undefined) {
      err(ll.line, `${quote(kw)} before any "service" line in watch ${quote(watch.group)}`)
      return
    }
    if (kw === 'period') {
      const lm = /^([A-Za-z_]\w*):\s*(.*)$/.exec(rest)
      const label = lm?.[1]
      const spec = lm ? (lm[2] ?? '') : rest
      const key = label ?? spec
      const parsed = parseTimePeriod(spec)
      if (!parsed.ok) {
        err(ll.line, `malformed period ${quote(spec)}: ${parsed.reason}`)
        // keep collecting its alert lines into a placeholder so they are still checked
      }
      const dup = service.periods.find((q) => (q.label ?? q.spec) === key)
      if (dup) err(ll.line, `period ${quote(key)} is defined twice in service ${quote(service.name)} (first at line ${dup.line})`)
      period = {
        spec,
        period: parsed.ok ? parsed.period : { kind: 'never' },
        line: ll.line,
        alerts: [],
        upalerts: [],
        startupalerts: [],
        noCompAlerts: false,
      }
      if (label !== undefined) period.label = label
      if (parsed.ok && !dup) service.periods.push(period)
      return
    }
    if (isService) {
      if (period !== undefined) {
        err(ll.line, `${quote(env ? ll.text : kw)} belongs before the first "period" of service ${quote(service.name)}`)
        return
      }
      if (env) service.env[env[1] as string] = env[2] ?? ''
      else serviceKeyword(ll, kw, rest, service)
      return
    }
    if (period === undefined) {
      err(ll.line, `${quote(kw)} needs a "period" line before it in service ${quote(service.name)}`)
      return
    }
    periodKeyword(ll, kw, rest, period)
  }

  for (const ll of logicalLines(text)) {
    if (ll.blank) {
      // mon: an empty line ends the hostgroup/watch record. The seed document prints the file
      // double-spaced, so inside a watch we wait for the next line before deciding.
      if (mode === 'watch') blankInWatch = true
      else if (mode === 'hostgroup') closeRecord()
      continue
    }
    const firstWord = ll.text.split(/\s+/)[0] ?? ''
    if (mode === 'watch' && blankInWatch) {
      const continues =
        ll.indented &&
        (firstWord === 'service' || firstWord === 'period' || serviceKeywords.includes(firstWord) ||
          periodKeywords.includes(firstWord) || envLineRe.test(ll.text))
      if (continues && watch !== undefined) {
        if (!doubleSpacedWarned) {
          warn(ll.line, `blank line inside watch ${quote(watch.group)}: mon ends the watch there; read as the double-spaced form, so ${quote(ll.text)} stays in the watch`)
          doubleSpacedWarned = true
        }
        blankInWatch = false
      } else closeRecord()
    }

    if (firstWord === 'hostgroup' || firstWord === 'group') {
      closeRecord()
      const words = ll.text.split(/\s+/).slice(1)
      const [name, ...hosts] = words
      if (name === undefined) {
        err(ll.line, 'hostgroup needs a name')
        continue
      }
      if (!tagRe.test(name)) {
        err(ll.line, `hostgroup name ${quote(name)} may only contain letters, digits, "_", "." and "-"`)
        continue
      }
      // mon: re-defining a hostgroup replaces it.
      group = { name, line: ll.line, hosts }
      hostgroups.set(name, group)
      mode = 'hostgroup'
      continue
    }
    if (firstWord === 'alias' || firstWord === 'view') {
      closeRecord()
      warn(ll.line, `${quote(firstWord)} record is accepted but has no effect in heartbeat-ts`)
      mode = 'hostgroup' // swallow its lines until the blank line, as mon does
      group = { name: '', line: ll.line, hosts: [] }
      continue
    }
    if (mode === 'hostgroup') {
      // mon read_cf: hostgroup continuation is tested before `watch`, so a watch line without a
      // blank line before it becomes host names (and so does the rest of its block).
      if (group !== undefined && group.name !== '') {
        if (firstWord === 'watch') {
          warn(ll.line, `${quote(ll.text)} follows hostgroup ${quote(group.name)} with no blank line between: mon reads its words as more hosts of ${quote(group.name)}`)
        }
        group.hosts.push(...ll.text.split(/\s+/))
      }
      continue
    }
    if (firstWord === 'watch') {
      closeRecord()
      const name = ll.text.split(/\s+/)[1]
      if (name === undefined) {
        err(ll.line, 'watch needs a hostgroup name')
        continue
      }
      if (!tagRe.test(name)) {
        err(ll.line, `watch name ${quote(name)} may only contain letters, digits, "_", "." and "-"`)
        continue
      }
      const dup = watches.find((w) => w.group === name)
      if (dup) {
        err(ll.line, `watch ${quote(name)} is defined twice (first at line ${dup.line})`)
        continue
      }
      watch = { group: name, line: ll.line, hosts: [], services: [] }
      watches.push(watch)
      mode = 'watch'
      doubleSpacedWarned = false
      continue
    }
    if (mode === 'watch') {
      watchLine(ll)
      continue
    }
    const g = /^([A-Za-z_]\w*)\s*=\s*(.*)$/.exec(ll.text)
    if (g) {
      setGlobal(ll.line, g[1] as string, (g[2] ?? '').trim())
      continue
    }
    if (firstWord === 'service' || serviceKeywords.includes(firstWord) || periodKeywords.includes(firstWord) || firstWord === 'period') {
      err(ll.line, `${quote(firstWord)} outside a watch block (a blank line ends the watch)`)
      continue
    }
    err(ll.line, `unknown syntax ${quote(ll.text)}${didYouMean(firstWord, topKeywords)}`)
  }

  function setGlobal(line: number, key: string, value: string): void {
    if (!knownGlobals.includes(key)) {
      err(line, `unknown variable ${quote(key)}${didYouMean(key, knownGlobals)}`)
      return
    }
    globals.all[key] = value
    switch (key) {
      case 'maxprocs':
      case 'histlength': {
        const n = count(line, key, value, 0)
        if (n !== undefined) globals[key] = n
        return
      }
      case 'randstart': {
        const ms = timeval(line, key, value, true)
        if (ms !== undefined) globals.randstartMs = ms
        return
      }
      case 'alertdir':
      case 'mondir':
        globals[key] = value.split(':').filter((d) => d !== '')
        return
      case 'cfbasedir':
      case 'basedir':
      case 'statedir':
      case 'logdir':
      case 'pidfile':
        globals[key] = value
        return
    }
  }

  // Resolve watches against hostgroups and check what each service needs.
  const watched = new Set<string>()
  for (const w of watches) {
    const hg = hostgroups.get(w.group)
    if (hg) {
      w.hosts = [...hg.hosts]
      watched.add(w.group)
    } else {
      // mon: a watch with no hostgroup of that name watches the tag itself as a host.
      warn(w.line, `watch ${quote(w.group)} names no hostgroup; mon watches the single host ${quote(w.group)}`)
      w.hosts = [w.group]
    }
    if (w.services.length === 0) warn(w.line, `watch ${quote(w.group)} has no service`)
    for (const s of w.services) {
      if (s.intervalMs === undefined) err(s.line, `service ${quote(s.name)} of watch ${quote(w.group)} has no interval`)
      if (s.monitor === undefined) warn(s.line, `service ${quote(s.name)} of watch ${quote(w.group)} has no monitor line; it never runs`)
    }
  }
  for (const hg of hostgroups.values()) {
    if (!watched.has(hg.name)) warn(hg.line, `hostgroup ${quote(hg.name)} has no watch`)
  }

  diagnostics.sort((a, b) => (a.line ?? 0) - (b.line ?? 0))
  return { config: { globals, hostgroups: [...hostgroups.values()], watches }, diagnostics }
}
