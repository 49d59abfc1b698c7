// Built-in lvs.alert: the classic LVS alert and mon-contrib's ipvs.alert options, applied to ipvsadm idempotently.

import { repairDashes } from '../config/mon-words.js'
import type { ExecOutcome, ExecOptions } from './agent-exec.js'
import { describeFailure } from './agent-exec.js'
import { parseRules } from './lvs-table.js'
import type { LvsTable, Proto } from './lvs-table.js'

export type LvsForwarding = 'dr' | 'nat' | 'tun'

export interface LvsAlertRequest {
  /** -u: mon adds it for upalerts. */
  up: boolean
  proto: Proto
  /** -V addr:port */
  virtualAddr: string
  virtualPort: number
  /** -R addr[:port]; absent only with -D. */
  realAddr?: string
  realPort?: number
  /** -W (up only); ipvsadm's default is 1. */
  weight: number
  forwarding: LvsForwarding
  /** -S, used with -B. */
  scheduler?: string
  /** -B: with -u, create the virtual service first if it is missing. */
  addService: boolean
  /** -D: a down alert deletes the whole virtual service. */
  deleteService: boolean
  /** What was accepted but ignored (-X, stray words, repaired dashes), for the log. */
  notes: string[]
}

export type ParseLvsAlert = { ok: true; request: LvsAlertRequest } | { ok: false; message: string }

// Classic lvs.alert `s:g:h:t:l:P:V:R:W:F:u` united with ipvs.alert `uDBs:g:h:t:l:P:V:R:W:F:S:`, plus -X.
const withValue = new Set(['s', 'g', 'h', 't', 'l', 'P', 'V', 'R', 'W', 'F', 'S', 'X'])
const flags = new Set(['u', 'D', 'B'])

function hostPort(text: string): { addr: string; port?: number } | undefined {
  const m = /^(\d{1,3}(?:\.\d{1,3}){3}|[A-Za-z0-9][A-Za-z0-9.-]*)(?::(\d{1,5}))?$/.exec(text)
  if (!m) return undefined
  const port = m[2] === undefined ? undefined : Number(m[2])
  if (port !== undefined && port > 65535) return undefined
  return port === undefined ? { addr: m[1] as string } : { addr: m[1] as string, port }
}

/** Parse mon's alert argv (`-s svc -g grp -h hosts -t time [-u] -P tcp -V v:p -R r -W 1 -F dr …`). Never throws. */
export function parseLvsAlertArgs(argv: readonly string[]): ParseLvsAlert {
  const notes: string[] = []
  const fixed = repairDashes(argv)
  for (const r of fixed.repairs) notes.push(`${JSON.stringify(r.original)} starts with an ${r.what}; read as ${JSON.stringify(r.repaired)}`)
  const words = fixed.words
  const opt: Record<string, string> = {}
  const set = new Set<string>()
  for (let i = 0; i < words.length; i++) {
    const w = words[i] as string
    if (!/^-[A-Za-z]/.test(w)) {
      notes.push(`stray word ${JSON.stringify(w)} ignored`)
      continue
    }
    // Getopt::Std bundling: -uB, -P tcp, -Ptcp
    for (let j = 1; j < w.length; j++) {
      const c = w.charAt(j)
      if (flags.has(c)) {
        set.add(c)
        continue
      }
      if (withValue.has(c)) {
        const v = j + 1 < w.length ? w.slice(j + 1) : words[++i]
        if (v === undefined) return { ok: false, message: `option -${c} needs a value` }
        opt[c] = v
        break
      }
      notes.push(`unknown option -${c} ignored`)
    }
  }
  // docs §10 Q1: neither known lvs.alert has -X; the seed writes `-X down`. Accepted, ignored.
  if (opt.X !== undefined) notes.push(`-X ${JSON.stringify(opt.X)} ignored (no known lvs.alert has -X; up/down comes from -u)`)
  const P = (opt.P ?? 'tcp').toLowerCase()
  if (P !== 'tcp' && P !== 'udp') return { ok: false, message: `-P must be tcp or udp, not ${JSON.stringify(opt.P)}` }
  if (opt.V === undefined) return { ok: false, message: 'no -V virtual address:port' }
  const v = hostPort(opt.V)
  if (v === undefined || v.port === undefined) return { ok: false, message: `-V needs address:port, not ${JSON.stringify(opt.V)}` }
  const req: LvsAlertRequest = {
    up: set.has('u'),
    proto: P,
    virtualAddr: v.addr,
    virtualPort: v.port,
    weight: 1,
    forwarding: 'dr',
    addService: set.has('B'),
    deleteService: set.has('D'),
    notes,
  }
  if (opt.R !== undefined) {
    const r = hostPort(opt.R)
    if (r === undefined) return { ok: false, message: `-R needs address[:port], not ${JSON.stringify(opt.R)}` }
    req.realAddr = r.addr
    if (r.port !== undefined) req.realPort = r.port
  } else if (!(req.deleteService && !req.up)) return { ok: false, message: 'no -R real server' }
  if (opt.W !== undefined) {
    if (!/^\d{1,5}$/.test(opt.W) || Number(opt.W) > 65535) return { ok: false, message: `-W must be a weight 0-65535, not ${JSON.stringify(opt.W)}` }
    req.weight = Number(opt.W)
  }
  if (opt.F !== undefined) {
    const f = opt.F.toLowerCase()
    // lvs.alert: nat → -m, tun → -i, anything else (dr, gate, …) → -g
    req.forwarding = f === 'nat' || f === 'masq' ? 'nat' : f === 'tun' || f === 'ipip' ? 'tun' : 'dr'
    if (!['dr', 'nat', 'tun', 'masq', 'ipip', 'gate', 'gatewaying'].includes(f)) notes.push(`-F ${JSON.stringify(opt.F)} unknown; direct routing used`)
  }
  if (opt.S !== undefined) req.scheduler = opt.S
  return { ok: true, request: req }
}

