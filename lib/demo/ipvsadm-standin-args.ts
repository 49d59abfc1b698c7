// The ipvsadm stand-in's command line: popt's option table and walk, addresses, and one parsed command checked as ipvsadm 1.31 checks it.

export type Proto = 'tcp' | 'udp' | 'sctp'
export type Fwd = 'dr' | 'nat' | 'tun'

const PROG = 'ipvsadm'
const MAX_TIMEOUT = 86400 * 31
export const PORT_NAMES: Record<string, number> = { http: 80, https: 443, ftp: 21, ssh: 22, smtp: 25, domain: 53, pop3: 110, imap: 143 }

// ---- option table (popt) ------------------------------------------------------------------

type Takes = 'none' | 'required' | 'optional'
interface OptDef { key: string; takes: Takes }
const DEFS: Record<string, OptDef> = {}
const SHORT: Record<string, string> = {}
function def(key: string, long: string | undefined, short: string | undefined, takes: Takes): void {
  DEFS[key] = { key, takes }
  if (long !== undefined) DEFS[`--${long}`] = { key, takes }
  if (short !== undefined) SHORT[short] = key
}
// commands
def('A', 'add-service', 'A', 'none'); def('E', 'edit-service', 'E', 'none'); def('D', 'delete-service', 'D', 'none')
def('C', 'clear', 'C', 'none'); def('L', 'list', 'L', 'none'); SHORT.l = 'L'; def('Z', 'zero', 'Z', 'none')
def('a', 'add-server', 'a', 'none'); def('e', 'edit-server', 'e', 'none'); def('d', 'delete-server', 'd', 'none')
def('set', 'set', undefined, 'none'); def('h', 'help', 'h', 'none'); def('v', 'version', 'v', 'none')
def('R', 'restore', 'R', 'none'); def('S', 'save', 'S', 'none')
def('start-daemon', 'start-daemon', undefined, 'required'); def('stop-daemon', 'stop-daemon', undefined, 'required')
// options
def('t', 'tcp-service', 't', 'required'); def('u', 'udp-service', 'u', 'required'); def('sctp', 'sctp-service', undefined, 'required')
def('f', 'fwmark-service', 'f', 'required'); def('s', 'scheduler', 's', 'required'); def('p', 'persistent', 'p', 'optional')
def('M', 'netmask', 'M', 'required'); def('r', 'real-server', 'r', 'required')
def('m', 'masquerading', 'm', 'none'); def('i', 'ipip', 'i', 'none'); def('g', 'gatewaying', 'g', 'none')
def('w', 'weight', 'w', 'required'); def('x', 'u-threshold', 'x', 'required'); def('y', 'l-threshold', 'y', 'required')
def('n', 'numeric', 'n', 'none'); def('c', 'connection', 'c', 'none')
def('mcast-interface', 'mcast-interface', undefined, 'required'); def('syncid', 'syncid', undefined, 'required')
def('timeout', 'timeout', undefined, 'none'); def('daemon', 'daemon', undefined, 'none')
def('stats', 'stats', undefined, 'none'); def('rate', 'rate', undefined, 'none'); def('thresholds', 'thresholds', undefined, 'none')
def('persistent-conn', 'persistent-conn', undefined, 'none'); def('nosort', 'nosort', undefined, 'none'); def('sort', 'sort', undefined, 'none')
def('X', 'exact', 'X', 'none'); def('6', 'ipv6', '6', 'none'); def('o', 'ops', 'o', 'none')
def('pe', 'pe', undefined, 'required'); def('b', 'sched-flags', 'b', 'required'); def('tun-info', 'tun-info', undefined, 'none')

// The optnames vocabulary in ipvsadm's order; the legality check walks it in this order.
const OPTNAMES = [
  'numeric', 'connection', 'service-address', 'scheduler', 'persistent', 'netmask', 'real-server', 'forwarding-method',
  'weight', 'u-threshold', 'l-threshold', 'mcast-interface', 'timeout', 'daemon', 'stats', 'rate', 'thresholds',
  'persistent-conn', 'nosort', 'syncid', 'exact', 'ops', 'pe', 'sched-flags', 'mcast-group', 'mcast-port', 'mcast-ttl',
  'sync-maxlen', 'tun-info', 'tun-type', 'tun-port', 'tun-nocsum', 'tun-csum', 'tun-remcsum',
] as const
export type OptName = (typeof OPTNAMES)[number]

