// ha.cf as heartbeat 3.0.6 reads it (heartbeat/config.c, the HBcomm plugins): typed config plus diagnostics.

import { quote, type Diagnostic } from './diagnostics.js'
import { didYouMean } from './did-you-mean.js'
import { parseDuration } from './duration.js'
import { isInterfaceName, parseIpv4 } from './ipaddr-spec.js'
import { WHITESPACE, cspan, span, splitOn, tokenizeDirectives, type DirectiveLine } from './line-tokenizer.js'

export type AutoFailback = 'legacy' | 'on' | 'off'
export type PacemakerMode = 'off' | 'on' | 'respawn' | 'minimal' | 'ccm-only' | 'valgrind'

/** A heartbeat path between nodes. `line` is where ha.cf declares it. */
export type Medium =
  | { kind: 'bcast'; interfaces: string[]; port: number; line: number }
  | { kind: 'ucast'; interface: string; address: string; port: number; line: number }
  | { kind: 'mcast'; interface: string; group: string; port: number; ttl: number; loop: 0 | 1; line: number }
  | { kind: 'ucast6'; interface: string; address: string; port: number; line: number }
  | { kind: 'mcast6'; interface: string; group: string; port: number; hops: number; loop: 0 | 1; line: number }
  | { kind: 'serial'; devices: string[]; line: number }

/** `ping`/`ping6` address (node named by the address as written) or a `ping_group`. */
export type PingNode =
  | { kind: 'ping' | 'ping6'; name: string; line: number }
  | { kind: 'ping_group'; name: string; addresses: string[]; line: number }

export interface ClientChild {
  user: string
  /** The command line as written (path and arguments). */
  command: string
  path: string
  /** `failfast`: reboot when the child dies abnormally. */
  failfast: boolean
  line: number
}

export interface ApiAuth {
  client: string
  uids: string[] | undefined
  gids: string[] | undefined
  line: number | undefined
}

export type StonithDirective =
  | { kind: 'stonith'; type: string; configFile: string; line: number }
  | { kind: 'stonith_host'; host: string; type: string; params: string; line: number }

export interface HaCf {
  /** Cluster nodes in file order, lowercased as heartbeat stores them (add_node). */
  nodes: string[]
  media: Medium[]
  pingNodes: PingNode[]
  keepaliveMs: number
  deadtimeMs: number
  warntimeMs: number
  initdeadMs: number
  deadpingMs: number
  /** The `udpport` value (or 694); bcast/ucast media carry the port they latched. */
  udpPort: number
  hopfudge: number
  autoFailback: AutoFailback
  logfile: string | undefined
  debugfile: string | undefined
  logfacility: string | undefined
  useLogd: boolean
  connLogdTimeMs: number
  debugLevel: number
  msgfmt: 'classic' | 'netstring'
  maxRexmitDelayMs: number
  realtime: boolean
  rtprio: number
  hbgenmethod: 'file' | 'time'
  compression: 'zlib' | 'bz2'
  compressionThresholdKb: number
  traditionalCompression: boolean
  autojoin: 'none' | 'other' | 'any'
  uuidfrom: 'file' | 'nodename'
  watchdog: string | undefined
  baud: number
  stonith: StonithDirective[]
  respawn: ClientChild[]
  apiauth: ApiAuth[]
  pacemaker: PacemakerMode
  /** Release-1 resource management (haresources): on unless `pacemaker` turns it off. */
  manageResources: boolean
  cluster: string
  quorumServer: string | undefined
  coredumps: boolean
  coreroot: string | undefined
  logBadpack: boolean
  syslogmsgfmt: boolean
  useApphbd: boolean
  /** `env NAME=value`: exported to children as HA_NAME. */
  env: Array<{ name: string; value: string; line: number }>
  memreserveKb: number
  /** Directive → the line of its last accepted value (for cross-checks and messages). */
  lines: ReadonlyMap<string, number>
  /** Directive → its last accepted value as written, like heartbeat's parameter table. */
  parameters: ReadonlyMap<string, string>
}

/** Option directives: the rest of the line is split on blanks and commas, each value applied in turn. */
const OPTION_DIRECTIVES = [
  'cluster', 'node', 'hopfudge', 'keepalive', 'deadtime', 'deadping', 'initdead', 'warntime', 'watchdog',
  'baud', 'udpport', 'logfacility', 'logfile', 'debugfile', 'nice_failback', 'auto_failback', 'rtprio',
  'hbgenmethod', 'realtime', 'debug', 'msgfmt', 'use_logd', 'conn_logd_time', 'use_apphbd', 'log_badpack',
  'syslogmsgfmt', 'coredumps', 'coreroot', 'crm_daemon_dir', 'crmd_spawns_pengine', 'crm', 'pacemaker',
  'autojoin', 'uuidfrom', 'compression', 'compression_threshold', 'traditional_compression', 'env',
  'max_rexmit_delay', 'record_config_changes', 'record_pengine_inputs', 'enable_config_writes', 'memreserve',
  'quorum_server',
] as const
/** Option-style media plugins: one medium or ping node per value. */
const TOKEN_MEDIA = ['bcast', 'ping', 'ping6', 'serial'] as const
/** Whole-line directives: built-in ones and the media plugins with a parse function. */
const WHOLE_LINE = ['stonith', 'stonith_host', 'apiauth', 'respawn', 'failfast', 'mcast', 'mcast6', 'ucast', 'ucast6', 'ping_group'] as const
/** Every directive a Debian 3.0.6 heartbeat accepts. */
export const HA_CF_DIRECTIVES: readonly string[] = [...OPTION_DIRECTIVES, ...TOKEN_MEDIA, ...WHOLE_LINE]
/** Plugins and options other builds knew, refused by Debian's 3.0.6. */
const NOT_IN_306: Record<string, string> = {
  hbaping: 'the hbaping plugin is not shipped with heartbeat 3.0.6',
  openais: 'the openais plugin is not shipped with heartbeat 3.0.6',
  tipc: 'the tipc plugin is not shipped with heartbeat 3.0.6',
  rds: 'the rds plugin is not shipped with heartbeat 3.0.6',
  normalpoll: 'normalpoll is compiled out of heartbeat 3.0.6',
}

