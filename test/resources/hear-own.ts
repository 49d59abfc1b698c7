// What the node core does for the resource manager (lib/daemon/node-core.ts hearOwn): every message
// the manager sends comes back to it once as `own-message`, after the batch that sent it, as
// heartbeat hears its own broadcast. Kits that drive a ResourceManager alone do the same here.
import type { ResourceManager } from '../../lib/resources/resource-manager.js'
import type { RmAction } from '../../lib/resources/rm-types.js'

/** `actions` followed by what hearing each of its sends (and theirs, in send order) adds. */
export function hearOwn(rm: ResourceManager, actions: readonly RmAction[], now: number): RmAction[] {
  const all = [...actions]
  for (let i = 0; i < all.length; i++) {
    const a = all[i]
    if (a?.type === 'send') all.push(...rm.handle({ type: 'own-message', msg: a.msg }, now))
  }
  return all
}
