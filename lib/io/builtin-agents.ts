// The resource agents heartbeat-ts runs in-process (IPaddr, lvs): no Node start-up per call on the failover path.

import type { AgentRegistry } from './agent-runner.js'
import { runIpaddr } from '../agents/ipaddr.js'
import { runLvsAgent } from './lvs-monitor-hook.js'

/**
 * issue 4: "run the built-in agents in-process and keep the resource.d executables for manual and
 * legacy use". A built-in wins over a script of the same name in resource.d or init.d, so the seed's
 * edited IPaddr and its init.d/lvs are replaced without being touched.
 */
export function builtinAgents(): AgentRegistry {
  return new Map([
    ['IPaddr', (args, op, env, signal) => runIpaddr(args, op, env, signal)],
    ['lvs', (args, op, env, signal) => runLvsAgent(args, op, env, signal)],
  ])
}