/** Record-value directives with a default (config.c Directives[]), and the media that latch udpport. */
const RECORDED_DEFAULTS: Record<string, string> = {
  cluster: 'linux-ha', hopfudge: '1', keepalive: '1000ms', deadtime: '30000ms', baud: '19200',
  auto_failback: 'legacy', hbgenmethod: 'file', realtime: 'true', msgfmt: 'classic', conn_logd_time: '60',
  log_badpack: 'true', syslogmsgfmt: 'true', coredumps: 'true', pacemaker: 'false', autojoin: 'none',
  uuidfrom: 'file', compression: 'zlib', compression_threshold: '2', traditional_compression: 'no',
  max_rexmit_delay: '250', record_config_changes: 'on', record_pengine_inputs: 'on', enable_config_writes: 'on',
  memreserve: '6500',
}
const NOT_RECORDED = new Set(['node', 'nice_failback', 'use_apphbd', 'crm', 'env'])

/** glibc's syslog facility names (cl_syslogfac_str2int), plus heartbeat's `none`. */
const FACILITIES = [
  'auth', 'authpriv', 'cron', 'daemon', 'ftp', 'kern', 'lpr', 'mail', 'mark', 'news', 'security', 'syslog',
  'user', 'uucp', 'local0', 'local1', 'local2', 'local3', 'local4', 'local5', 'local6', 'local7',
]
const BAUD_RATES = [9600, 19200, 38400, 57600, 115200, 230400, 460800]
const DEFAULT_UDP_PORT = 694
const MAX_NODES = 100
const MAX_NODE_NAME = 99
const MAX_MEDIA = 64
/** SCHED_FIFO on Linux: 1..99; heartbeat's default is halfway. */
const RT_MIN = 1
const RT_MAX = 99

/** cl_str_to_boolean: case-insensitive. */
export function parseBoolean(text: string): boolean | undefined {
  const t = text.toLowerCase()
  if (['true', 'on', 'yes', 'y', '1'].includes(t)) return true
  if (['false', 'off', 'no', 'n', '0'].includes(t)) return false
  return undefined
}

/** atoi: optional blanks and sign, then digits; stops at the first other character. */
function atoi(text: string): { value: number; clean: boolean; digits: boolean } {
  const m = /^[ \t\n\r\f\v]*([+-]?)(\d*)/.exec(text)
  const digits = m?.[2] ?? ''
  const sign = m?.[1] === '-' ? -1 : 1
  const value = digits === '' ? 0 : sign * Number(digits.slice(0, 15))
  return { value, clean: digits !== '' && (m?.[0].length ?? 0) === text.length, digits: digits !== '' }
}

interface State {
  path: string
  diagnostics: Diagnostic[]
  line: number
  nodes: string[]
  media: Medium[]
  pingNodes: PingNode[]
  lines: Map<string, number>
  parameters: Map<string, string>
  keepaliveMs: number
  deadtimeMs: number
  warntimeMs: number | undefined
  initdeadMs: number | undefined
  deadpingMs: number | undefined
  udpPort: number | undefined
  /** Per plugin: the port fixed when its first medium was created (bcast/ucast plugin init). */
  latchedPorts: Map<string, number>
  hopfudge: number
  autoFailback: AutoFailback
  autoFailbackSeen: boolean
  logfile: string | undefined
  debugfile: string | undefined
  logfacility: string | undefined
  useLogd: boolean | undefined
  connLogdTimeMs: number
  debugLevel: number
  msgfmt: 'classic' | 'netstring'
  maxRexmitDelayMs: number
  realtime: boolean
  rtprio: number
  hbgenmethod: 'file' | 'time'
  compression: 'zlib' | 'bz2'
  compressionThresholdKb: number
  traditionalCompression: boolean
  autojoin: 'none' | 'other' | 'any'
  uuidfrom: 'file' | 'nodename'
  watchdog: string | undefined
  baud: number
  baudSeen: boolean
  stonith: StonithDirective[]
  respawn: ClientChild[]
  apiauth: ApiAuth[]
  pacemaker: PacemakerMode
  pacemakerSeen: boolean
  cluster: string
  quorumServer: string | undefined
  coredumps: boolean
  coreroot: string | undefined
  logBadpack: boolean
  syslogmsgfmt: boolean
  useApphbd: boolean
  env: Array<{ name: string; value: string; line: number }>
  memreserveKb: number
  anyMedia: boolean
}

function report(s: State, severity: 'error' | 'warning', message: string, line: number | undefined): void {
  s.diagnostics.push(line === undefined ? { path: s.path, severity, message } : { path: s.path, line, severity, message })
}
/** A problem on the line being read. */
function error(s: State, message: string): void {
  report(s, 'error', message, s.line)
}
function warn(s: State, message: string): void {
  report(s, 'warning', message, s.line)
}

