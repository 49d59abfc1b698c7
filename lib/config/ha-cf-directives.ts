// The ha.cf directive table: one row per directive Debian's heartbeat 3.0.6 accepts (config.c Directives[], the HBcomm plugins).

import { quote } from './diagnostics.js'
import { didYouMean } from './did-you-mean.js'
import { atoi } from './atoi.js'
import { boolean, duration, error, integer, parseBoolean, warn, type Draft, type ReadState } from './ha-cf-state.js'
import { DEFAULT_UDP_PORT, applyBcast, applyMcast, applyPing, applyPingGroup, applySerial, applyUcast } from './ha-cf-media.js'
import type { PacemakerMode } from './ha-cf.js'
import { WHITESPACE, cspan, span, splitOn } from './line-tokenizer.js'

/**
 * How a directive takes the rest of its line:
 * - `value`: split on blanks and commas, each value applied in turn (heartbeat keeps the last; more than one is a warning);
 * - `values`: split the same way, each value adds one entry (node, env);
 * - `media`: split the same way, the values together make one medium (or one ping node each);
 * - `line`: the rest of the line verbatim, which the directive splits itself.
 */
export type Arity = 'value' | 'values' | 'media' | 'line'

interface RowInfo {
  name: string
  /** The HaCf field the directive sets; undefined when heartbeat-ts only checks the value. */
  field: keyof Draft | undefined
  /** The value the field holds when ha.cf does not set it. */
  initial: unknown
  /** The 3.0.6 default as ha.cf would write it (config.c Directives[]), recorded in `parameters` when unset. */
  default306: string | undefined
  /** Whether an accepted value goes into `parameters` (heartbeat's table) under the directive's name. */
  recorded: boolean
  /** One line for humans (hbctl, the man page). */
  help: string
}

export type HaCfDirective = RowInfo &
  (
    | { arity: 'value' | 'values'; apply: (s: ReadState, value: string) => boolean }
    | { arity: 'media'; apply: (s: ReadState, values: string[]) => void }
    | { arity: 'line'; apply: (s: ReadState, rest: string) => void }
  )

/** glibc's syslog facility names (cl_syslogfac_str2int), plus heartbeat's `none`. */
const FACILITIES = [
  'auth', 'authpriv', 'cron', 'daemon', 'ftp', 'kern', 'lpr', 'mail', 'mark', 'news', 'security', 'syslog',
  'user', 'uucp', 'local0', 'local1', 'local2', 'local3', 'local4', 'local5', 'local6', 'local7',
]
const BAUD_RATES = [9600, 19200, 38400, 57600, 115200, 230400, 460800]
const MAX_NODES = 100
const MAX_NODE_NAME = 99
/** SCHED_FIFO on Linux: 1..99; heartbeat's default is halfway. */
const RT_MIN = 1
const RT_MAX = 99

type Parse<T> = (s: ReadState, name: string, value: string) => T | undefined

/** An option directive whose accepted value lands in one HaCf field. */
function option<K extends keyof Draft>(
  name: string,
  field: K,
  initial: Draft[K],
  default306: string | undefined,
  parse: Parse<Draft[K]>,
  help: string,
): HaCfDirective {
  return {
    name, arity: 'value', field, initial, default306, recorded: true, help,
    apply: (s, value) => {
      const v = parse(s, name, value)
      if (v === undefined) return false
      s.draft[field] = v
      return true
    },
  }
}

/** An option directive heartbeat-ts checks but has no use for (Pacemaker and CRM settings). */
function checkedOnly(name: string, default306: string | undefined, check: (s: ReadState, value: string) => boolean, help: string): HaCfDirective {
  return { name, arity: 'value', field: undefined, initial: undefined, default306, recorded: true, help, apply: check }
}

/** An option directive checked like heartbeat checks it but read by nothing (no HaCf field): logd, compression, core dumps, … */
function checkedValue<T>(name: string, default306: string | undefined, parse: Parse<T>, help: string): HaCfDirective {
  return checkedOnly(name, default306, (s, value) => parse(s, name, value) !== undefined, help)
}

function custom(name: string, field: keyof Draft | undefined, initial: unknown, default306: string | undefined, apply: (s: ReadState, value: string) => boolean, help: string, recorded = true): HaCfDirective {
  return { name, arity: 'value', field, initial, default306, recorded, help, apply }
}

