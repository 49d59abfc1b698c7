// The IPVS table the lvs agent owns: read from haresources arguments, an `ipvsadm -S -n` rules file or mon.cf's lvs.alert lines, and diffed against the live table (pure).

import type { Diagnostic } from '../config/diagnostics.js'
import { quote } from '../config/diagnostics.js'
import { formatIpv4, parseIpv4 } from '../config/ipaddr-spec.js'
import type { MonCf } from '../config/mon-cf.js'

export type Proto = 'tcp' | 'udp'
/** ipvsadm -g (direct routing, the default), -m (masquerading), -i (ipip tunnel). */
export type Forwarding = 'dr' | 'nat' | 'tun'

export interface RealServer {
  addr: string
  port: number
  forwarding: Forwarding
  weight: number
}

export interface VirtualService {
  proto: Proto
  addr: string
  port: number
  scheduler: string
  /** `-p` seconds, when persistent. */
  persistentSec?: number
  reals: RealServer[]
}

export type TableSource = 'arguments' | 'rules-file' | 'mon.cf' | 'ipvsadm'

export interface LvsTable {
  source: TableSource
  services: VirtualService[]
}

/** The seed init script's scheduler; lvs.alert lines carry none (mon-contrib's -S only with -B). */
export const MON_CF_DEFAULT_SCHEDULER = 'rr'

const FORWARD_FLAG: Record<Forwarding, string> = { dr: '-g', nat: '-m', tun: '-i' }

export function serviceKey(s: { proto: Proto; addr: string; port: number }): string {
  return `${s.proto} ${s.addr}:${s.port}`
}

export function describeService(s: VirtualService): string {
  return `${s.proto.toUpperCase()} ${s.addr}:${s.port} ${s.scheduler}${s.persistentSec !== undefined ? ` persistent ${s.persistentSec}` : ''}`
}

function parseHostPort(text: string): { addr: string; port?: number } | undefined {
  const i = text.lastIndexOf(':')
  const host = i < 0 ? text : text.slice(0, i)
  const ip = parseIpv4(host)
  if (ip === undefined) return undefined
  if (i < 0) return { addr: formatIpv4(ip) }
  const portText = text.slice(i + 1)
  if (!/^\d{1,5}$/.test(portText) || Number(portText) > 65535) return undefined
  return { addr: formatIpv4(ip), port: Number(portText) }
}

function forwardingWord(word: string): Forwarding | undefined {
  switch (word.toLowerCase()) {
    case 'dr': case 'gate': case 'g': case 'route': return 'dr'
    case 'nat': case 'masq': case 'm': return 'nat'
    case 'tun': case 'ipip': case 'i': return 'tun'
    default: return undefined
  }
}

/** ipvsadm: for -g and -i the real-server port is forced to the service port. */
function realPort(forwarding: Forwarding, given: number | undefined, servicePort: number): number {
  return forwarding === 'nat' ? (given ?? servicePort) : servicePort
}

/**
 * haresources form (documented in man/lvs.8):
 *   lvs::[udp/]VIP:PORT::SCHEDULER::REAL[,REAL…][::dr|nat|tun]
 * with REAL = addr[:port][@weight]; e.g. `lvs::129.254.203.149:80::rr::129.254.203.146,129.254.203.147`.
 * The forwarding word defaults to dr (ipvsadm's -g), each weight to 1.
 */