/** Parse ha.cf text. Never throws: every problem is a diagnostic, `path:line: message`. */
export function parseHaCf(text: string, path: string): { config: HaCf; diagnostics: Diagnostic[] } {
  const s = initialState(path)
  const tokenized = tokenizeDirectives(text, path)
  s.diagnostics.push(...tokenized.diagnostics)
  for (const entry of tokenized.lines) {
    s.line = entry.line
    applyLine(s, entry)
  }
  return finish(s)
}

function initialState(path: string): State {
  return {
    path, diagnostics: [], line: 0, nodes: [], media: [], pingNodes: [], lines: new Map(), parameters: new Map(),
    keepaliveMs: 1000, deadtimeMs: 30000, warntimeMs: undefined, initdeadMs: undefined, deadpingMs: undefined,
    udpPort: undefined, latchedPorts: new Map(), hopfudge: 1, autoFailback: 'legacy', autoFailbackSeen: false,
    logfile: undefined, debugfile: undefined, logfacility: undefined, useLogd: undefined, connLogdTimeMs: 60000,
    debugLevel: 0, msgfmt: 'classic', maxRexmitDelayMs: 250, realtime: true, rtprio: Math.floor((RT_MIN + RT_MAX) / 2),
    hbgenmethod: 'file', compression: 'zlib', compressionThresholdKb: 2, traditionalCompression: false,
    autojoin: 'none', uuidfrom: 'file', watchdog: undefined, baud: 19200, baudSeen: false, stonith: [],
    respawn: [], apiauth: [], pacemaker: 'off', pacemakerSeen: false, cluster: 'linux-ha', quorumServer: undefined,
    coredumps: true, coreroot: undefined, logBadpack: true, syslogmsgfmt: true, useApphbd: false, env: [],
    memreserveKb: 6500, anyMedia: false,
  }
}

function applyLine(s: State, entry: DirectiveLine): void {
  let directive = entry.directive
  if (directive === 'udp') {
    // config.c DIRTYALIASKLUDGE: 'udp' is rewritten to 'bcast' with a warning
    warn(s, `directive "udp" is read as "bcast" (heartbeat 3.0.6 renames it); write "bcast ${entry.rest}"`)
    directive = 'bcast'
  }
  if (!HA_CF_DIRECTIVES.includes(directive)) {
    const why = NOT_IN_306[directive]
    const head = directive.split(',')[0] ?? ''
    if (why !== undefined) error(s, `unknown directive ${quote(directive)}: ${why}`)
    else if (head !== directive && HA_CF_DIRECTIVES.includes(head)) {
      // the directive name ends at a blank only; values may be split by commas
      error(s, `unknown directive ${quote(directive)} (a directive ends at a blank: write ${quote(`${head} ${directive.slice(head.length + 1)}`)})`)
    } else error(s, `unknown directive ${quote(directive)}${didYouMean(directive, HA_CF_DIRECTIVES)}`)
    return
  }
  if ((WHOLE_LINE as readonly string[]).includes(directive)) {
    applyWholeLine(s, directive, entry.rest)
    return
  }
  if (entry.values.length === 0) {
    warn(s, `${directive}: no value given; heartbeat ignores the line`)
    return
  }
  if (entry.values.length > 1 && isSingleValued(directive)) {
    const last = entry.values[entry.values.length - 1] ?? ''
    warn(s, `${directive}: ${entry.values.length} values given (${entry.values.map(quote).join(', ')}); heartbeat applies each in turn and keeps the last, ${quote(last)}`)
  }
  if ((TOKEN_MEDIA as readonly string[]).includes(directive)) {
    applyTokenMedium(s, directive, entry.values)
    return
  }
  for (const value of entry.values) {
    if (applyOption(s, directive, value)) {
      s.lines.set(directive, s.line)
      if (!NOT_RECORDED.has(directive)) s.parameters.set(directive, value)
    }
  }
}

function isSingleValued(directive: string): boolean {
  return !['node', 'env'].includes(directive) && !(TOKEN_MEDIA as readonly string[]).includes(directive)
}

/** Time directives: parse, keep notes as warnings; returns undefined on error (already reported). */
function duration(s: State, directive: string, value: string): number | undefined {
  const d = parseDuration(value)
  if (!d.ok) {
    error(s, `${directive}: ${d.message}`)
    return undefined
  }
  if (d.note !== undefined) warn(s, `${directive}: ${d.note}`)
  return d.ms
}

/** Integer directives read with atoi: junk after the digits is ignored by heartbeat, so only a warning. */
function integer(s: State, directive: string, value: string): number {
  const n = atoi(value)
  if (!n.digits) warn(s, `${directive}: ${quote(value)} is not a number; heartbeat reads it as 0`)
  else if (!n.clean) warn(s, `${directive}: ${quote(value)} is read as ${n.value}; heartbeat ignores the rest`)
  return n.value
}

function boolean(s: State, directive: string, value: string): boolean | undefined {
  const b = parseBoolean(value)
  if (b === undefined) error(s, `${directive}: ${quote(value)} is not a boolean (use on/off, yes/no, true/false, 1/0)`)
  return b
}