const anyMs: Parse<number> = (s, name, value) => duration(s, name, value)
const positiveMs: Parse<number> = (s, name, value) => {
  const ms = duration(s, name, value)
  if (ms === undefined) return undefined
  if (ms <= 0) {
    error(s, `${name}: ${quote(value)} is ${ms}ms; it must be more than 0`)
    return undefined
  }
  return ms
}
const byte: Parse<number> = (s, name, value) => {
  const n = integer(s, name, value)
  if (n < 0 || n > 255) {
    error(s, `${name}: ${quote(value)} is out of range (0-255)`)
    return undefined
  }
  return n
}
const positive: Parse<number> = (s, name, value) => {
  const n = integer(s, name, value)
  if (n <= 0) {
    error(s, `${name}: ${quote(value)} must be a whole number above 0`)
    return undefined
  }
  return n
}
const bool: Parse<boolean> = (s, name, value) => boolean(s, name, value)
const text: Parse<string> = (_s, _name, value) => value
/** One of a few words, compared as written (or lowercased first with `fold`). */
function oneOf<T extends string>(words: readonly T[], fold = false): Parse<T> {
  return (s, name, value) => {
    const v = fold ? value.toLowerCase() : value
    if ((words as readonly string[]).includes(v)) return v as T
    error(s, `${name}: ${quote(value)} is not ${words.slice(0, -1).join(', ')} or ${words[words.length - 1] ?? ''}`)
    return undefined
  }
}

const rtprio: Parse<number> = (s, name, value) => {
  const n = integer(s, name, value)
  if (n < RT_MIN || n > RT_MAX) {
    error(s, `rtprio: ${quote(value)} is outside the SCHED_FIFO range ${RT_MIN}-${RT_MAX}`)
    return undefined
  }
  return n
}

const udpport: Parse<number> = (s, name, value) => {
  const n = integer(s, name, value)
  if (n <= 0) {
    error(s, `udpport: ${quote(value)} is not a port number (1-65535)`)
    return undefined
  }
  if (n > 65535) warn(s, `udpport: ${quote(value)} is above 65535; heartbeat would use port ${n % 65536}`)
  const latched = [...s.latchedPorts.keys()]
  if (latched.length > 0) {
    // the bcast/ucast plugins read udpport once, when their first medium is created
    warn(s, `udpport comes after a ${latched.join('/')} line, which already uses port ${[...s.latchedPorts.values()][0] ?? DEFAULT_UDP_PORT}; put udpport above the media lines`)
  }
  return n % 65536
}

const baud: Parse<number> = (s, _name, value) => {
  if (s.seen.has('baud')) {
    error(s, `baud: given more than once; heartbeat accepts one baud line`)
    return undefined
  }
  s.seen.add('baud')
  const n = atoi(value)
  if (!BAUD_RATES.includes(n)) {
    error(s, `baud: ${quote(value)} is not a supported rate (${BAUD_RATES.join(', ')})`)
    return undefined
  }
  if (s.draft.media.some((m) => m.kind === 'serial')) warn(s, `baud must come before the serial lines it applies to`)
  return n
}

const watchdog: Parse<string> = (s, _name, value) => {
  if (s.draft.watchdog !== undefined) {
    error(s, `watchdog: device given more than once`)
    return undefined
  }
  return value
}

const logfacility: Parse<string> = (s, _name, value) => {
  if (value !== 'none' && !FACILITIES.includes(value)) {
    error(s, `logfacility: ${quote(value)} is not a syslog facility${didYouMean(value, [...FACILITIES, 'none'])}`)
    return undefined
  }
  return value
}

const autoFailback: Parse<Draft['autoFailback']> = (s, _name, value) => {
  const b = parseBoolean(value)
  if (b === undefined && value.toLowerCase() !== 'legacy') {
    error(s, `auto_failback: ${quote(value)} is not on, off or legacy`)
    return undefined
  }
  return b === undefined ? 'legacy' : b ? 'on' : 'off'
}

/** config.c set_nice_failback: without an auto_failback that enabled it (on/off) even "on" becomes legacy; after one, it forces off. */
function niceFailback(s: ReadState, value: string): boolean {
  if (boolean(s, 'nice_failback', value) === undefined) return false
  if (s.draft.autoFailback !== 'legacy') {
    warn(s, `nice_failback is obsolete; "nice_failback ${value}" after auto_failback is read as "auto_failback off"`)
    s.draft.autoFailback = 'off'
  } else {
    warn(s, `nice_failback is obsolete; "nice_failback ${value}" is read as "auto_failback legacy" (write "auto_failback on" instead)`)
    s.draft.autoFailback = 'legacy'
  }
  return true
}

