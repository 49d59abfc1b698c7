// Which STONITH device resets a dead peer, from ha.cf's `stonith` and `stonith_host` lines (config.c).
import type { StonithDirective } from './ha-cf.js'

/**
 * A cluster-glue STONITH device: its plugin type and where its parameters come from, a file
 * (`stonith <type> <file>`, the CLI's -F) or the rest of the line (`stonith_host`, the CLI's -p).
 */
export interface StonithDevice {
  type: string
  config: { kind: 'file'; path: string } | { kind: 'params'; params: string }
  /** The ha.cf line it came from. */
  line: number
}

/**
 * The device this node uses. 3.0.6 keeps one device: each `stonith` line, and each `stonith_host`
 * line naming this node (lower case) or `*`, replaces the one before; a `stonith_host` line for
 * another host is skipped.
 */
export function stonithDeviceFor(lines: readonly StonithDirective[], me: string): StonithDevice | undefined {
  let device: StonithDevice | undefined
  const self = me.toLowerCase()
  for (const d of lines) {
    if (d.kind === 'stonith') device = { type: d.type, config: { kind: 'file', path: d.configFile }, line: d.line }
    else if (d.host === '*' || d.host === self) device = { type: d.type, config: { kind: 'params', params: d.params }, line: d.line }
  }
  return device
}