export function parseLvsArgs(args: readonly string[]): { ok: true; table: LvsTable } | { ok: false; message: string } {
  const [svcText, sched, realsText, fwdText, ...extra] = args
  const usage = 'lvs arguments are [udp/]VIP:PORT::SCHEDULER::REAL[,REAL...][::dr|nat|tun], REAL = addr[:port][@weight]'
  const bad = (why: string): { ok: false; message: string } => ({ ok: false, message: `lvs::${args.join('::')}: ${why} (${usage})` })
  if (svcText === undefined || sched === undefined || realsText === undefined || extra.length > 0) return bad('wrong number of arguments')
  let proto: Proto = 'tcp'
  let svcAddr = svcText
  const slash = svcText.indexOf('/')
  if (slash >= 0) {
    const p = svcText.slice(0, slash).toLowerCase()
    if (p !== 'tcp' && p !== 'udp') return bad(`${quote(svcText.slice(0, slash))} is not tcp or udp`)
    proto = p
    svcAddr = svcText.slice(slash + 1)
  }
  const hp = parseHostPort(svcAddr)
  if (hp === undefined || hp.port === undefined) return bad(`${quote(svcAddr)} is not VIP:PORT`)
  if (hp.port === 0) return bad('port 0 needs a persistent service, which this form does not describe')
  if (!/^[a-z]{1,15}$/.test(sched)) return bad(`${quote(sched)} is not a scheduler name`)
  let forwarding: Forwarding = 'dr'
  if (fwdText !== undefined) {
    const f = forwardingWord(fwdText)
    if (f === undefined) return bad(`${quote(fwdText)} is not dr, nat or tun`)
    forwarding = f
  }
  const service: VirtualService = { proto, addr: hp.addr, port: hp.port, scheduler: sched, reals: [] }
  for (const word of realsText.split(',')) {
    const at = word.indexOf('@')
    const hostPart = at < 0 ? word : word.slice(0, at)
    const r = parseHostPort(hostPart)
    if (r === undefined) return bad(`${quote(word)} is not a real server address[:port]`)
    let weight = 1
    if (at >= 0) {
      const w = word.slice(at + 1)
      if (!/^\d{1,5}$/.test(w) || Number(w) > 65535) return bad(`${quote(word)}: weight must be 0-65535`)
      weight = Number(w)
    }
    addReal(service, { addr: r.addr, port: realPort(forwarding, r.port, hp.port), forwarding, weight })
  }
  return { ok: true, table: { source: 'arguments', services: [service] } }
}

function addReal(service: VirtualService, real: RealServer): void {
  const i = service.reals.findIndex((r) => r.addr === real.addr && r.port === real.port)
  if (i >= 0) service.reals[i] = real
  else service.reals.push(real)
}

/**
 * An `ipvsadm -S -n` file (or `ipvsadm-save -n`), as ipvsadm-restore reads it: `#` lines and
 * blank lines skipped, a leading `ipvsadm` word dropped, `-C` ignored; `-A` and `-a` understood.
 * Also reads the live table printed by `ipvsadm -S -n`.
 */
