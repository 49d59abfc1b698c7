// A lone membership core (alpha) with a scripted peer (beta), for exact message-level checks.
import { Membership } from '../../lib/cluster/membership.js'
import type { MembershipAction, MembershipEnv } from '../../lib/cluster/actions.js'
import { stampControlFields } from '../../lib/cluster/control-fields.js'
import type { HaMessage } from '../../lib/wire/message.js'
import { typeOf } from './sim.js'

export const loneTiming = { keepaliveMs: 1000, deadtimeMs: 5000, warntimeMs: 2500, initdeadMs: 12000, hopfudge: 1, maxRexmitDelayMs: 250 }

export function lone(extra: Partial<ConstructorParameters<typeof Membership>[0]> = {}) {
  const env: MembershipEnv = { wallSec: 1_800_000_000, loadavg: '0.00 0.00 0.00 1/1 1' }
  const core = new Membership({ ...loneTiming, localNode: 'alpha', nodes: ['alpha', 'beta'], generation: 7, uuid: Buffer.alloc(16, 1), linkNames: ['eth0'], random: () => 0.5, ...extra })
  const betaId = { node: 'beta', uuid: Buffer.alloc(16, 2), generation: 9, ttl: 3 }
  let betaSeq = 0
  /** Stamp a message as beta sends it: its next seq for sequenced types. */
  const fromBeta = (m: HaMessage, generation = betaId.generation): HaMessage =>
    stampControlFields(m, { ...betaId, generation }, typeOf(m).startsWith('NS_') ? undefined : ++betaSeq, env, Buffer.alloc(16, 1))
  return { core, env, fromBeta }
}

export const transmitted = (as: MembershipAction[]) => as.flatMap((a) => (a.type === 'transmit' ? [a] : []))
export const logLines = (as: MembershipAction[]) => as.flatMap((a) => (a.type === 'log' ? [a.text] : []))