export type Cmd = 'add-service' | 'edit-service' | 'delete-service' | 'flush' | 'list' | 'add-server' | 'delete-server' | 'edit-server' | 'set' | 'start-daemon' | 'stop-daemon' | 'restore' | 'save' | 'zero'
// commands_v_options of 1.31, one character per OPTNAMES entry: '+' required, 'x' illegal, '1' mutually exclusive, ' ' optional.
const X = (n: number): string => 'x'.repeat(n)
const LEGAL: Record<Cmd, string> = {
  'add-service': `xx+   ${X(15)}   ${X(10)}`,
  'edit-service': `xx+   ${X(15)}   ${X(10)}`,
  'delete-service': `xx+${X(31)}`,
  flush: X(34),
  list: ` 11${X(9)}11       ${X(7)} ${X(5)}`,
  'add-server': `xx+xxx+    ${X(18)}     `,
  'delete-server': `xx+xxx+${X(27)}`,
  'edit-server': `xx+xxx+    ${X(18)}     `,
  set: X(34),
  'start-daemon': `${X(11)} ${X(7)} ${X(4)}    ${X(6)}`,
  'stop-daemon': `${X(19)} ${X(14)}`,
  restore: X(34),
  save: ` ${X(33)}`,
  zero: `xx ${X(31)}`,
}
const COMMAND_OF: Record<string, Cmd> = {
  A: 'add-service', E: 'edit-service', D: 'delete-service', C: 'flush', L: 'list', a: 'add-server', e: 'edit-server',
  d: 'delete-server', set: 'set', R: 'restore', S: 'save', Z: 'zero', 'start-daemon': 'start-daemon', 'stop-daemon': 'stop-daemon',
}
const OPTION_OF: Record<string, OptName> = {
  n: 'numeric', c: 'connection', t: 'service-address', u: 'service-address', sctp: 'service-address', f: 'service-address',
  s: 'scheduler', p: 'persistent', M: 'netmask', r: 'real-server', m: 'forwarding-method', i: 'forwarding-method',
  g: 'forwarding-method', w: 'weight', x: 'u-threshold', y: 'l-threshold', 'mcast-interface': 'mcast-interface',
  syncid: 'syncid', timeout: 'timeout', daemon: 'daemon', stats: 'stats', rate: 'rate', thresholds: 'thresholds',
  'persistent-conn': 'persistent-conn', nosort: 'nosort', X: 'exact', o: 'ops', pe: 'pe', b: 'sched-flags', 'tun-info': 'tun-info',
}

export class Exit extends Error {
  readonly code: number
  readonly text: string
  constructor(code: number, text: string) {
    super(text)
    this.code = code
    this.text = text
  }
}
export const fail = (code: number, text: string): never => {
  throw new Exit(code, text)
}
export const tryHelp = (): never => fail(255, `Try \`${PROG} -h' or '${PROG} --help' for more information.`)

type Tok = { kind: 'opt'; key: string; value?: string; text: string } | { kind: 'error'; text: string }

/** An option that takes a value: written inline (`--x=v`, `-xv`), else the next word as popt takes it; `i` moves past a word taken. */
function withValue(d: OptDef, text: string, inline: string | undefined, argv: readonly string[], i: number): { tok: Tok; i: number } {
  let value = inline
  if (value === undefined) {
    const next = argv[i + 1]
    if (d.takes === 'required' && next !== undefined) value = argv[++i]
    else if (d.takes === 'optional' && next !== undefined && !next.startsWith('-')) value = argv[++i]
  }
  if (value === undefined && d.takes === 'required') return { tok: { kind: 'error', text: `${text}: missing argument` }, i }
  return { tok: value === undefined ? { kind: 'opt', key: d.key, text } : { kind: 'opt', key: d.key, value, text }, i }
}

/** popt's walk: options one at a time (errors surface in order), non-option words collected as arguments. */
function* tokens(argv: readonly string[], leftovers: string[]): Generator<Tok> {
  for (let i = 0; i < argv.length; i++) {
    const w = argv[i] ?? ''
    if (w === '--') {
      leftovers.push(...argv.slice(i + 1))
      return
    }
    if (w.startsWith('--')) {
      const eq = w.indexOf('=')
      const name = eq < 0 ? w : w.slice(0, eq)
      const d = DEFS[name]
      if (d === undefined || name.length === 2) {
        yield { kind: 'error', text: `${name}: unknown option` }
        return
      }
      if (d.takes === 'none') {
        yield { kind: 'opt', key: d.key, text: name }
        continue
      }
      const r = withValue(d, name, eq < 0 ? undefined : w.slice(eq + 1), argv, i)
      i = r.i
      yield r.tok
      if (r.tok.kind === 'error') return
      continue
    }
    if (w.startsWith('-') && w.length > 1) {
      for (let j = 1; j < w.length; j++) {
        const ch = w[j] ?? ''
        const key = SHORT[ch]
        if (key === undefined) {
          yield { kind: 'error', text: `-${ch}: unknown option` }
          return
        }
        const d = DEFS[key] ?? { key, takes: 'none' as const }
        const text = `-${ch}`
        if (d.takes === 'none') {
          yield { kind: 'opt', key, text }
          continue
        }
        const r = withValue(d, text, w.slice(j + 1) || undefined, argv, i)
        i = r.i
        yield r.tok
        if (r.tok.kind === 'error') return
        break
      }
      continue
    }
    leftovers.push(w)
  }
}