export function parseRules(text: string, path: string, source: TableSource = 'rules-file'): { table: LvsTable; diagnostics: Diagnostic[] } {
  const diagnostics: Diagnostic[] = []
  const services = new Map<string, VirtualService>()
  const lines = text.split('\n')
  lines.forEach((rawLine, index) => {
    const line = index + 1
    const trimmed = rawLine.replace(/\r$/, '').trim()
    if (trimmed === '' || trimmed.startsWith('#')) return
    const words = trimmed.split(/[ \t]+/).filter((w) => w !== 'ipvsadm')
    const err = (message: string): void => {
      diagnostics.push({ path, line, severity: 'error', message: `${message}: ${quote(trimmed)}` })
    }
    const cmd = words[0]
    if (cmd === '-C' || cmd === '--clear') return
    if (cmd !== '-A' && cmd !== '-a' && cmd !== '--add-service' && cmd !== '--add-server') {
      err('only -A, -a and -C lines are understood in a rules file')
      return
    }
    let proto: Proto | undefined
    let svc: { addr: string; port?: number } | undefined
    let sched: string | undefined
    let persistent: number | undefined
    let real: { addr: string; port?: number } | undefined
    let forwarding: Forwarding = 'dr'
    let weight = 1
    for (let i = 1; i < words.length; i++) {
      const w = words[i] ?? ''
      const next = (): string | undefined => words[++i]
      switch (w) {
        case '-t': case '--tcp-service': case '-u': case '--udp-service': {
          proto = w === '-t' || w === '--tcp-service' ? 'tcp' : 'udp'
          const v = next()
          svc = v === undefined ? undefined : parseHostPort(v)
          if (svc === undefined) return err(`${w} needs a virtual address[:port]`)
          break
        }
        case '-s': case '--scheduler': sched = next(); break
        case '-p': case '--persistent': {
          const v = words[i + 1]
          if (v !== undefined && /^\d+$/.test(v)) {
            persistent = Number(v)
            i++
          } else persistent = 300
          break
        }
        case '-r': case '--real-server': {
          const v = next()
          real = v === undefined ? undefined : parseHostPort(v)
          if (real === undefined) return err(`${w} needs a real server address[:port]`)
          break
        }
        case '-g': case '--gatewaying': forwarding = 'dr'; break
        case '-m': case '--masquerading': forwarding = 'nat'; break
        case '-i': case '--ipip': forwarding = 'tun'; break
        case '-w': case '--weight': {
          const v = next()
          if (v === undefined || !/^\d{1,5}$/.test(v) || Number(v) > 65535) return err('-w needs a weight 0-65535')
          weight = Number(v)
          break
        }
        default:
          return err(`${quote(w)} is not supported here`)
      }
    }
    if (proto === undefined || svc === undefined) return err('no -t or -u service')
    const port = svc.port ?? 0
    const key = serviceKey({ proto, addr: svc.addr, port })
    if (cmd === '-A' || cmd === '--add-service') {
      const s: VirtualService = { proto, addr: svc.addr, port, scheduler: sched ?? 'wlc', reals: [] }
      if (persistent !== undefined) s.persistentSec = persistent
      services.set(key, s)
      return
    }
    const s = services.get(key)
    if (s === undefined) return err('real server for a service not added above')
    if (real === undefined) return err('no -r real server')
    addReal(s, { addr: real.addr, port: realPort(forwarding, real.port, port), forwarding, weight })
  })
  return { table: { source, services: [...services.values()] }, diagnostics }
}

const LVS_ALERTS = new Set(['lvs.alert', 'ipvs.alert'])

/**
 * The seed's way: the table is implicit in mon.cf's `lvs.alert` lines (`-P tcp -V VIP:80 -R RIP
 * -W 1 -F dr`, classic and mon-contrib ipvs.alert options). Both alert and upalert lines count;
 * the reader has already turned the seed's en-dash `–R`/`–W` into `-R`/`-W`.
 */
export function tableFromMonCf(config: MonCf, path: string): { table: LvsTable; diagnostics: Diagnostic[] } {
  const diagnostics: Diagnostic[] = []
  const services = new Map<string, VirtualService>()
  for (const watch of config.watches) {
    for (const service of watch.services) {
      for (const period of service.periods) {
        for (const alert of [...period.alerts, ...period.upalerts]) {
          const base = alert.name.split('/').pop() ?? alert.name
          if (!LVS_ALERTS.has(base)) continue
          const opts = alertOptions(alert.args)
          const svc = opts.V === undefined ? undefined : parseHostPort(opts.V)
          if (svc === undefined || svc.port === undefined) {
            diagnostics.push({ path, line: alert.line, severity: 'warning', message: `${base} without a usable -V VIP:PORT, ignored for the lvs table: ${quote(alert.text)}` })
            continue
          }
          const proto: Proto = opts.P === 'udp' ? 'udp' : 'tcp'
          const key = serviceKey({ proto, addr: svc.addr, port: svc.port })
          let s = services.get(key)
          if (s === undefined) {
            s = { proto, addr: svc.addr, port: svc.port, scheduler: opts.S ?? MON_CF_DEFAULT_SCHEDULER, reals: [] }
            services.set(key, s)
          } else if (opts.S !== undefined) s.scheduler = opts.S
          const real = opts.R === undefined ? undefined : parseHostPort(opts.R)
          if (real === undefined) {
            diagnostics.push({ path, line: alert.line, severity: 'warning', message: `${base} without a usable -R real server: ${quote(alert.text)}` })
            continue
          }
          // lvs.alert: -F nat → -m, tun → -i, anything else → -g.
          const forwarding: Forwarding = opts.F === 'nat' ? 'nat' : opts.F === 'tun' ? 'tun' : 'dr'
          const existing = s.reals.find((r) => r.addr === real.addr)
          const weightText = opts.W
          const weight = weightText !== undefined && /^\d{1,5}$/.test(weightText) ? Number(weightText) : (existing?.weight ?? 1)
          addReal(s, { addr: real.addr, port: realPort(forwarding, real.port, svc.port), forwarding, weight })
        }
      }
    }
  }
  return { table: { source: 'mon.cf', services: [...services.values()] }, diagnostics }
}