/** Apply one value of an option directive. Returns true when heartbeat accepts it. */
function applyOption(s: State, directive: string, value: string): boolean {
  switch (directive) {
    case 'node': return addNode(s, value)
    case 'keepalive': {
      const ms = duration(s, directive, value)
      if (ms === undefined) return false
      if (ms <= 0) {
        error(s, `keepalive: ${quote(value)} is ${ms}ms; it must be more than 0`)
        return false
      }
      s.keepaliveMs = ms
      return true
    }
    case 'deadtime': case 'deadping': case 'initdead': {
      const ms = duration(s, directive, value)
      if (ms === undefined) return false
      if (directive === 'deadtime') s.deadtimeMs = ms
      else if (directive === 'deadping') s.deadpingMs = ms
      else s.initdeadMs = ms
      return true
    }
    case 'warntime': {
      const ms = duration(s, directive, value)
      if (ms === undefined) return false
      if (ms <= 0) {
        error(s, `warntime: ${quote(value)} is ${ms}ms; it must be more than 0`)
        return false
      }
      s.warntimeMs = ms
      return true
    }
    case 'conn_logd_time': {
      const ms = duration(s, directive, value)
      if (ms === undefined) return false
      if (ms <= 0) {
        error(s, `conn_logd_time: ${quote(value)} is ${ms}ms; it must be more than 0`)
        return false
      }
      s.connLogdTimeMs = ms
      return true
    }
    case 'hopfudge': case 'debug': {
      const n = integer(s, directive, value)
      if (n < 0 || n > 255) {
        error(s, `${directive}: ${quote(value)} is out of range (0-255)`)
        return false
      }
      if (directive === 'hopfudge') s.hopfudge = n
      else s.debugLevel = n
      return true
    }
    case 'udpport': {
      const n = integer(s, directive, value)
      if (n <= 0) {
        error(s, `udpport: ${quote(value)} is not a port number (1-65535)`)
        return false
      }
      if (n > 65535) warn(s, `udpport: ${quote(value)} is above 65535; heartbeat would use port ${n % 65536}`)
      const latched = [...s.latchedPorts.keys()]
      if (latched.length > 0) {
        // the bcast/ucast plugins read udpport once, when their first medium is created
        warn(s, `udpport comes after a ${latched.join('/')} line, which already uses port ${[...s.latchedPorts.values()][0] ?? DEFAULT_UDP_PORT}; put udpport above the media lines`)
      }
      s.udpPort = n % 65536
      return true
    }
    case 'max_rexmit_delay': case 'memreserve': case 'compression_threshold': {
      const n = integer(s, directive, value)
      if (n <= 0) {
        error(s, `${directive}: ${quote(value)} must be a whole number above 0`)
        return false
      }
      if (directive === 'max_rexmit_delay') s.maxRexmitDelayMs = n
      else if (directive === 'memreserve') s.memreserveKb = n
      else s.compressionThresholdKb = n
      return true
    }
    case 'rtprio': {
      const n = integer(s, directive, value)
      if (n < RT_MIN || n > RT_MAX) {
        error(s, `rtprio: ${quote(value)} is outside the SCHED_FIFO range ${RT_MIN}-${RT_MAX}`)
        return false
      }
      s.rtprio = n
      return true
    }
    case 'baud': {
      if (s.baudSeen) {
        error(s, `baud: given more than once; heartbeat accepts one baud line`)
        return false
      }
      s.baudSeen = true
      const n = atoi(value).value
      if (!BAUD_RATES.includes(n)) {
        error(s, `baud: ${quote(value)} is not a supported rate (${BAUD_RATES.join(', ')})`)
        return false
      }
      if (s.media.some((m) => m.kind === 'serial')) warn(s, `baud must come before the serial lines it applies to`)
      s.baud = n
      return true
    }
    case 'watchdog': {
      if (s.watchdog !== undefined) {
        error(s, `watchdog: device given more than once`)
        return false
      }
      s.watchdog = value
      return true
    }
    case 'logfacility': {
      if (value !== 'none' && !FACILITIES.includes(value)) {
        error(s, `logfacility: ${quote(value)} is not a syslog facility${didYouMean(value, [...FACILITIES, 'none'])}`)
        return false
      }
      s.logfacility = value
      return true
    }
    case 'logfile': s.logfile = value; return true
    case 'debugfile': s.debugfile = value; return true
    case 'auto_failback': {
      const b = parseBoolean(value)
      if (b === undefined && value.toLowerCase() !== 'legacy') {
        error(s, `auto_failback: ${quote(value)} is not on, off or legacy`)
        return false
      }
      s.autoFailback = b === undefined ? 'legacy' : b ? 'on' : 'off'
      s.autoFailbackSeen = true
      return true
    }
    case 'nice_failback': {
      const b = boolean(s, directive, value)
      if (b === undefined) return false
      // config.c set_nice_failback: without a preceding auto_failback even "on" becomes legacy;
      // after one that enabled nice_failback (on/off), it forces off
      if (s.autoFailback !== 'legacy') {
        warn(s, `nice_failback is obsolete; "nice_failback ${value}" after auto_failback is read as "auto_failback off"`)
        s.autoFailback = 'off'
      } else {
        warn(s, `nice_failback is obsolete; "nice_failback ${value}" is read as "auto_failback legacy" (write "auto_failback on" instead)`)
        s.autoFailback = 'legacy'
      }
      s.autoFailbackSeen = true
      return true
    }
    case 'realtime': case 'use_logd': case 'log_badpack': case 'syslogmsgfmt': case 'coredumps':
    case 'traditional_compression': case 'use_apphbd': case 'record_config_changes': case 'record_pengine_inputs':
    case 'enable_config_writes': {
      const b = boolean(s, directive, value)
      if (b === undefined) return false
      if (directive === 'realtime') s.realtime = b
      else if (directive === 'use_logd') s.useLogd = b
      else if (directive === 'log_badpack') s.logBadpack = b
      else if (directive === 'syslogmsgfmt') s.syslogmsgfmt = b
      else if (directive === 'coredumps') s.coredumps = b
      else if (directive === 'traditional_compression') s.traditionalCompression = b
      else if (directive === 'use_apphbd') s.useApphbd = b
      return true
    }
    case 'crmd_spawns_pengine': case 'crm_daemon_dir': {
      if (s.pacemakerSeen) {
        error(s, `${directive} must come before the pacemaker (or crm) line`)
        return false
      }
      if (directive === 'crmd_spawns_pengine') return boolean(s, directive, value) !== undefined
      return true
    }
    case 'crm': case 'pacemaker': return setPacemaker(s, directive, value)
    case 'hbgenmethod': {
      if (value !== 'file' && value !== 'time') {
        error(s, `hbgenmethod: ${quote(value)} is not file or time`)
        return false
      }
      s.hbgenmethod = value
      return true
    }
    case 'msgfmt': {
      if (value !== 'classic' && value !== 'netstring') {
        error(s, `msgfmt: ${quote(value)} is not classic or netstring`)
        return false
      }
      s.msgfmt = value
      return true
    }
    case 'compression': {
      if (value !== 'zlib' && value !== 'bz2') {
        error(s, `compression: ${quote(value)} is not zlib or bz2`)
        return false
      }
      s.compression = value
      return true
    }
    case 'autojoin': {
      const v = value.toLowerCase()
      if (v !== 'none' && v !== 'other' && v !== 'any') {
        error(s, `autojoin: ${quote(value)} is not none, other or any`)
        return false
      }
      s.autojoin = v
      return true
    }
    case 'uuidfrom': {
      if (value !== 'file' && value !== 'nodename') {
        error(s, `uuidfrom: ${quote(value)} is not file or nodename`)
        return false
      }
      if (value === 'nodename') warn(s, `uuidfrom nodename: heartbeat derives the uuid with the C library's rand(); heartbeat-ts cannot reproduce it and uses the uuid file`)
      s.uuidfrom = value
      return true
    }
    case 'cluster': s.cluster = value; return true
    case 'quorum_server': s.quorumServer = value; return true
    case 'coreroot': s.coreroot = value; return true
    case 'env': {
      const eq = value.indexOf('=')
      if (eq <= 0) {
        error(s, `env: ${quote(value)} is not NAME=value`)
        return false
      }
      s.env.push({ name: value.slice(0, eq), value: value.slice(eq + 1), line: s.line })
      return true
    }
    default:
      // every OPTION_DIRECTIVES entry is handled above
      error(s, `unknown directive ${quote(directive)}`)
      return false
  }
}

