// What the ha.cf reader carries from line to line: the config being built, where it is, what it said.

import { quote, type Diagnostic } from './diagnostics.js'
import { scanAtoi } from './atoi.js'
import { parseDuration } from './duration.js'
import type { HaCf } from './ha-cf.js'

/** HaCf fields whose value init_config derives after the last line when ha.cf leaves them unset. */
export type DerivedField = 'warntimeMs' | 'initdeadMs' | 'deadpingMs' | 'udpPort' | 'useLogd' | 'manageResources' | 'lines' | 'parameters'

/** The config as the lines build it: HaCf, with the derived fields still unset where ha.cf gave none. */
export type Draft = Omit<HaCf, DerivedField> & {
  warntimeMs: number | undefined
  initdeadMs: number | undefined
  deadpingMs: number | undefined
  udpPort: number | undefined
  useLogd: boolean | undefined
}

export interface ReadState {
  path: string
  diagnostics: Diagnostic[]
  /** The line being read (1-based). */
  line: number
  draft: Draft
  /** Directive → the line of its last accepted value. */
  lines: Map<string, number>
  /** Directive → its last accepted value as written (heartbeat's parameter table). */
  parameters: Map<string, string>
  /** Directives heartbeat accepts once (baud, pacemaker/crm) or whose order matters (auto_failback before nice_failback). */
  seen: Set<string>
  /** Node name (lowercased) → the line that listed it. */
  nodeLines: Map<string, number>
  /** Per plugin: the port fixed when its first medium was created (bcast/ucast plugin init). */
  latchedPorts: Map<string, number>
}

export function report(s: ReadState, severity: 'error' | 'warning', message: string, line: number | undefined): void {
  s.diagnostics.push(line === undefined ? { path: s.path, severity, message } : { path: s.path, line, severity, message })
}
/** A problem on the line being read. */
export function error(s: ReadState, message: string): void {
  report(s, 'error', message, s.line)
}
export function warn(s: ReadState, message: string): void {
  report(s, 'warning', message, s.line)
}

/** cl_str_to_boolean: case-insensitive. */
export function parseBoolean(text: string): boolean | undefined {
  const t = text.toLowerCase()
  if (['true', 'on', 'yes', 'y', '1'].includes(t)) return true
  if (['false', 'off', 'no', 'n', '0'].includes(t)) return false
  return undefined
}

/** Time directives: parse, keep notes as warnings; undefined on error (already reported). */
export function duration(s: ReadState, directive: string, value: string): number | undefined {
  const d = parseDuration(value)
  if (!d.ok) {
    error(s, `${directive}: ${d.message}`)
    return undefined
  }
  if (d.note !== undefined) warn(s, `${directive}: ${d.note}`)
  return d.ms
}

/** Integer directives read with atoi: junk after the digits is ignored by heartbeat, so only a warning. */
export function integer(s: ReadState, directive: string, value: string): number {
  const n = scanAtoi(value)
  if (!n.digits) warn(s, `${directive}: ${quote(value)} is not a number; heartbeat reads it as 0`)
  else if (!n.clean) warn(s, `${directive}: ${quote(value)} is read as ${n.value}; heartbeat ignores the rest`)
  return n.value
}

export function boolean(s: ReadState, directive: string, value: string): boolean | undefined {
  const b = parseBoolean(value)
  if (b === undefined) error(s, `${directive}: ${quote(value)} is not a boolean (use on/off, yes/no, true/false, 1/0)`)
  return b
}