export interface LvsAlertSettings {
  /** Down = weight 0 instead of removal (HBTS_LVS_QUIESCENT=1). */
  quiescent: boolean
}

/** What the alert wants the table to hold for this real server (the memo key's value). */
export type DesiredReal = 'absent' | 'quiescent' | `weight ${number}` | 'no-service'

export type LvsAlertPlan =
  /** `settled` false: the service itself is missing, so a later repeat must look again. */
  | { kind: 'noop'; desired: DesiredReal; reason: string; settled: boolean }
  | { kind: 'run'; desired: DesiredReal; commands: string[][] }

const FWD: Record<LvsForwarding, string> = { dr: '-g', nat: '-m', tun: '-i' }

export function targetKey(r: LvsAlertRequest): string {
  return `${r.proto} ${r.virtualAddr}:${r.virtualPort} ${r.realAddr ?? '*'}`
}

/** The desired state alone (no table needed): what a repeat of the same alert would ask for. */
export function desiredOf(r: LvsAlertRequest, s: LvsAlertSettings): DesiredReal {
  if (r.up) return `weight ${r.weight}`
  if (r.deleteService) return 'no-service'
  return s.quiescent ? 'quiescent' : 'absent'
}

/** Pure: the ipvsadm argv lists that take the live table to what the alert asks; none when it is already so. */
export function planLvsAlert(r: LvsAlertRequest, live: LvsTable, s: LvsAlertSettings): LvsAlertPlan {
  const svcWords = [r.proto === 'tcp' ? '-t' : '-u', `${r.virtualAddr}:${r.virtualPort}`]
  const svcName = `${r.proto.toUpperCase()} ${r.virtualAddr}:${r.virtualPort}`
  const svc = live.services.find((x) => x.proto === r.proto && x.addr === r.virtualAddr && x.port === r.virtualPort)
  const desired = desiredOf(r, s)
  if (desired === 'no-service') {
    return svc ? { kind: 'run', desired, commands: [['-D', ...svcWords]] } : { kind: 'noop', desired, reason: `${svcName} already absent`, settled: true }
  }
  // ipvsadm: with -g/-i the real server's port is forced to the service's.
  const realPort = r.forwarding === 'nat' ? (r.realPort ?? r.virtualPort) : r.virtualPort
  const realText = `${r.realAddr}:${realPort}`
  const have = svc?.reals.find((x) => x.addr === r.realAddr && x.port === realPort)
  const commands: string[][] = []
  if (desired === 'absent') {
    if (!svc) return { kind: 'noop', desired, reason: `${svcName} is not in the table`, settled: false }
    if (!have) return { kind: 'noop', desired, reason: `${realText} already out of ${svcName}`, settled: true }
    return { kind: 'run', desired, commands: [['-d', ...svcWords, '-r', realText]] }
  }
  if (desired === 'quiescent') {
    if (!svc) return { kind: 'noop', desired, reason: `${svcName} is not in the table`, settled: false }
    if (!have) return { kind: 'noop', desired, reason: `${realText} is not in ${svcName}`, settled: true }
    if (have.weight === 0) return { kind: 'noop', desired, reason: `${realText} already has weight 0 in ${svcName}`, settled: true }
    return { kind: 'run', desired, commands: [['-e', ...svcWords, '-r', realText, FWD[have.forwarding], '-w', '0']] }
  }
  if (!svc) {
    if (!r.addService) return { kind: 'noop', desired, reason: `${svcName} is not in the table (is the lvs resource started?); not adding ${realText}`, settled: false }
    commands.push(['-A', ...svcWords, ...(r.scheduler !== undefined ? ['-s', r.scheduler] : [])])
  }
  if (have && have.weight === r.weight && have.forwarding === r.forwarding) {
    return { kind: 'noop', desired, reason: `${realText} already in ${svcName} with weight ${r.weight}`, settled: true }
  }
  commands.push([have ? '-e' : '-a', ...svcWords, '-r', realText, FWD[r.forwarding], '-w', String(r.weight)])
  return { kind: 'run', desired, commands }
}