/** Getopt-style scan of the lvs.alert option letters that take a value; other words are skipped. */
function alertOptions(args: readonly string[]): Partial<Record<'P' | 'V' | 'R' | 'W' | 'F' | 'S', string>> {
  const out: Partial<Record<'P' | 'V' | 'R' | 'W' | 'F' | 'S', string>> = {}
  for (let i = 0; i < args.length; i++) {
    const m = /^-([PVRWFS])$/.exec(args[i] ?? '')
    if (m === null) continue
    const v = args[i + 1]
    if (v === undefined) break
    out[m[1] as 'P' | 'V' | 'R' | 'W' | 'F' | 'S'] = v
    i++
  }
  return out
}

function serviceWords(s: VirtualService): string[] {
  return [s.proto === 'tcp' ? '-t' : '-u', `${s.addr}:${s.port}`]
}

function serviceArgv(cmd: '-A' | '-E', s: VirtualService): string[] {
  const argv = [cmd, ...serviceWords(s), '-s', s.scheduler]
  if (s.persistentSec !== undefined) argv.push('-p', String(s.persistentSec))
  return argv
}

function realArgv(cmd: '-a' | '-e', s: VirtualService, r: RealServer): string[] {
  return [cmd, ...serviceWords(s), '-r', `${r.addr}:${r.port}`, FORWARD_FLAG[r.forwarding], '-w', String(r.weight)]
}

/**
 * ipvsadm command lines that make the live table contain the desired services and real servers.
 * Idempotent: nothing for what is already right. Extra real servers are left alone (the monitor
 * and its alerts own membership once the service exists).
 */
export function planApply(desired: LvsTable, current: LvsTable): string[][] {
  const out: string[][] = []
  const live = new Map(current.services.map((s) => [serviceKey(s), s]))
  for (const s of desired.services) {
    const have = live.get(serviceKey(s))
    if (have === undefined) out.push(serviceArgv('-A', s))
    else if (have.scheduler !== s.scheduler || have.persistentSec !== s.persistentSec) out.push(serviceArgv('-E', s))
    for (const r of s.reals) {
      const hr = have?.reals.find((x) => x.addr === r.addr && x.port === r.port)
      if (hr === undefined) out.push(realArgv('-a', s, r))
      else if (hr.forwarding !== r.forwarding || hr.weight !== r.weight) out.push(realArgv('-e', s, r))
    }
  }
  return out
}

/** `ipvsadm -D` for each of our services that is present; other services on the director are not ours to clear (the seed's `ipvsadm -C` was). */
export function planRemove(desired: LvsTable, current: LvsTable): string[][] {
  const live = new Set(current.services.map(serviceKey))
  return desired.services.filter((s) => live.has(serviceKey(s))).map((s) => ['-D', ...serviceWords(s)])
}

/** Running iff every virtual service of ours is in the table. */
export function tablePresent(desired: LvsTable, current: LvsTable): boolean {
  const live = new Set(current.services.map(serviceKey))
  return desired.services.length > 0 && desired.services.every((s) => live.has(serviceKey(s)))
}
