// Which agent runs a haresources resource (issue 12, item 6): the built-in by default, the site's script
// when heartbeat-ts.conf asks for it or when the built-in cannot do its job here, never nothing silently.

/** What runs for one resource name. */
export type AgentRunner = { kind: 'builtin' } | { kind: 'script'; path: string } | { kind: 'none' }

export interface AgentChoice {
  /** The resource's agent name (`lvs`, `IPaddr`, `httpd`, …). */
  agent: string
  runs: AgentRunner
  /** One sentence: why this runs (logged at start, shown by hbctl check). */
  why: string
  /** Set when taking the group over will fail: the built-in cannot run here and no site script can stand in. */
  problem?: string
}

/** What the shell found out about one agent name. */
export interface AgentFacts {
  agent: string
  /** heartbeat-ts has an in-process agent of this name. */
  builtin: boolean
  /** Why the built-in cannot do its job on this node (lvs with no table source); undefined when it can. */
  builtinCannot: string | undefined
  /** The site's executable of this name (resource.d, then the init directories), if any. */
  script: string | undefined
  /** heartbeat-ts.conf [agents] site_scripts names this agent. */
  siteScriptAsked: boolean
  /** Where scripts were looked for, for messages. */
  dirs: readonly string[]
}

/**
 * The rule, in order: the site's script when heartbeat-ts.conf asks for it (none found: no agent);
 * the built-in when it can do its job; the site's script when the built-in cannot; the built-in that
 * cannot (taking the group over will fail, said as a problem) when no script exists; a script for a
 * name with no built-in; else no agent at all.
 */
export function chooseAgent(f: AgentFacts): AgentChoice {
  const where = f.dirs.join(', ')
  if (f.siteScriptAsked) {
    if (f.script !== undefined) return { agent: f.agent, runs: { kind: 'script', path: f.script }, why: `the site's script ${f.script}, as heartbeat-ts.conf [agents] site_scripts asks` }
    return { agent: f.agent, runs: { kind: 'none' }, why: `heartbeat-ts.conf [agents] site_scripts asks for the site's ${f.agent} script, and there is no executable ${f.agent} in ${where}` }
  }
  if (f.builtin && f.builtinCannot === undefined) return { agent: f.agent, runs: { kind: 'builtin' }, why: `the built-in ${f.agent} (the default)` }
  if (f.builtin && f.script !== undefined) {
    return { agent: f.agent, runs: { kind: 'script', path: f.script }, why: `the site's script ${f.script}: the built-in ${f.agent} cannot run here (${f.builtinCannot ?? ''})` }
  }
  if (f.builtin) {
    const cannot = f.builtinCannot ?? ''
    return { agent: f.agent, runs: { kind: 'builtin' }, why: `the built-in ${f.agent}, which cannot run here (${cannot}); no site script in ${where} can stand in`, problem: `the built-in ${f.agent} cannot run here (${cannot}) and there is no executable ${f.agent} in ${where}` }
  }
  if (f.script !== undefined) return { agent: f.agent, runs: { kind: 'script', path: f.script }, why: `the site's script ${f.script}` }
  return { agent: f.agent, runs: { kind: 'none' }, why: `no agent: ${f.agent} is not built in and there is no executable ${f.agent} in ${where}` }
}

/** `built-in lvs`, the script's path, or `NOT FOUND`: what hbctl shows after the resource. */
export function runnerText(c: AgentChoice): string {
  if (c.runs.kind === 'builtin') return `built-in ${c.agent}`
  if (c.runs.kind === 'script') return c.runs.path
  return 'NOT FOUND'
}