/** crmd_spawns_pengine and crm_daemon_dir only mean something before the pacemaker line. */
function beforePacemaker(isBoolean: boolean): (s: ReadState, value: string) => boolean {
  return (s, value) => {
    const name = isBoolean ? 'crmd_spawns_pengine' : 'crm_daemon_dir'
    if (s.seen.has('pacemaker')) {
      error(s, `${name} must come before the pacemaker (or crm) line`)
      return false
    }
    return isBoolean ? boolean(s, name, value) !== undefined : true
  }
}

function pacemaker(directive: 'crm' | 'pacemaker'): (s: ReadState, value: string) => boolean {
  return (s, value) => {
    if (s.seen.has('pacemaker')) {
      error(s, `${directive}: pacemaker/crm given more than once`)
      return false
    }
    s.seen.add('pacemaker')
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
    s.draft.pacemaker = mode
    // crm is an alias: the value is recorded under pacemaker
    s.lines.set('pacemaker', s.line)
    s.parameters.set('pacemaker', value)
    return true
  }
}

function addNode(s: ReadState, value: string): boolean {
  const nodes = s.draft.nodes
  if (nodes.length >= MAX_NODES) {
    error(s, `node: more than ${MAX_NODES} nodes; heartbeat refuses ${quote(value)}`)
    return false
  }
  if (value.length > MAX_NODE_NAME) {
    error(s, `node: ${quote(value)} is longer than ${MAX_NODE_NAME} characters`)
    return false
  }
  // add_node: names are stored lowercased
  const name = value.toLowerCase()
  if (nodes.includes(name)) {
    // 3.0.6 keeps both entries and counts the node twice; one name must be one node
    const first = s.nodeLines.get(name)
    error(s, `node ${quote(value)} is listed twice (first on line ${first ?? '?'}); heartbeat-ts refuses a duplicate node (heartbeat 3.0.6 would count it twice)`)
    return false
  }
  nodes.push(name)
  s.nodeLines.set(name, s.line)
  return true
}

function addEnv(s: ReadState, value: string): boolean {
  const eq = value.indexOf('=')
  if (eq <= 0) {
    error(s, `env: ${quote(value)} is not NAME=value`)
    return false
  }
  s.draft.env.push({ name: value.slice(0, eq), value: value.slice(eq + 1), line: s.line })
  return true
}

function media(name: string, field: 'media' | 'pingNodes', apply: (s: ReadState, values: string[]) => void, help: string): HaCfDirective {
  return { name, arity: 'media', field, initial: [], default306: undefined, recorded: false, help, apply }
}
function wholeLine(name: string, field: keyof Draft | undefined, apply: (s: ReadState, rest: string) => void, help: string): HaCfDirective {
  return { name, arity: 'line', field, initial: [], default306: undefined, recorded: false, help, apply }
}

function stonith(s: ReadState, rest: string): void {
  const [type] = splitOn(rest, WHITESPACE)
  if (type === undefined) {
    error(s, `stonith: no STONITH type given (stonith <type> <config-file>)`)
    return
  }
  const afterType = rest.slice(span(rest, WHITESPACE) + type.length)
  const configFile = afterType.slice(span(afterType, WHITESPACE)).trimEnd()
  s.draft.stonith.push({ kind: 'stonith', type, configFile, line: s.line })
}

function stonithHost(s: ReadState, rest: string): void {
  const [host, type] = splitOn(rest, WHITESPACE)
  if (host === undefined || type === undefined) {
    error(s, `stonith_host: needs a host (or *) and a STONITH type (stonith_host <host> <type> <params...>)`)
    return
  }
  let i = span(rest, WHITESPACE)
  i += cspan(rest, WHITESPACE, i)
  i += span(rest, WHITESPACE, i)
  i += cspan(rest, WHITESPACE, i)
  i += span(rest, WHITESPACE, i)
  s.draft.stonith.push({ kind: 'stonith_host', host: host.toLowerCase(), type, params: rest.slice(i).trimEnd(), line: s.line })
}

function child(directive: 'respawn' | 'failfast'): (s: ReadState, rest: string) => void {
  return (s, rest) => {
    const [user] = splitOn(rest, WHITESPACE)
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
    s.draft.respawn.push({ user, command, path, failfast: directive === 'failfast', line: s.line })
  }
}