function addNode(s: State, value: string): boolean {
  if (s.nodes.length >= MAX_NODES) {
    error(s, `node: more than ${MAX_NODES} nodes; heartbeat refuses ${quote(value)}`)
    return false
  }
  if (value.length > MAX_NODE_NAME) {
    error(s, `node: ${quote(value)} is longer than ${MAX_NODE_NAME} characters`)
    return false
  }
  // add_node: names are stored lowercased
  const name = value.toLowerCase()
  if (s.nodes.includes(name)) warn(s, `node ${quote(value)} is listed twice; heartbeat keeps both entries`)
  s.nodes.push(name)
  return true
}

function setPacemaker(s: State, directive: string, value: string): boolean {
  if (s.pacemakerSeen) {
    error(s, `${directive}: pacemaker/crm given more than once`)
    return false
  }
  s.pacemakerSeen = true
  const v = value.toLowerCase()
  let mode: PacemakerMode
  if (v === 'minimal' || v === 'manual') mode = 'minimal'
  else if (v === 'respawn' || v === 'valgrind' || v === 'ccm-only') mode = v
  else {
    const b = parseBoolean(value)
    if (b === undefined) {
      error(s, `${directive}: ${quote(value)} is not on, off, respawn, minimal, manual, ccm-only or valgrind`)
      return false
    }
    mode = b ? 'on' : 'off'
  }
  s.pacemaker = mode
  if (mode !== 'off') warn(s, `${directive} ${value}: Pacemaker resource management replaces haresources; heartbeat-ts runs release-1 (haresources) mode only`)
  // crm is an alias: the value is recorded under pacemaker
  s.lines.set('pacemaker', s.line)
  s.parameters.set('pacemaker', value)
  return true
}

function latchPort(s: State, plugin: string): number {
  const existing = s.latchedPorts.get(plugin)
  if (existing !== undefined) return existing
  const port = s.udpPort ?? DEFAULT_UDP_PORT
  s.latchedPorts.set(plugin, port)
  return port
}

function addMedium(s: State, medium: Medium): void {
  if (s.media.length >= MAX_MEDIA) {
    error(s, `too many media (more than ${MAX_MEDIA})`)
    return
  }
  s.media.push(medium)
  s.anyMedia = true
}