// ---- addresses -----------------------------------------------------------------------------

function dotted(text: string): string | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text)
  if (m === null) return undefined
  const parts = m.slice(1).map(Number)
  return parts.every((p) => p <= 255) ? parts.join('.') : undefined
}

export function ipNum(a: string): number {
  return a.split('.').reduce((n, p) => n * 256 + Number(p), 0)
}

/** parse_service: host[:port]; a purely numeric string is refused; port by number or service name. */
function parseHostPort(text: string): { addr: string; port?: number } | undefined {
  if (/^\d+$/.test(text)) return undefined
  const i = text.lastIndexOf(':')
  const addr = dotted(i < 0 ? text : text.slice(0, i))
  if (addr === undefined) return undefined
  if (i < 0) return { addr }
  const p = text.slice(i + 1)
  if (/^\d+$/.test(p)) return Number(p) <= 65535 ? { addr, port: Number(p) } : undefined
  const named = PORT_NAMES[p]
  return named === undefined ? undefined : { addr, port: named }
}

function toNumber(text: string, min: number, max: number): number | undefined {
  if (!/^[+-]?\d+$/.test(text)) return undefined
  const n = Number(text)
  return n >= min && n <= max ? n : undefined
}

// ---- one command line ------------------------------------------------------------------------

/** One command line, parsed and checked. */
export interface Entry {
  cmd?: Cmd
  opts: Set<OptName>
  svc: { proto: Proto; addr: string; port: number; fwmark: number; sched: string; persistent?: number; netmask: string; ops: boolean; pe?: string; schedFlags?: string }
  dest: { addr: string; port: number; fwd: Fwd; weight: number; uthresh: number; lthresh: number }
  destPortGiven: boolean
  numeric: boolean
  daemon: { state?: 'master' | 'backup'; mcastIfn: string; syncid: number }
  timeouts?: [number, number, number]
}

