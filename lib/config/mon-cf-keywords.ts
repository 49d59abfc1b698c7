// mon.cf keyword tables: globals, service keywords and period keywords, each with what it does to the config.

import { quote } from './diagnostics.js'
import type { LogicalLine } from './mon-cf-lines.js'
import { alertLine, command, count, exitRange, parseTimeval, timeval, type Report } from './mon-cf-values.js'
import type { AlertEvery, MonGlobals, MonPeriod, MonService } from './mon-cf.js'
import { parseTimePeriod } from './time-period.js'

type GlobalRule = (r: Report, line: number, value: string, g: MonGlobals) => void
type ServiceRule = (r: Report, ll: LogicalLine, rest: string, svc: MonService) => void
type PeriodRule = (r: Report, ll: LogicalLine, rest: string, p: MonPeriod) => void

/** Parsed by mon, but they only matter for its dependency, trap or client machinery, which heartbeat-ts does not have. */
const inert = (kw: string): ServiceRule => (r, ll) => r.warn(ll.line, `${quote(kw)} is accepted but has no effect in heartbeat-ts`)
const keep: GlobalRule = () => undefined

/** Every `key = value` mon knows; `all` records each, these rules set the ones heartbeat-ts uses. */
export const GLOBALS: Readonly<Record<string, GlobalRule>> = {
  cfbasedir: (_r, _l, v, g) => { g.cfbasedir = v },
  alertdir: (_r, _l, v, g) => { g.alertdir = v.split(':').filter((d) => d !== '') },
  mondir: (_r, _l, v, g) => { g.mondir = v.split(':').filter((d) => d !== '') },
  maxprocs: (r, l, v, g) => { const n = count(r, l, 'maxprocs', v, 0); if (n !== undefined) g.maxprocs = n },
  histlength: (r, l, v, g) => { const n = count(r, l, 'histlength', v, 0); if (n !== undefined) g.histlength = n },
  randstart: (r, l, v, g) => { const ms = timeval(r, l, 'randstart', v, true); if (ms !== undefined) g.randstartMs = ms },
  authtype: keep,
  basedir: (_r, _l, v, g) => { g.basedir = v },
  statedir: (_r, _l, v, g) => { g.statedir = v },
  logdir: (_r, _l, v, g) => { g.logdir = v },
  authfile: keep, userfile: keep, pamservice: keep, serverbind: keep, trapbind: keep, serverport: keep, trapport: keep,
  clientallow: keep,
  pidfile: (_r, _l, v, g) => { g.pidfile = v },
  cltimeout: keep, monerrfile: keep, dtlogfile: keep, dtlogging: keep, historicfile: keep, historictime: keep,
  dep_recur_limit: keep, dep_behavior: keep, dep_memory: keep, unack_summary: keep, syslog_facility: keep,
  startupalerts_on_reset: keep, monremote: keep, exclude_period: keep, snmpport: keep, trapkey: keep,
}

/** Keywords of a service, before its first period. */
export const SERVICE_KEYWORDS: Readonly<Record<string, ServiceRule>> = {
  interval: (r, ll, rest, svc) => { const ms = timeval(r, ll.line, 'interval', rest); if (ms !== undefined) svc.intervalMs = ms },
  monitor: (r, ll, rest, svc) => {
    // mon: a separate trailing `;;` means "do not append the hosts".
    const noHosts = /(^|\s);;\s*$/.test(rest)
    const c = command(r, ll, 'monitor', noHosts ? rest.replace(/;;\s*$/, '') : rest)
    if (c) svc.monitor = { ...c, appendHosts: !noHosts }
  },
  description: (_r, _ll, rest, svc) => { svc.description = rest },
  failure_interval: (r, ll, rest, svc) => { const ms = timeval(r, ll.line, 'failure_interval', rest); if (ms !== undefined) svc.failureIntervalMs = ms },
  randskew: (r, ll, rest, svc) => { const ms = timeval(r, ll.line, 'randskew', rest); if (ms !== undefined) svc.randskewMs = ms },
  allow_empty_group: (_r, _ll, _rest, svc) => { svc.allowEmptyGroup = true },
  exclude_hosts: (_r, _ll, rest, svc) => { svc.excludeHosts.push(...rest.split(/\s+/).filter((h) => h !== '')) },
  exclude_period: (r, ll, rest, svc) => {
    const p = parseTimePeriod(rest)
    if (!p.ok) r.err(ll.line, `malformed period ${quote(rest)}: ${p.reason}`)
    else svc.excludePeriod = p.period
  },
  depend: inert('depend'), alertdepend: inert('alertdepend'), monitordepend: inert('monitordepend'), hostdepend: inert('hostdepend'),
  dep_behavior: inert('dep_behavior'), dep_memory: inert('dep_memory'), traptimeout: inert('traptimeout'),
  trapduration: inert('trapduration'), redistribute: inert('redistribute'), unack_summary: inert('unack_summary'),
}