function applyTokenMedium(s: State, directive: string, values: string[]): void {
  switch (directive) {
    case 'bcast': {
      const good = values.filter((v) => {
        if (!isInterfaceName(v)) error(s, `bcast: ${quote(v)} is not an interface name`)
        return isInterfaceName(v)
      })
      if (good.length > 0) addMedium(s, { kind: 'bcast', interfaces: good, port: latchPort(s, 'bcast'), line: s.line })
      return
    }
    case 'serial': {
      const good = values.filter((v) => {
        if (!v.startsWith('/')) error(s, `serial: ${quote(v)} is not a device path (e.g. /dev/ttyS0)`)
        return v.startsWith('/')
      })
      if (good.length > 0) addMedium(s, { kind: 'serial', devices: good, line: s.line })
      return
    }
    case 'ping': case 'ping6': {
      for (const v of values) {
        if (directive === 'ping' && /^[0-9.]+$/.test(v) && parseIpv4(v) === undefined) {
          error(s, `ping: ${quote(v)} is not an IPv4 address`)
          continue
        }
        s.pingNodes.push({ kind: directive, name: v, line: s.line })
        s.anyMedia = true
      }
      return
    }
  }
}

/** Whole-line directives get the rest of the line verbatim and split it on blanks themselves. */
function applyWholeLine(s: State, directive: string, rest: string): void {
  const words = splitOn(rest, WHITESPACE)
  switch (directive) {
    case 'ucast': case 'ucast6': {
      const [dev, address, ...extra] = words
      if (dev === undefined || address === undefined) {
        error(s, `${directive}: needs an interface and a peer address (${directive} eth0 10.0.0.2)`)
        return
      }
      if (!isInterfaceName(dev)) {
        error(s, `${directive}: ${quote(dev)} is not an interface name`)
        return
      }
      if (directive === 'ucast' && !isHostOrIpv4(address)) {
        error(s, `ucast: ${quote(address)} is not an IPv4 address or host name`)
        return
      }
      if (directive === 'ucast6' && !/^[0-9A-Fa-f:.]+(%[^\s%]+)?$/.test(address)) {
        error(s, `ucast6: ${quote(address)} is not an IPv6 address`)
        return
      }
      // ucast.c reads the device and one address; anything after is silently ignored
      if (extra.length > 0) warn(s, `${directive}: only the first address is used; heartbeat ignores ${extra.map(quote).join(', ')} (write one ${directive} line per peer)`)
      addMedium(s, { kind: directive, interface: dev, address, port: latchPort(s, directive), line: s.line })
      return
    }
    case 'mcast': case 'mcast6': {
      const [dev, group, port, ttl, loop] = words
      const usage = directive === 'mcast' ? 'mcast <dev> <group> <port> <ttl> <loop>' : 'mcast6 <dev> <group> <port> <hops> <loop>'
      if (loop === undefined || dev === undefined || group === undefined || port === undefined || ttl === undefined) {
        const missing = ['interface', 'group', 'port', directive === 'mcast' ? 'ttl' : 'hops', 'loop'][words.length] ?? 'loop'
        error(s, `${directive}: missing ${missing} (${usage})`)
        return
      }
      if (!isInterfaceName(dev)) {
        error(s, `${directive}: ${quote(dev)} is not an interface name`)
        return
      }
      if (directive === 'mcast') {
        const g = parseIpv4(group)
        // mcast.c is_valid_mcast_addr: 224.0.0.0/4
        if (g === undefined || Math.floor(g / 2 ** 28) !== 0xe) {
          error(s, `mcast: ${quote(group)} is not an IPv4 multicast group (224.0.0.0-239.255.255.255)`)
          return
        }
      } else if (!/^ff[0-9a-f]{2}:[0-9a-f:]*$/i.test(group)) {
        error(s, `mcast6: ${quote(group)} is not an IPv6 multicast group (ff..::)`)
        return
      }
      const portN = /^\d+$/.test(port) ? Number(port) : NaN
      if (!(portN >= 1 && portN <= 65535)) {
        error(s, `${directive}: port ${quote(port)} is not 1-65535`)
        return
      }
      const ttlN = /^\d+$/.test(ttl) ? Number(ttl) : NaN
      const ttlMax = directive === 'mcast' ? 4 : 255
      if (!(ttlN >= 0 && ttlN <= ttlMax)) {
        // mcast.c refuses ttl > 4 although ha.cf(5) says 0-255
        error(s, `${directive}: ${directive === 'mcast' ? 'ttl' : 'hops'} ${quote(ttl)} is out of range (0-${ttlMax}${directive === 'mcast' ? '; heartbeat 3.0.6 refuses more than 4' : ''})`)
        return
      }
      if (loop !== '0' && loop !== '1') {
        error(s, `${directive}: loop ${quote(loop)} must be 0 or 1`)
        return
      }
      if (words.length > 5) warn(s, `${directive}: heartbeat ignores ${words.slice(5).map(quote).join(', ')}`)
      const loopN: 0 | 1 = loop === '1' ? 1 : 0
      if (directive === 'mcast') addMedium(s, { kind: 'mcast', interface: dev, group, port: portN, ttl: ttlN, loop: loopN, line: s.line })
      else addMedium(s, { kind: 'mcast6', interface: dev, group, port: portN, hops: ttlN, loop: loopN, line: s.line })
      return
    }
    case 'ping_group': {
      const [name, ...addresses] = words
      if (name === undefined || addresses.length === 0) {
        error(s, `ping_group: needs a group name and at least one address (ping_group routers 10.0.0.1 10.0.0.254)`)
        return
      }
      const bad = addresses.find((a) => /^[0-9.]+$/.test(a) && parseIpv4(a) === undefined)
      if (bad !== undefined) {
        error(s, `ping_group: ${quote(bad)} is not an IPv4 address`)
        return
      }
      s.pingNodes.push({ kind: 'ping_group', name, addresses, line: s.line })
      s.anyMedia = true
      return
    }
    case 'stonith': {
      const [type] = words
      if (type === undefined) {
        error(s, `stonith: no STONITH type given (stonith <type> <config-file>)`)
        return
      }
      const afterType = rest.slice(span(rest, WHITESPACE) + type.length)
      const configFile = afterType.slice(span(afterType, WHITESPACE)).trimEnd()
      s.stonith.push({ kind: 'stonith', type, configFile, line: s.line })
      return
    }
    case 'stonith_host': {
      const [host, type] = words
      if (host === undefined || type === undefined) {
        error(s, `stonith_host: needs a host (or *) and a STONITH type (stonith_host <host> <type> <params...>)`)
        return
      }
      let i = span(rest, WHITESPACE)
      i += cspan(rest, WHITESPACE, i)
      i += span(rest, WHITESPACE, i)
      i += cspan(rest, WHITESPACE, i)
      i += span(rest, WHITESPACE, i)
      s.stonith.push({ kind: 'stonith_host', host: host.toLowerCase(), type, params: rest.slice(i).trimEnd(), line: s.line })
      return
    }
    case 'respawn': case 'failfast': {
      const [user] = words
      if (user === undefined) {
        error(s, `${directive}: needs a user and an absolute command path (${directive} hacluster /usr/lib/heartbeat/ipfail)`)
        return
      }
      let i = span(rest, WHITESPACE)
      i += user.length
      i += span(rest, WHITESPACE, i)
      const command = rest.slice(i).trimEnd()
      const path = command.slice(0, cspan(command, WHITESPACE))
      if (!path.startsWith('/')) {
        error(s, `${directive}: command ${quote(command)} is not a full path`)
        return
      }
      s.respawn.push({ user, command, path, failfast: directive === 'failfast', line: s.line })
      return
    }
    case 'apiauth': {
      applyApiauth(s, words)
      return
    }
  }
}

