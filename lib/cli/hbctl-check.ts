// hbctl check: read every file the daemon and hb-mon read (ha.cf, authkeys, haresources, heartbeat-ts.conf,
// mon.cf) as heartbeat 3.0.6, heartbeat-ts and mon would, and print every problem.

import { lstat, stat } from 'node:fs/promises'
import { hostname } from 'node:os'
import { join } from 'node:path'
import { parseAuthkeys } from '../config/authkeys.js'
import { hasErrors, type Diagnostic } from '../config/diagnostics.js'
import { checkLocalNode, parseHaCf, type HaCf } from '../config/ha-cf.js'
import { parseHaresources } from '../config/haresources.js'
import { parseMonCf } from '../config/mon-cf.js'
import { missingRequiredTools, requiredTools } from '../daemon/required-tools.js'
import { installedStonithTypes, invalidTypeMessage } from '../io/stonith-runner.js'
import { parseSettings } from '../config/settings.js'
import { readBounded, tooLarge } from '../daemon/load-config.js'
import { agentDirs, planAgents } from '../io/agent-plan.js'
import { builtinAgents } from '../io/builtin-agents.js'
import type { ResourceGroup } from '../config/haresources.js'
import { daemonPaths } from '../config/paths.js'
import { parseCommand } from './cli-args.js'
import { resolveClients } from '../io/respawn-runner.js'
import { spawnedClients } from '../config/respawn-lines.js'

const USAGE = `usage: hbctl check [--ha-dir DIR] [--mon FILE] [--node NAME] [--json]
  Reads DIR/ha.cf, DIR/authkeys (its mode too), DIR/haresources, DIR/heartbeat-ts.conf
  and mon.cf the way heartbeat 3.0.6, heartbeat-ts and mon do, and prints every problem
  as path:line: error: message or path:line: warning: message.
  --ha-dir DIR   heartbeat's directory (default /etc/ha.d, or $HBTS_HA_DIR)
  --mon FILE     mon.cf to check (default /etc/mon/mon.cf, or $HBTS_MON_CF, when present)
  --node NAME    this node's name (default: first line of DIR/nodeinfo, else the host name)
  --json         one JSON object: {version, wouldStart, errors, warnings, diagnostics, checked, agents}
Exit status: 0 when heartbeat would start (warnings allowed), 1 when it would not, 2 on usage errors.
`

/** The --json form's version: bump when a field changes meaning or goes away. */
export const CHECK_JSON_VERSION = 1

type ReadResult = { ok: true; text: string; bytes: Buffer; mode: number } | { ok: false; missing: boolean; diagnostic: Diagnostic }

/** Bounded, as the daemon reads: text is latin1 (one character per byte), as heartbeat's C reads it. */
async function readConfig(path: string): Promise<ReadResult> {
  const r = await readBounded(path)
  if ('bytes' in r) return { ok: true, text: r.bytes.toString('latin1'), bytes: r.bytes, mode: r.mode }
  if (r.error === 'too-large') return { ok: false, missing: false, diagnostic: tooLarge(path) }
  return { ok: false, missing: r.code === 'ENOENT', diagnostic: { path, severity: 'error', message: `cannot read: ${describe(r.code)}` } }
}

function describe(code: string): string {
  if (code === 'ENOENT') return 'no such file'
  if (code === 'EACCES') return 'permission denied'
  if (code === 'EISDIR') return 'is a directory'
  return code
}

/** `path:line: error: message` / `path:line: warning: message`: every line says what it is. */
export function formatTagged(d: Diagnostic): string {
  const where = d.line === undefined ? d.path : `${d.path}:${d.line}`
  return `${where}: ${d.severity}: ${d.message}`
}


/** heartbeat's local name: the first line of nodeinfo, else `uname -n`. */
async function localNodeName(haDir: string, given: string | undefined): Promise<{ name: string; source: string }> {
  if (given !== undefined) return { name: given, source: '--node' }
  const nodeinfo = join(haDir, 'nodeinfo')
  const r = await readBounded(nodeinfo)
  // no nodeinfo: heartbeat uses uname -n
  const first = 'bytes' in r ? (r.bytes.toString('latin1').split('\n')[0]?.trim() ?? '') : ''
  if (first !== '') return { name: first, source: nodeinfo }
  return { name: hostname(), source: 'uname -n' }
}

/**
 * What heartbeat checks on the host at start (lib/io/respawn-runner.ts, as 3.0.6's config.c): each
 * respawn line's user must exist and its command be an executable absolute path. ipfail lines are
 * not run (built in); failfast lines are refused by the parse.
 */
/** The first respawn line heartbeat-ts runs, for the tools it needs. */
function respawnLineOf(config: HaCf | undefined): { respawnLine?: number } {
  const first = config === undefined ? undefined : spawnedClients(config.respawn)[0]
  return first !== undefined ? { respawnLine: first.line } : {}
}

async function checkClients(config: HaCf, path: string): Promise<Diagnostic[]> {
  return (await resolveClients(spawnedClients(config.respawn), path)).diagnostics
}

