// ha.cf as heartbeat 3.0.6 reads it (heartbeat/config.c, the HBcomm plugins): typed config plus diagnostics.

import { quote, type Diagnostic } from './diagnostics.js'
import { didYouMean } from './did-you-mean.js'
import { DIRECTIVES_BY_NAME, DIRECTIVE_TABLE, NOT_IN_306, RECORDED_DEFAULTS, initialDraft } from './ha-cf-directives.js'
import { error, warn, type ReadState } from './ha-cf-state.js'
import { finishHaCf } from './ha-cf-validate.js'
import { supportNote } from './ha-cf-support.js'
import { tokenizeDirectives, type DirectiveLine } from './line-tokenizer.js'

export { parseBoolean } from './ha-cf-state.js'

export type AutoFailback = 'legacy' | 'on' | 'off'
export type PacemakerMode = 'off' | 'on' | 'respawn' | 'minimal' | 'ccm-only' | 'valgrind'

/** A heartbeat path between nodes. `line` is where ha.cf declares it. */
export type Medium =
  | { kind: 'bcast'; interfaces: string[]; port: number; line: number }
  | { kind: 'ucast'; interface: string; address: string; port: number; line: number }
  | { kind: 'mcast'; interface: string; group: string; port: number; ttl: number; loop: 0 | 1; line: number }
  | { kind: 'ucast6'; interface: string; address: string; port: number; line: number }
  | { kind: 'mcast6'; interface: string; group: string; port: number; hops: number; loop: 0 | 1; line: number }
  /** `baud`: the speed the serial plugin latched when the first serial line was read. */
  | { kind: 'serial'; devices: string[]; baud: number; line: number }

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
  debugLevel: number
  msgfmt: 'classic' | 'netstring'
  maxRexmitDelayMs: number
  realtime: boolean
  hbgenmethod: 'file' | 'time'
  autojoin: 'none' | 'other' | 'any'
  watchdog: string | undefined
  baud: number
  stonith: StonithDirective[]
  respawn: ClientChild[]
  apiauth: ApiAuth[]
  pacemaker: PacemakerMode
  /** Release-1 resource management (haresources): on unless `pacemaker` turns it off. */
  manageResources: boolean
  cluster: string
  logBadpack: boolean
  syslogmsgfmt: boolean
  /** `env NAME=value`: exported to children as HA_NAME. */
  env: Array<{ name: string; value: string; line: number }>
  /** Directive → the line of its last accepted value (for cross-checks and messages). */
  lines: ReadonlyMap<string, number>
  /** Directive → its last accepted value as written, like heartbeat's parameter table. */
  parameters: ReadonlyMap<string, string>
}

/** Every directive a Debian 3.0.6 heartbeat accepts, in config.c's order. */
export const HA_CF_DIRECTIVES: readonly string[] = DIRECTIVE_TABLE.map((d) => d.name)

export interface ParseHaCfOptions {
  /**
   * Read as heartbeat-ts runs it (the default): a directive heartbeat-ts does not act on is an error
   * on its line, and one whose value has no effect here a warning. Off: read as 3.0.6 reads it
   * (hbctl export-pacemaker carries a config elsewhere and must not refuse what Pacemaker can do).
   */
  refuseUnsupported?: boolean
}

/** Parse ha.cf text. Never throws: every problem is a diagnostic, `path:line: message`. */
export function parseHaCf(text: string, path: string, options: ParseHaCfOptions = {}): { config: HaCf; diagnostics: Diagnostic[] } {
  const refuseUnsupported = options.refuseUnsupported ?? true
  const s: ReadState = {
    path, diagnostics: [], line: 0, draft: initialDraft(), lines: new Map(), parameters: new Map(), seen: new Set(), latchedPorts: new Map(), nodeLines: new Map(),
  }
  const tokenized = tokenizeDirectives(text, path)
  s.diagnostics.push(...tokenized.diagnostics)
  for (const entry of tokenized.lines) {
    s.line = entry.line
    applyLine(s, entry)
    if (refuseUnsupported) noteSupport(s, entry)
  }
  return finishHaCf(s, RECORDED_DEFAULTS)
}

/** heartbeat-ts's word on a line it read: refused (an error), no effect here (a warning), or nothing. */
function noteSupport(s: ReadState, entry: DirectiveLine): void {
  const name = entry.directive === 'udp' ? 'bcast' : entry.directive
  const directive = DIRECTIVES_BY_NAME.get(name)
  if (directive === undefined) return
  const note = supportNote(name, directive.arity === 'line' ? [entry.rest] : entry.values)
  if (note === undefined) return
  if (note.severity === 'error') error(s, note.message)
  else warn(s, note.message)
}

function applyLine(s: ReadState, entry: DirectiveLine): void {
  let name = entry.directive
  if (name === 'udp') {
    // config.c DIRTYALIASKLUDGE: 'udp' is rewritten to 'bcast' with a warning
    warn(s, `directive "udp" is read as "bcast" (heartbeat 3.0.6 renames it); write "bcast ${entry.rest}"`)
    name = 'bcast'
  }
  const directive = DIRECTIVES_BY_NAME.get(name)
  if (directive === undefined) {
    unknownDirective(s, name)
    return
  }
  if (directive.arity === 'line') {
    directive.apply(s, entry.rest)
    return
  }
  if (entry.values.length === 0) {
    warn(s, `${name}: no value given; heartbeat ignores the line`)
    return
  }
  if (directive.arity === 'media') {
    directive.apply(s, entry.values)
    return
  }
  if (entry.values.length > 1 && directive.arity === 'value') {
    const last = entry.values[entry.values.length - 1] ?? ''
    warn(s, `${name}: ${entry.values.length} values given (${entry.values.map(quote).join(', ')}); heartbeat applies each in turn and keeps the last, ${quote(last)}`)
  }
  for (const value of entry.values) {
    if (directive.apply(s, value)) {
      s.lines.set(name, s.line)
      if (directive.recorded) s.parameters.set(name, value)
    }
  }
}

function unknownDirective(s: ReadState, name: string): void {
  const why = NOT_IN_306[name]
  const head = name.split(',')[0] ?? ''
  if (why !== undefined) error(s, `unknown directive ${quote(name)}: ${why}`)
  else if (head !== name && DIRECTIVES_BY_NAME.has(head)) {
    // the directive name ends at a blank only; values may be split by commas
    error(s, `unknown directive ${quote(name)} (a directive ends at a blank: write ${quote(`${head} ${name.slice(head.length + 1)}`)})`)
  } else error(s, `unknown directive ${quote(name)}${didYouMean(name, HA_CF_DIRECTIVES)}`)
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