export type ExecFn = (file: string, args: readonly string[], options?: ExecOptions) => Promise<ExecOutcome>

export interface LvsAlertDeps {
  ipvsadm: string
  exec: ExecFn
  settings: LvsAlertSettings
  memo: LvsAlertMemo
  timeoutMs?: number
}

/**
 * Shared by every alert of one monitor process: what each (service, real) was last set to, and a
 * queue so two alerts never interleave their read-then-change of the table.
 */
export class LvsAlertMemo {
  readonly applied = new Map<string, DesiredReal>()
  #queue: Promise<unknown> = Promise.resolve()

  serialize<T>(job: () => Promise<T>): Promise<T> {
    const next = this.#queue.then(job, job)
    this.#queue = next.catch(() => undefined)
    return next
  }
}

export interface LvsAlertOutcome {
  exitCode: number
  /** One line per thing done or skipped, for the monitor's log. */
  messages: string[]
  /** ipvsadm argv lists run (including `-S -n`). */
  ran: string[][]
}

/**
 * Run the alert. `force` (the re-assertion after a restart) skips the memo. Better than mon's
 * lvs.alert: a repeat of what was already applied runs no ipvsadm at all; otherwise the live
 * table (`ipvsadm -S -n`) decides, so removing an absent server or adding a present one is a no-op.
 */
export function runLvsAlert(argv: readonly string[], deps: LvsAlertDeps, force = false): Promise<LvsAlertOutcome> {
  const parsed = parseLvsAlertArgs(argv)
  if (!parsed.ok) return Promise.resolve({ exitCode: 2, messages: [`lvs.alert: ${parsed.message}`], ran: [] })
  const r = parsed.request
  const messages = r.notes.map((n) => `lvs.alert: note: ${n}`)
  const key = targetKey(r)
  const desired = desiredOf(r, deps.settings)
  return deps.memo.serialize(async () => {
    const ran: string[][] = []
    if (!force && deps.memo.applied.get(key) === desired) {
      messages.push(`lvs.alert: ${key}: already ${desired}; nothing to do`)
      return { exitCode: 0, messages, ran }
    }
    const opts: ExecOptions = { timeoutMs: deps.timeoutMs ?? 10_000 }
    ran.push(['-S', '-n'])
    const save = await deps.exec(deps.ipvsadm, ['-S', '-n'], opts)
    if (save.exitCode !== 0 || save.failure !== undefined) {
      messages.push(`lvs.alert: cannot read the table: ${describeFailure(save)}`)
      return { exitCode: 1, messages, ran }
    }
    const live = parseRules(save.stdout, 'ipvsadm -S -n', 'ipvsadm').table
    const plan = planLvsAlert(r, live, deps.settings)
    if (plan.kind === 'noop') {
      messages.push(`lvs.alert: ${plan.reason}`)
      if (plan.settled) deps.memo.applied.set(key, desired)
      return { exitCode: 0, messages, ran }
    }
    for (const cmd of plan.commands) {
      ran.push(cmd)
      const o = await deps.exec(deps.ipvsadm, cmd, opts)
      if (o.exitCode !== 0 || o.failure !== undefined) {
        deps.memo.applied.delete(key)
        messages.push(`lvs.alert: ${describeFailure(o)}`)
        return { exitCode: 1, messages, ran }
      }
      messages.push(`lvs.alert: ${[deps.ipvsadm, ...cmd].join(' ')}`)
    }
    deps.memo.applied.set(key, desired)
    return { exitCode: 0, messages, ran }
  })
}

/** HBTS_LVS_QUIESCENT=1 (or yes/true/on): down sets weight 0 instead of removing (ldirectord's `quiescent`). */
export function lvsAlertSettingsFromEnv(env: Readonly<Record<string, string | undefined>>): LvsAlertSettings {
  return { quiescent: /^(1|yes|true|on)$/i.test(env.HBTS_LVS_QUIESCENT ?? '') }
}