/** The daemon opens the watchdog device at start and refuses to run without it (lib/io/watchdog.ts). */
async function checkWatchdog(config: HaCf, path: string): Promise<Diagnostic[]> {
  const device = config.watchdog
  if (device === undefined) return []
  const line = config.lines.get('watchdog')
  const at = line === undefined ? {} : { line }
  try {
    const st = await lstat(device)
    if (st.isCharacterDevice() || st.isFIFO()) return []
    return [{ path, ...at, severity: 'error', message: `watchdog: ${JSON.stringify(device)} is not a character device; the daemon refuses to start (load a driver, e.g. modprobe softdog)` }]
  } catch (err) {
    return [{ path, ...at, severity: 'error', message: `watchdog: cannot open ${JSON.stringify(device)}: ${describe((err as NodeJS.ErrnoException).code ?? String(err))}; the daemon refuses to start (load a driver, e.g. modprobe softdog)` }]
  }
}

/** serial.c refuses a serial line that names no character device, and heartbeat does not start (lib/io/serial-port.ts). */
async function checkSerial(config: HaCf, path: string): Promise<Diagnostic[]> {
  const out: Diagnostic[] = []
  for (const m of config.media) {
    if (m.kind !== 'serial') continue
    for (const device of m.devices) {
      try {
        // stat, not lstat: a link to the tty (udev's /dev/serial/by-id) is what sites name
        if (!(await stat(device)).isCharacterDevice()) out.push({ path, line: m.line, severity: 'error', message: `serial: ${JSON.stringify(device)} is not a character device (a tty); the daemon refuses to start` })
      } catch (err) {
        out.push({ path, line: m.line, severity: 'error', message: `serial: cannot open ${JSON.stringify(device)}: ${describe((err as NodeJS.ErrnoException).code ?? String(err))}; the daemon refuses to start` })
      }
    }
  }
  return out
}

/** What runs for one haresources resource: a built-in agent, a script, or nothing found. */
export interface AgentChoice {
  group: string
  line: number
  resource: string
  agent: string
  /** `builtin`, the script's path, or null when there is none (the daemon refuses to start). */
  runs: string | null
  /** Why this agent runs (lib/config/agent-rule.ts), as the daemon logs it at start. */
  why: string
}

/** The daemon's rule (lib/io/agent-plan.ts): the built-in, the site's script when asked or when the built-in cannot run, or nothing. */
async function agentChoices(groups: readonly ResourceGroup[], haDir: string, monCf: string, siteScripts: readonly string[], path: string, out: Diagnostic[]): Promise<AgentChoice[]> {
  const env = { ...process.env, HBTS_HA_DIR: haDir, HBTS_MON_CF: monCf }
  const plan = await planAgents({ groups, dirs: agentDirs(haDir), builtins: [...builtinAgents().keys()], siteScripts, env })
  const choices: AgentChoice[] = []
  for (const g of groups) {
    for (const r of g.resources) {
      const a = plan.get(r.agent)
      if (a === undefined) continue
      if (a.line === g.line && a.runs.kind === 'none') out.push({ path, line: g.line, severity: 'error', message: `resource ${JSON.stringify(r.text)}: ${a.why}; the daemon refuses to start` })
      if (a.line === g.line && a.problem !== undefined) out.push({ path, line: g.line, severity: 'warning', message: `resource ${JSON.stringify(r.text)}: ${a.problem}; taking over group ${JSON.stringify(g.key)} will fail` })
      const runs = a.runs.kind === 'builtin' ? 'builtin' : a.runs.kind === 'script' ? a.runs.path : null
      choices.push({ group: g.key, line: g.line, resource: r.text, agent: r.agent, runs, why: a.why })
    }
  }
  return choices
}

