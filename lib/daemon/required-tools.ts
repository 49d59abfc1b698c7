// Which product commands this node's configuration will run, so start-up and `hbctl check` can name a
// missing one ("arping: not installed (Debian package iputils-arping)") before a takeover needs it.

import type { ResourceGroup } from '../config/haresources.js'
import { ipaddrOptions, isDryRun, lvsOptions } from '../agents/agent-options.js'
import { missingTools } from '../agents/system-tools.js'

type Env = Readonly<Record<string, string | undefined>>

export interface ToolNeed {
  command: string
  /** Why this node needs it, e.g. "resource IPaddr::129.254.203.149 (haresources line 1)". */
  reason: string
  /** The haresources line that asks for it, when a resource does. */
  haresourcesLine?: number
}

/** The commands the built-in agents and the daemon will run for these groups (honouring the HBTS_* test overrides). */
export function requiredTools(groups: readonly ResourceGroup[], opts: { logfacility: string | undefined; env: Env; stonithLine?: number; pingLine?: number; serialLine?: number; respawnLine?: number }): ToolNeed[] {
  const needs: ToolNeed[] = [{ command: 'mkfifo', reason: 'the FIFO hb_standby writes to' }]
  // A dead peer is reset with cluster-glue's stonith command before its groups are taken.
  if (opts.stonithLine !== undefined) needs.push({ command: 'stonith', reason: `the STONITH device (ha.cf line ${opts.stonithLine})` })
  // ping nodes are pinged with iputils ping (lib/io/pinger.ts).
  if (opts.pingLine !== undefined) needs.push({ command: 'ping', reason: `the ping nodes (ha.cf line ${opts.pingLine})` })
  // A serial line is set up with stty before it is opened (Node has no termios).
  if (opts.serialLine !== undefined) needs.push({ command: 'stty', reason: `the serial line (ha.cf line ${opts.serialLine})` })
  // respawn clients: the account looked up through NSS, the program run as that user
  if (opts.respawnLine !== undefined) needs.push({ command: 'getent', reason: `respawn (ha.cf line ${opts.respawnLine})` }, { command: 'setpriv', reason: `respawn (ha.cf line ${opts.respawnLine})` })
  if (opts.logfacility !== undefined && opts.logfacility !== 'none') needs.push({ command: 'logger', reason: `logfacility ${opts.logfacility}` })
  // HBTS_DRY_RUN agents print the commands instead of running them.
  const dry = isDryRun(opts.env)
  const ipaddr = ipaddrOptions(opts.env)
  for (const g of groups) {
    for (const r of g.resources) {
      const need = (command: string): ToolNeed => ({ command, reason: `resource ${r.text} (haresources line ${g.line})`, haresourcesLine: g.line })
      if (dry) continue
      if (r.agent === 'IPaddr') needs.push(need(ipaddr.ipCmd), need(ipaddr.arpingCmd))
      else if (r.agent === 'lvs') needs.push(need(lvsOptions(opts.env).ipvsadm))
    }
  }
  const seen = new Set<string>()
  return needs.filter((n) => (seen.has(n.command) ? false : (seen.add(n.command), true)))
}

/** One message per missing command: "arping: not installed (Debian package iputils-arping), needed by …". */
export async function missingRequiredTools(needs: readonly ToolNeed[], pathVar: string | undefined): Promise<{ need: ToolNeed; message: string }[]> {
  const out: { need: ToolNeed; message: string }[] = []
  for (const need of needs) {
    const [missing] = await missingTools([need.command], pathVar)
    if (missing !== undefined) out.push({ need, message: `${missing}, needed by ${need.reason}` })
  }
  return out
}