function alertInto(list: 'alerts' | 'upalerts' | 'startupalerts', kw: string): PeriodRule {
  return (r, ll, rest, p) => {
    const a = alertLine(r, ll, kw, rest)
    if (a) p[list].push(a)
  }
}

function neverFires(kw: string): PeriodRule {
  return (r, ll, rest) => {
    if (alertLine(r, ll, kw, rest)) r.warn(ll.line, `${kw} never fires: heartbeat-ts has no mon client protocol to ack or disable with`)
  }
}

const alertevery: PeriodRule = (r, ll, rest, p) => {
  const [tv = '', ...mods] = rest.split(/\s+/)
  const ms = timeval(r, ll.line, 'alertevery', tv)
  if (ms === undefined) return
  const every: AlertEvery = { ms, compare: 'summary', strict: false }
  for (const mod of mods) {
    if (mod === 'observe_detail') every.compare = 'output'
    else if (mod === 'ignore_summary') every.compare = 'none'
    else if (mod === 'strict') {
      every.compare = 'none'
      every.strict = true
    } else if (mod !== 'summary') {
      r.err(ll.line, `alertevery: unknown option ${quote(mod)} (expected observe_detail, ignore_summary, strict or summary)`)
      return
    }
  }
  p.alertEvery = every
}

/** `alertafter N`, `alertafter N timeval` or `alertafter timeval`. */
const alertafter: PeriodRule = (r, ll, rest, p) => {
  const words = rest.split(/\s+/).filter((w) => w !== '')
  const bad = (): void => r.err(ll.line, `alertafter: ${quote(rest)} is not "N", "N timeval" or "timeval"`)
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
}

/** Keywords of a period (after its `period` line). */
export const PERIOD_KEYWORDS: Readonly<Record<string, PeriodRule>> = {
  alert: alertInto('alerts', 'alert'),
  upalert: alertInto('upalerts', 'upalert'),
  startupalert: alertInto('startupalerts', 'startupalert'),
  ackalert: neverFires('ackalert'),
  disablealert: neverFires('disablealert'),
  alertevery,
  alertafter,
  numalerts: (r, ll, rest, p) => { const n = count(r, ll.line, 'numalerts', rest, 1); if (n !== undefined) p.numAlerts = n },
  no_comp_alerts: (_r, _ll, _rest, p) => { p.noCompAlerts = true },
  upalertafter: (r, ll, rest, p) => { const ms = timeval(r, ll.line, 'upalertafter', rest, true); if (ms !== undefined) p.upalertAfterMs = ms },
  alertexitrange: (r, ll, rest, p) => { const x = exitRange(r, ll.line, 'alertexitrange', rest); if (x) p.exitRange = x },
  alerts_dont_count: () => undefined,
}

export const GLOBAL_NAMES = Object.keys(GLOBALS)
export const SERVICE_NAMES = Object.keys(SERVICE_KEYWORDS)
export const PERIOD_NAMES = Object.keys(PERIOD_KEYWORDS)
export const TOP_KEYWORDS = ['hostgroup', 'group', 'watch', 'alias', 'view']
/** Anything that may start a line inside a watch block. */
export const WATCH_WORDS = [...SERVICE_NAMES, ...PERIOD_NAMES, 'service', 'period']

export const ENV_LINE = /^([A-Z_][A-Z0-9_]*)=(.*)$/
export const TAG = /^[A-Za-z0-9_.-]+$/