export async function main(argv: string[]): Promise<number> {
  const args = parseCommand('hbctl check', USAGE, argv, {
    'ha-dir': { type: 'string' },
    mon: { type: 'string' },
    node: { type: 'string' },
    json: { type: 'boolean' },
  })
  if (!args.ok) return args.exitCode
  const values = args.values
  const defaults = daemonPaths(process.env)
  const haDir = values['ha-dir'] ?? defaults.haDir
  const diagnostics: Diagnostic[] = []
  const checked: string[] = []

  // ha.cf and the local node
  const haCfPath = join(haDir, 'ha.cf')
  const haCfText = await readConfig(haCfPath)
  let config: HaCf | undefined
  if (haCfText.ok) {
    const parsed = parseHaCf(haCfText.text, haCfPath)
    config = parsed.config
    diagnostics.push(...parsed.diagnostics)
    const local = await localNodeName(haDir, values.node)
    diagnostics.push(...checkLocalNode(config, haCfPath, local.name))
    diagnostics.push(...(await checkClients(config, haCfPath)), ...(await checkWatchdog(config, haCfPath)), ...(await checkSerial(config, haCfPath)))
    // Every stonith/stonith_host line's plugin type: the same ha.cf serves both nodes.
    const installed = config.stonith.length > 0 ? await installedStonithTypes() : undefined
    for (const d of installed !== undefined ? config.stonith : []) {
      const message = invalidTypeMessage(d.type, installed ?? new Set())
      if (message !== undefined) diagnostics.push({ path: haCfPath, line: d.line, severity: 'error', message })
    }
    checked.push(`${haCfPath} (node ${JSON.stringify(local.name.toLowerCase())} from ${local.source})`)
  } else {
    diagnostics.push(haCfText.diagnostic)
  }

  // authkeys: its bytes (keys are bytes, not text) and the mode the file really has
  const authkeysPath = join(haDir, 'authkeys')
  const authkeys = await readConfig(authkeysPath)
  if (authkeys.ok) {
    const parsed = parseAuthkeys(authkeys.bytes, authkeysPath, authkeys.mode)
    diagnostics.push(...parsed.diagnostics, ...parsed.advice)
    checked.push(authkeysPath)
  } else diagnostics.push(authkeys.diagnostic)

  // heartbeat-ts.conf: optional (every default when absent); a bad value stops the daemon, so it is an error here
  const settingsPath = join(haDir, 'heartbeat-ts.conf')
  const settingsText = await readConfig(settingsPath)
  let siteScripts: readonly string[] = []
  if (settingsText.ok) {
    const parsed = parseSettings(settingsText.bytes.toString('utf8'), settingsPath)
    siteScripts = parsed.settings.agents.siteScripts
    diagnostics.push(...parsed.diagnostics)
  } else if (!settingsText.missing) diagnostics.push(settingsText.diagnostic)
  const monPath = values.mon ?? defaults.monCf

  let agents: AgentChoice[] = []
  // haresources: release-1 mode only (pacemaker on makes heartbeat ignore it)
  const haresourcesPath = join(haDir, 'haresources')
  if (config === undefined || config.manageResources) {
    const text = await readConfig(haresourcesPath)
    if (text.ok) {
      const parsed = parseHaresources(text.text, haresourcesPath, config?.nodes ?? [])
      diagnostics.push(...parsed.diagnostics)
      // The programs the daemon will refuse to start without (lib/agents/system-tools.json names their packages).
      const serial = config?.media.find((m) => m.kind === 'serial')
      const needs = requiredTools(parsed.groups, { logfacility: config?.logfacility, env: process.env, ...(config?.stonith[0] !== undefined ? { stonithLine: config.stonith[0].line } : {}), ...(config?.pingNodes[0] !== undefined ? { pingLine: config.pingNodes[0].line } : {}), ...(serial !== undefined ? { serialLine: serial.line } : {}), ...respawnLineOf(config) })
      for (const m of await missingRequiredTools(needs, process.env.PATH)) {
        diagnostics.push({ path: haresourcesPath, ...(m.need.haresourcesLine !== undefined ? { line: m.need.haresourcesLine } : {}), severity: 'error', message: m.message })
      }
      agents = await agentChoices(parsed.groups, haDir, monPath, siteScripts, haresourcesPath, diagnostics)
      checked.push(haresourcesPath)
    } else diagnostics.push(text.diagnostic)
  }
  if (settingsText.ok) checked.push(settingsPath)


  // mon.cf: the named file must exist; the default one is checked when present
  const mon = await readConfig(monPath)
  if (mon.ok) {
    diagnostics.push(...parseMonCf(mon.bytes.toString('utf8'), monPath).diagnostics)
    checked.push(monPath)
  } else if (values.mon !== undefined || !mon.missing) diagnostics.push(mon.diagnostic)

  const errors = diagnostics.filter((d) => d.severity === 'error').length
  const warnings = diagnostics.length - errors
  const wouldStart = !hasErrors(diagnostics)
  if (values.json === true) {
    process.stdout.write(JSON.stringify({ version: CHECK_JSON_VERSION, wouldStart, errors, warnings, diagnostics, checked, agents }) + '\n')
    return wouldStart ? 0 : 1
  }
  for (const d of diagnostics) process.stdout.write(formatTagged(d) + '\n')
  const verdict = wouldStart ? 'heartbeat would start' : 'heartbeat would not start'
  process.stdout.write(`hbctl check: ${errors} error${errors === 1 ? '' : 's'}, ${warnings} warning${warnings === 1 ? '' : 's'}: ${verdict}\n`)
  if (checked.length > 0) process.stdout.write(`checked: ${checked.join(', ')}\n`)
  if (agents.length > 0) {
    const shown = agents.map((a) => `${a.resource} -> ${a.runs === 'builtin' ? `built-in ${a.agent}` : (a.runs ?? 'NOT FOUND')}`)
    process.stdout.write(`agents: ${shown.join(', ')}\n`)
    // why each agent name runs what it runs, once per name, as the daemon logs it at start
    const named = new Map(agents.map((a) => [a.agent, a.why]))
    for (const [agent, why] of named) process.stdout.write(`  ${agent}: ${why}\n`)
  }
  return wouldStart ? 0 : 1
}
