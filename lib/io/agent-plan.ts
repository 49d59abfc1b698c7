// The agent each haresources resource name runs (lib/config/agent-rule.ts), from what is on this node:
// the site's scripts, the built-ins, and whether the built-in lvs has a table to load.

import { join } from 'node:path'
import { chooseAgent, type AgentChoice } from '../config/agent-rule.js'
import type { ResourceGroup } from '../config/haresources.js'
import { lvsOptions } from '../agents/agent-options.js'
import { findAgent, type AgentRegistry } from './agent-runner.js'
import { pathExists } from '../agents/path-exists.js'

type Env = Readonly<Record<string, string | undefined>>

/** ResourceManager's scriptpath() with the node's ha.d: resource.d, then the init directories. */
export function agentDirs(haDir: string): string[] {
  return [join(haDir, 'resource.d'), '/etc/init.d', '/etc/rc.d/init.d']
}

export interface AgentPlanInput {
  groups: readonly ResourceGroup[]
  dirs: readonly string[]
  /** Names of the in-process agents (builtinAgents()). */
  builtins: readonly string[]
  /** heartbeat-ts.conf [agents] site_scripts. */
  siteScripts: readonly string[]
  /** The environment the agents get (the built-in lvs reads HBTS_LVS_RULES, HBTS_HA_DIR, HBTS_MON_CF from it). */
  env: Env
}


/** Why a built-in cannot do its job on this node; undefined when it can. Only lvs needs something: a table. */
async function builtinCannot(agent: string, groups: readonly ResourceGroup[], env: Env): Promise<string | undefined> {
  if (agent !== 'lvs') return undefined
  // lvs::VIP:PORT::… arguments are a table of their own
  const bare = groups.some((g) => g.resources.some((r) => r.agent === 'lvs' && r.args.length === 0))
  if (!bare) return undefined
  const paths = lvsOptions(env)
  if ((await pathExists(paths.rulesFile)) || (await pathExists(paths.monCf))) return undefined
  return `no table source: no lvs:: arguments in haresources, no ${paths.rulesFile}, no ${paths.monCf}`
}

/** A choice and the first haresources line that names the agent. */
export type PlannedAgent = AgentChoice & { line: number }

/** One choice per agent name, in haresources order. */
export async function planAgents(i: AgentPlanInput): Promise<Map<string, PlannedAgent>> {
  const builtins = new Set(i.builtins)
  const plan = new Map<string, PlannedAgent>()
  for (const g of i.groups) {
    for (const r of g.resources) {
      if (plan.has(r.agent)) continue
      plan.set(r.agent, {
        line: g.line,
        ...chooseAgent({
          agent: r.agent,
          builtin: builtins.has(r.agent),
          builtinCannot: builtins.has(r.agent) ? await builtinCannot(r.agent, i.groups, i.env) : undefined,
          script: await findAgent(r.agent, i.dirs),
          siteScriptAsked: i.siteScripts.includes(r.agent),
          dirs: i.dirs,
        }),
      })
    }
  }
  return plan
}

/** The built-ins the runner may use: those the plan does not hand to the site's script. */
export function registryFor(builtins: AgentRegistry, plan: ReadonlyMap<string, AgentChoice>): AgentRegistry {
  return new Map([...builtins].filter(([name]) => plan.get(name)?.runs.kind !== 'script'))
}
