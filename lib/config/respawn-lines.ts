// Which ha.cf `respawn` lines heartbeat-ts runs itself, and what to say about the others. Pure.

import type { ClientChild } from './ha-cf.js'
import { isIpfailCommand } from './ipfail.js'

/**
 * `respawn hacluster /usr/lib/heartbeat/ipfail`: heartbeat-ts does ipfail's job itself (ping
 * nodes, issue 12 point 1), so the line is not spawned.
 */
export function isIpfailLine(child: Pick<ClientChild, 'command'>): boolean {
  return isIpfailCommand(child.command)
}

/**
 * Programs that exist to talk to heartbeat's client API (libhbclient / ccm): under heartbeat-ts
 * they start and are restarted, but cannot sign on, so they get no cluster events.
 */
export const API_CLIENTS: readonly string[] = ['ccm', 'cms', 'pingd', 'attrd', 'cib', 'crmd', 'stonithd', 'mgmtd', 'hbagent', 'dopd']

/** The one line logged for a respawn line heartbeat-ts does not spawn because it does the job itself. */
export function ipfailSkipMessage(child: Pick<ClientChild, 'command'>): string {
  return `respawn: ipfail is built in: ${JSON.stringify(child.command)} is not started (heartbeat-ts acts on ping node counts itself)`
}

/** The respawn lines heartbeat-ts spawns: not failfast (refused), not ipfail (built in). */
export function spawnedClients(children: readonly ClientChild[]): ClientChild[] {
  return children.filter((c) => !c.failfast && !isIpfailLine(c))
}