function apiauth(s: ReadState, rest: string): void {
  const [client, ...specs] = splitOn(rest, WHITESPACE)
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
  if (s.draft.apiauth.some((a) => a.client === client)) return error(s, `apiauth: client ${quote(client)} is given twice`)
  s.draft.apiauth.push({ client, uids, gids, line: s.line })
}

// nodename: heartbeat-ts cannot derive 3.0.6's uuid (ha-cf-support refuses it)
const uuidfrom: Parse<'file' | 'nodename'> = oneOf(['file', 'nodename'] as const)

/** Every directive, in config.c's order (option directives, option-style media, whole-line directives). */
export const DIRECTIVE_TABLE: readonly HaCfDirective[] = [
  option('cluster', 'cluster', 'linux-ha', 'linux-ha', text, 'the cluster name'),
  { name: 'node', arity: 'values', field: 'nodes', initial: [], default306: undefined, recorded: false, help: 'a cluster member, by its uname -n', apply: addNode },
  option('hopfudge', 'hopfudge', 1, '1', byte, 'hops a message may take beyond the node count (0-255)'),
  option('keepalive', 'keepaliveMs', 1000, '1000ms', positiveMs, 'time between heartbeats'),
  option('deadtime', 'deadtimeMs', 30000, '30000ms', anyMs, 'silence after which a node is declared dead'),
  option('deadping', 'deadpingMs', undefined, undefined, anyMs, 'silence after which a ping node is declared dead (default: deadtime)'),
  option('initdead', 'initdeadMs', undefined, undefined, anyMs, 'deadtime at start-up (default: derived from deadtime)'),
  option('warntime', 'warntimeMs', undefined, undefined, positiveMs, 'silence after which a late heartbeat is logged (default: deadtime/2)'),
  option('watchdog', 'watchdog', undefined, undefined, watchdog, 'the watchdog device heartbeat keeps alive'),
  option('baud', 'baud', 19200, '19200', baud, 'serial line speed'),
  option('udpport', 'udpPort', undefined, undefined, udpport, 'UDP port of bcast and ucast media (default 694)'),
  option('logfacility', 'logfacility', undefined, undefined, logfacility, 'syslog facility, or none'),
  option('logfile', 'logfile', undefined, undefined, text, 'file for log messages'),
  option('debugfile', 'debugfile', undefined, undefined, text, 'file for debug messages'),
  custom('nice_failback', undefined, undefined, undefined, niceFailback, 'obsolete form of auto_failback', false),
  option('auto_failback', 'autoFailback', 'legacy', 'legacy', autoFailback, 'whether resources return to their home node: on, off or legacy'),
  checkedValue('rtprio', undefined, rtprio, 'SCHED_FIFO priority (1-99)'),
  option('hbgenmethod', 'hbgenmethod', 'file', 'file', oneOf(['file', 'time'] as const), 'how the generation number is kept: file or time'),
  option('realtime', 'realtime', true, 'true', bool, 'run with real-time priority and locked memory'),
  option('debug', 'debugLevel', 0, undefined, byte, 'debug level (0-255)'),
  option('msgfmt', 'msgfmt', 'classic', 'classic', oneOf(['classic', 'netstring'] as const), 'wire format: classic or netstring'),
  option('use_logd', 'useLogd', undefined, undefined, bool, 'log through ha_logd'),
  checkedValue('conn_logd_time', '60', positiveMs, 'time between attempts to reach ha_logd'),
  checkedValue('use_apphbd', undefined, bool, 'register with apphbd'),
  option('log_badpack', 'logBadpack', true, 'true', bool, 'log packets that fail to authenticate'),
  option('syslogmsgfmt', 'syslogmsgfmt', true, 'true', bool, 'syslog message format'),
  checkedValue('coredumps', 'true', bool, 'allow core dumps'),
  checkedValue('coreroot', undefined, text, 'directory for core dumps'),
  checkedOnly('crm_daemon_dir', undefined, beforePacemaker(false), 'Pacemaker daemon directory (before the pacemaker line)'),
  checkedOnly('crmd_spawns_pengine', undefined, beforePacemaker(true), 'Pacemaker setting (before the pacemaker line)'),
  custom('crm', 'pacemaker', 'off', undefined, pacemaker('crm'), 'old name of pacemaker', false),
  custom('pacemaker', 'pacemaker', 'off', 'false', pacemaker('pacemaker'), 'Pacemaker resource management (heartbeat-ts: off only)'),
  option('autojoin', 'autojoin', 'none', 'none', oneOf(['none', 'other', 'any'] as const, true), 'which unlisted nodes may join: none, other or any'),
  checkedValue('uuidfrom', 'file', uuidfrom, 'where node uuids come from: file or nodename'),
  checkedValue('compression', 'zlib', oneOf(['zlib', 'bz2'] as const), 'compression of large messages: zlib or bz2'),
  checkedValue('compression_threshold', '2', positive, 'message size (KB) above which messages are compressed'),
  checkedValue('traditional_compression', 'no', bool, 'compress the whole message rather than fields'),
  { name: 'env', arity: 'values', field: 'env', initial: [], default306: undefined, recorded: false, help: 'NAME=value exported to children as HA_NAME', apply: addEnv },
  option('max_rexmit_delay', 'maxRexmitDelayMs', 250, '250', positive, 'ms to wait before answering a retransmission request'),
  checkedOnly('record_config_changes', 'on', (s, v) => boolean(s, 'record_config_changes', v) !== undefined, 'Pacemaker setting'),
  checkedOnly('record_pengine_inputs', 'on', (s, v) => boolean(s, 'record_pengine_inputs', v) !== undefined, 'Pacemaker setting'),
  checkedOnly('enable_config_writes', 'on', (s, v) => boolean(s, 'enable_config_writes', v) !== undefined, 'Pacemaker setting'),
  checkedValue('memreserve', '6500', positive, 'KB of memory locked in advance'),
  checkedValue('quorum_server', undefined, text, 'quorum server host'),
  media('bcast', 'media', applyBcast, 'UDP broadcast on the interfaces named'),
  media('ping', 'pingNodes', (s, values) => applyPing(s, 'ping', values), 'IPv4 ping nodes'),
  media('ping6', 'pingNodes', (s, values) => applyPing(s, 'ping6', values), 'IPv6 ping nodes'),
  media('serial', 'media', applySerial, 'serial links (a ring over the devices named)'),
  wholeLine('stonith', 'stonith', stonith, 'STONITH device: type and config file'),
  wholeLine('stonith_host', 'stonith', stonithHost, 'STONITH device for a host: host, type and parameters'),
  wholeLine('apiauth', 'apiauth', apiauth, 'which uids/gids may use an API client name'),
  wholeLine('respawn', 'respawn', child('respawn'), 'a child process heartbeat starts and restarts'),
  wholeLine('failfast', 'respawn', child('failfast'), 'a child process whose abnormal death reboots the node'),
  wholeLine('mcast', 'media', (s, rest) => applyMcast(s, 'mcast', rest), 'IPv4 multicast: interface, group, port, ttl, loop'),
  wholeLine('mcast6', 'media', (s, rest) => applyMcast(s, 'mcast6', rest), 'IPv6 multicast: interface, group, port, hops, loop'),
  wholeLine('ucast', 'media', (s, rest) => applyUcast(s, 'ucast', rest), 'IPv4 unicast: interface and peer address'),
  wholeLine('ucast6', 'media', (s, rest) => applyUcast(s, 'ucast6', rest), 'IPv6 unicast: interface and peer address'),
  wholeLine('ping_group', 'pingNodes', applyPingGroup, 'a ping node that is up while any of its addresses answers'),
]