function applyApiauth(s: State, words: string[]): void {
  const [client, ...specs] = words
  const usage = 'apiauth <client> [uid=a,b] [gid=c,d]'
  if (client === undefined) {
    error(s, `apiauth: no client named (${usage})`)
    return
  }
  let uids: string[] | undefined
  let gids: string[] | undefined
  for (const spec of specs) {
    if (spec.startsWith('uid=') || spec.startsWith('gid=')) {
      const list = spec.slice(4).split(',').filter((x) => x !== '')
      if (spec.startsWith('uid=')) {
        if (uids !== undefined) return error(s, `apiauth ${client}: uid= given twice`)
        uids = list
      } else {
        if (gids !== undefined) return error(s, `apiauth ${client}: gid= given twice`)
        gids = list
      }
    } else {
      return error(s, `apiauth ${client}: ${quote(spec)} is not uid=... or gid=... (${usage})`)
    }
  }
  if (uids === undefined && gids === undefined) return error(s, `apiauth ${client}: give uid=... or gid=... (${usage})`)
  if (s.apiauth.some((a) => a.client === client)) return error(s, `apiauth: client ${quote(client)} is given twice`)
  s.apiauth.push({ client, uids, gids, line: s.line })
}

function isHostOrIpv4(text: string): boolean {
  if (/^[0-9.]+$/.test(text)) return parseIpv4(text) !== undefined
  return /^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*\.?$/.test(text)
}