export function parseCommand(argv: readonly string[]): Entry {
  const e: Entry = {
    opts: new Set(),
    svc: { proto: 'tcp', addr: '0.0.0.0', port: 0, fwmark: 0, sched: '', netmask: '255.255.255.255', ops: false },
    dest: { addr: '0.0.0.0', port: 0, fwd: 'dr', weight: 1, uthresh: 0, lthresh: 0 },
    destPortGiven: false,
    numeric: false,
    daemon: { mcastIfn: '', syncid: 255 },
  }
  const leftovers: string[] = []
  const it = tokens(argv, leftovers)
  const first = it.next()
  if (first.done === true || first.value.kind === 'error') tryHelp()
  const head = first.value as Extract<Tok, { kind: 'opt' }>
  if (head.key === 'h') fail(0, 'USAGE')
  if (head.key === 'v') fail(0, 'VERSION')
  const cmd = COMMAND_OF[head.key]
  if (cmd === undefined) return tryHelp()
  e.cmd = cmd
  if (cmd === 'start-daemon' || cmd === 'stop-daemon') {
    if (head.value !== 'master' && head.value !== 'backup') fail(2, cmd === 'start-daemon' ? 'illegal start-daemon parameter specified' : 'illegal start_daemon specified')
    e.daemon.state = head.value as 'master' | 'backup'
  }
  const set = (name: OptName): void => {
    if (e.opts.has(name)) fail(2, `multiple '${name}' options specified`)
    e.opts.add(name)
  }
  for (let r = it.next(); r.done !== true; r = it.next()) {
    const tok = r.value
    if (tok.kind === 'error') fail(255, tok.text)
    const t = tok as Extract<Tok, { kind: 'opt' }>
    const v = t.value ?? ''
    const name = OPTION_OF[t.key]
    if (name === undefined) {
      if (t.key === 'sort') continue
      if (t.key === '6') fail(2, e.svc.fwmark !== 0 ? 'IPv6 fwmark services are not emulated by the stand-in' : '-6 used before -f\n')
      fail(2, `invalid option \`${t.text}'`)
    }
    set(name as OptName)
    switch (t.key) {
      case 't': case 'u': case 'sctp': {
        e.svc.proto = t.key === 't' ? 'tcp' : t.key === 'u' ? 'udp' : 'sctp'
        const hp = parseHostPort(v)
        if (hp === undefined) fail(2, 'illegal virtual server address[:port] specified')
        e.svc.addr = hp?.addr ?? ''
        e.svc.port = hp?.port ?? 0
        break
      }
      case 'f': {
        const n = /^\d+$/.test(v) ? Number(v) : -1
        if (n <= 0 || n > 0xffffffff) fail(2, `invalid fwmark value \`${v}' specified`)
        e.svc.fwmark = n
        break
      }
      case 's': e.svc.sched = v.slice(0, 15); break
      case 'p': {
        if (t.value === undefined) e.svc.persistent = 300
        else {
          const n = toNumber(v, 1, MAX_TIMEOUT)
          if (n === undefined) fail(2, `invalid timeout value \`${v}' specified`)
          e.svc.persistent = n
        }
        break
      }
      case 'M': {
        const m = dotted(v)
        if (m === undefined) fail(2, 'illegal virtual server persistent mask specified')
        e.svc.netmask = m ?? ''
        break
      }
      case 'r': {
        const hp = parseHostPort(v)
        if (hp === undefined) fail(2, 'illegal real server address[:port] specified')
        e.dest.addr = hp?.addr ?? ''
        if (hp?.port !== undefined) {
          e.dest.port = hp.port
          e.destPortGiven = true
        }
        break
      }
      case 'g': e.dest.fwd = 'dr'; break
      case 'm': e.dest.fwd = 'nat'; break
      case 'i': e.dest.fwd = 'tun'; break
      case 'w': {
        const n = toNumber(v, 0, 65535)
        if (n === undefined) fail(2, 'illegal weight specified')
        e.dest.weight = n ?? 1
        break
      }
      case 'x': {
        const n = toNumber(v, 0, 2147483647)
        if (n === undefined) fail(2, 'illegal u_threshold specified')
        e.dest.uthresh = n ?? 0
        break
      }
      case 'y': {
        const n = toNumber(v, 0, 2147483647)
        if (n === undefined) fail(2, 'illegal l_threshold specified')
        e.dest.lthresh = n ?? 0
        break
      }
      case 'n': e.numeric = true; break
      case 'mcast-interface': e.daemon.mcastIfn = v; break
      case 'syncid': {
        const n = toNumber(v, 0, 255)
        if (n === undefined) fail(2, 'illegal syncid specified')
        e.daemon.syncid = n ?? 255
        break
      }
      case 'o': e.svc.ops = true; break
      case 'pe': e.svc.pe = v; break
      case 'b': e.svc.schedFlags = v; break
      default: break
    }
  }
  if (cmd === 'set') {
    const [a, b, c] = leftovers
    if (a === undefined || b === undefined || c === undefined) fail(2, '--set option requires 3 timeout values')
    const parse = (x: string): number => toNumber(x, 0, MAX_TIMEOUT) ?? fail(2, `invalid timeout value \`${x}' specified`)
    e.timeouts = [parse(a ?? ''), parse(b ?? ''), parse(c ?? '')]
    leftovers.splice(0, 3)
  }
  if (leftovers.length > 0) fail(2, `unexpected argument ${leftovers[0]}`)
  // generic_opt_check: walk the vocabulary in order, report the first violation.
  const row = LEGAL[cmd]
  let exclusive: OptName | undefined
  OPTNAMES.forEach((name, j) => {
    const rule = row[j] ?? 'x'
    if (!e.opts.has(name)) {
      if (rule === '+') fail(2, `You need to supply the '${name}' option for the '${cmd}' command`)
    } else {
      if (rule === 'x') fail(2, `Illegal '${name}' option with the '${cmd}' command`)
      if (rule === '1') {
        if (exclusive === undefined) exclusive = name
        else fail(2, `The option '${name}' conflicts with the '${exclusive}' option in the '${cmd}' command`)
      }
    }
  })
  if (cmd === 'add-service' || cmd === 'edit-service') {
    if (e.svc.fwmark === 0 && e.svc.port === 0 && e.svc.persistent === undefined) fail(2, 'Zero port specified for non-persistent service')
    if (e.svc.ops && e.svc.fwmark === 0 && e.svc.proto !== 'udp') fail(2, 'One-Packet Scheduling is only for UDP virtual services')
  }
  if (cmd === 'add-server' || cmd === 'edit-server' || cmd === 'delete-server') {
    // The server port defaults to the service port; -g and -i force it (not for fwmark services).
    if (!e.destPortGiven || (e.svc.fwmark === 0 && (e.dest.fwd === 'dr' || e.dest.fwd === 'tun'))) e.dest.port = e.svc.port
  }
  if (cmd === 'list') {
    const o = e.opts
    if (((o.has('connection') || o.has('timeout') || o.has('daemon')) && (o.has('stats') || o.has('rate') || o.has('thresholds'))) || ((o.has('timeout') || o.has('daemon')) && o.has('persistent-conn'))) {
      fail(2, 'options conflicts in the list command')
    }
  }
  return e
}