/** Plugins and options other builds knew, refused by Debian's 3.0.6. */
export const NOT_IN_306: Readonly<Record<string, string>> = {
  hbaping: 'the hbaping plugin is not shipped with heartbeat 3.0.6',
  openais: 'the openais plugin is not shipped with heartbeat 3.0.6',
  tipc: 'the tipc plugin is not shipped with heartbeat 3.0.6',
  rds: 'the rds plugin is not shipped with heartbeat 3.0.6',
  normalpoll: 'normalpoll is compiled out of heartbeat 3.0.6',
}

export const DIRECTIVES_BY_NAME: ReadonlyMap<string, HaCfDirective> = new Map(DIRECTIVE_TABLE.map((d) => [d.name, d]))

/** The config before any line: every field at the value its row gives. */
export function initialDraft(): Draft {
  const draft: Record<string, unknown> = {}
  for (const row of DIRECTIVE_TABLE) {
    if (row.field !== undefined && !(row.field in draft)) draft[row.field] = structuredClone(row.initial)
  }
  return draft as Draft
}

/** Directive → its 3.0.6 default as written, for the ones heartbeat records one. */
export const RECORDED_DEFAULTS: ReadonlyMap<string, string> = new Map(
  DIRECTIVE_TABLE.flatMap((d) => (d.default306 === undefined ? [] : [[d.name, d.default306] as [string, string]])),
)
