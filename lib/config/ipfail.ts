// ipfail: 3.0.6 sites run it with `respawn hacluster /usr/lib/heartbeat/ipfail`. Debian no longer
// ships the program, so heartbeat-ts does its job itself (lib/resources/ipfail.ts) when ha.cf has
// such a line; the generic respawn runner skips these lines.

import type { ClientChild, HaCf } from './ha-cf.js'

/** The basename of a respawn command's program, e.g. `ipfail` for `/usr/lib/heartbeat/ipfail -x`. */
function programName(command: string): string {
  const path = command.trim().split(/\s+/)[0] ?? ''
  return path.slice(path.lastIndexOf('/') + 1)
}

/** A `respawn` line whose command is ipfail (by its basename, wherever it is installed). */
export function isIpfailCommand(command: string): boolean {
  return programName(command) === 'ipfail'
}

/** The `respawn USER …/ipfail` lines (not failfast). */
export function ipfailLines(respawn: readonly ClientChild[]): ClientChild[] {
  return respawn.filter((c) => !c.failfast && isIpfailCommand(c.command))
}

/** Whether ha.cf asks for ipfail's behaviour. */
export function ipfailEnabled(cf: Pick<HaCf, 'respawn'>): boolean {
  return ipfailLines(cf.respawn).length > 0
}