/** Defaults for unset directives, then init_config's validations. */
function finish(s: State): { config: HaCf; diagnostics: Diagnostic[] } {
  const at = (d: string): number | undefined => s.lines.get(d)
  for (const [directive, value] of Object.entries(RECORDED_DEFAULTS)) {
    if (!s.parameters.has(directive)) s.parameters.set(directive, value)
  }
  // parse_config: default API permissions for the well-known clients, unless overridden
  const defaults: Array<[string, string[] | undefined, string[] | undefined]> = [
    ['ipfail', ['hacluster'], undefined], ['ccm', ['hacluster'], undefined], ['ping', undefined, ['haclient']],
    ['lha-snmpagent', ['root'], undefined], ['anon', ['root'], ['haclient']],
  ]
  for (const [client, uids, gids] of defaults) {
    if (!s.apiauth.some((a) => a.client === client)) s.apiauth.push({ client, uids, gids, line: undefined })
  }
  const manageResources = s.pacemaker === 'off'
  if (s.media.length === 0 && s.pingNodes.length === 0) {
    report(s, 'error', `no heartbeat media: add a bcast, ucast or mcast line`, undefined)
  } else if (s.media.length === 0) {
    report(s, 'warning', `only ping media: the cluster nodes have no path to hear each other (add bcast, ucast or mcast)`, undefined)
  }
  const warntimeMs = s.warntimeMs ?? Math.trunc(s.deadtimeMs / 2)
  if (s.nodes.length === 0 && s.autojoin !== 'any') report(s, 'error', `no nodes: add a node line for each cluster member (its uname -n)`, undefined)
  if (s.deadtimeMs <= 2 * s.keepaliveMs) {
    report(s, 'error', `deadtime (${s.deadtimeMs}ms) must be more than twice keepalive (${s.keepaliveMs}ms)`, at('deadtime') ?? at('keepalive'))
  }
  let initdeadMs = s.initdeadMs
  if (initdeadMs === undefined) {
    // init_config: deadtime above 10 s → same; below 6 s → 12 s; else twice deadtime
    initdeadMs = s.deadtimeMs > 10000 ? s.deadtimeMs : s.deadtimeMs < 6000 ? 12000 : 2 * s.deadtimeMs
    s.parameters.set('initdead', `${initdeadMs}ms`)
  }
  if (initdeadMs < s.deadtimeMs) {
    report(s, 'error', `initdead (${initdeadMs}ms) is smaller than deadtime (${s.deadtimeMs}ms)`, at('initdead') ?? at('deadtime'))
  } else if (initdeadMs < 10000) {
    report(s, 'warning', `initdead (${initdeadMs}ms) may be too small: it covers slow network start-up and should be at least 10 s`, at('initdead') ?? at('deadtime'))
  }
  if (s.warntimeMs === undefined) s.parameters.set('warntime', `${warntimeMs}ms`)
  else if (warntimeMs >= s.deadtimeMs) report(s, 'warning', `warntime (${warntimeMs}ms) is not below deadtime (${s.deadtimeMs}ms): no late-heartbeat warning will come before a node is declared dead`, at('warntime'))
  let deadpingMs = s.deadpingMs
  if (deadpingMs === undefined) {
    deadpingMs = s.deadtimeMs
    s.parameters.set('deadping', `${deadpingMs}ms`)
  } else if (deadpingMs <= 2 * s.keepaliveMs) {
    report(s, 'error', `deadping (${deadpingMs}ms) must be more than twice keepalive (${s.keepaliveMs}ms)`, at('deadping'))
  }
  const udpPort = s.udpPort ?? DEFAULT_UDP_PORT
  if (s.udpPort === undefined) s.parameters.set('udpport', String(udpPort))
  if (s.autoFailback === 'legacy' && manageResources) {
    report(s, 'warning', `auto_failback is "legacy" (the default): heartbeat 3.0.6 deprecates it and refuses hb_standby; write "auto_failback on" or "off"`, at('auto_failback'))
  }
  // check_logd_usage: no log destination at all forces logd on; an explicit "use_logd off" is then an error
  const facilitySet = s.logfacility !== undefined && s.logfacility !== 'none' && s.logfacility !== 'kern'
  let useLogd = s.useLogd ?? false
  if (s.logfile === undefined && s.debugfile === undefined && !facilitySet) {
    if (s.useLogd === false) report(s, 'error', `no logfile, debugfile or logfacility and use_logd is off: heartbeat would have nowhere to log`, at('use_logd'))
    useLogd = true
  }
  let logfile = s.logfile
  let debugfile = s.debugfile
  if (facilitySet) {
    // with a facility, unset log files become /dev/null
    logfile ??= '/dev/null'
    debugfile ??= '/dev/null'
  }
  if (manageResources && s.autojoin !== 'none') {
    report(s, 'error', `autojoin ${s.autojoin} conflicts with release-1 (haresources) resource management`, at('autojoin'))
  }
  const config: HaCf = {
    nodes: s.nodes, media: s.media, pingNodes: s.pingNodes, keepaliveMs: s.keepaliveMs, deadtimeMs: s.deadtimeMs,
    warntimeMs, initdeadMs, deadpingMs, udpPort, hopfudge: s.hopfudge, autoFailback: s.autoFailback,
    logfile, debugfile, logfacility: s.logfacility, useLogd, connLogdTimeMs: s.connLogdTimeMs,
    debugLevel: s.debugLevel, msgfmt: s.msgfmt, maxRexmitDelayMs: s.maxRexmitDelayMs, realtime: s.realtime,
    rtprio: s.rtprio, hbgenmethod: s.hbgenmethod, compression: s.compression,
    compressionThresholdKb: s.compressionThresholdKb, traditionalCompression: s.traditionalCompression,
    autojoin: s.autojoin, uuidfrom: s.uuidfrom, watchdog: s.watchdog, baud: s.baud, stonith: s.stonith,
    respawn: s.respawn, apiauth: s.apiauth, pacemaker: s.pacemaker, manageResources, cluster: s.cluster,
    quorumServer: s.quorumServer, coredumps: s.coredumps, coreroot: s.coreroot, logBadpack: s.logBadpack,
    syslogmsgfmt: s.syslogmsgfmt, useApphbd: s.useApphbd, env: s.env, memreserveKb: s.memreserveKb,
    lines: s.lines, parameters: s.parameters,
  }
  return { config, diagnostics: s.diagnostics }
}

/**
 * The local node must be one of the `node` lines. heartbeat compares the lowercased
 * `uname -n` (or the first line of /etc/ha.d/nodeinfo), which the caller supplies.
 */
export function checkLocalNode(config: HaCf, path: string, localName: string): Diagnostic[] {
  const name = localName.trim().toLowerCase()
  if (name === '') return [{ path, severity: 'error', message: `the local node name is empty (check uname -n or nodeinfo)` }]
  if (config.nodes.includes(name)) return []
  if (config.autojoin === 'any') return [{ path, severity: 'warning', message: `local node ${quote(name)} is not listed; autojoin any adds it at start` }]
  const listed = config.nodes.length === 0 ? 'no nodes are listed' : `listed: ${config.nodes.map(quote).join(', ')}`
  return [{ path, severity: 'error', message: `local node ${quote(name)} is not in a node line (${listed}); nodes are named by uname -n or /etc/ha.d/nodeinfo${didYouMean(name, config.nodes)}` }]
}
