// Preparing one daemon life: configuration read and checked, heartbeat-ts.conf, state files, media
// opened, the membership core built. Used at start and by a reload, which must know the new life
// can run before the running one changes anything (issue 11).

import { readFile } from 'node:fs/promises'
import { hostname } from 'node:os'
import { join } from 'node:path'
import type { DaemonPaths } from '../config/paths.js'
import { loadConfig, type LoadedConfig } from './load-config.js'
import { missingRequiredTools, requiredTools } from './required-tools.js'
import { stonithDeviceFor } from '../config/stonith.js'
import { installedStonithTypes, invalidTypeMessage } from '../io/stonith-runner.js'
import type { Clock } from './core-loop.js'
import { defaultSettings, parseSettings, type Settings } from '../config/settings.js'
import { formatDiagnostic, hasErrors } from '../config/diagnostics.js'
import type { HaCf } from '../config/ha-cf.js'
import { Membership } from '../cluster/membership.js'
import { openMedia, type Datagram, type Media, type MediumSpec } from '../io/udp-media.js'
import { DEFAULT_LOCK_DIR } from '../io/tty-lock.js'
import { openLogger, type Logger, type LogLevel } from '../io/logger.js'
import { formatUuid, loadOrCreateUuid, nextGeneration, readHostcache } from '../io/state-files.js'
import { agentDirs, planAgents, type PlannedAgent } from '../io/agent-plan.js'
import { builtinAgents } from '../io/builtin-agents.js'
import { resolveClients, type ResolvedClient } from '../io/respawn-runner.js'
import { ipfailSkipMessage, isIpfailLine, spawnedClients } from '../config/respawn-lines.js'

/** What preparing a life needs from the daemon's options. */
export interface PrepareOptions {
  paths: DaemonPaths
  foreground: boolean
  debugLevel: number
  manageResources?: boolean
  echo?: NodeJS.WritableStream
}

/** heartbeat's exit codes: 0 done, 6 not configured (config errors), 1 other failure. */
export const EXIT_OK = 0
export const EXIT_FAILURE = 1
export const EXIT_NOT_CONFIGURED = 6

/** Media from ha.cf, one spec per interface or tty; unsupported kinds are reported. */
function mediaSpecs(cf: HaCf, problems: string[]): MediumSpec[] {
  const out: MediumSpec[] = []
  for (const m of cf.media) {
    switch (m.kind) {
      case 'bcast':
        for (const ifname of m.interfaces) out.push({ kind: 'bcast', ifname, port: m.port })
        break
      case 'ucast':
        out.push({ kind: 'ucast', ifname: m.interface, peer: m.address, port: m.port })
        break
      case 'mcast':
        out.push({ kind: 'mcast', ifname: m.interface, group: m.group, port: m.port, ttl: m.ttl, loop: m.loop === 1 })
        break
      case 'ucast6':
        out.push({ kind: 'ucast6', ifname: m.interface, peer: m.address, port: m.port })
        break
      case 'mcast6':
        out.push({ kind: 'mcast6', ifname: m.interface, group: m.group, port: m.port, hops: m.hops, loop: m.loop === 1 })
        break
      case 'serial':
        for (const device of m.devices) out.push({ kind: 'serial', device, baud: m.baud })
        break
      default:
        problems.push(`ha.cf line ${(m as { line: number }).line}: medium ${(m as { kind: string }).kind} is not supported by heartbeat-ts`)
    }
  }
  return out
}

/** The first serial line of ha.cf, for the tools check (stty sets the line up). */
function serialLine(cf: HaCf): { serialLine?: number } {
  const m = cf.media.find((x) => x.kind === 'serial')
  return m === undefined ? {} : { serialLine: m.line }
}

/** heartbeat-ts.conf, our extension settings (a missing file means every default); undefined on errors. */
export async function readSettings(haDir: string, say: (level: LogLevel, text: string) => void): Promise<Settings | undefined> {
  const path = join(haDir, 'heartbeat-ts.conf')
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch {
    return defaultSettings()
  }
  const r = parseSettings(text, path)
  for (const d of r.diagnostics) say(d.severity === 'error' ? 'error' : 'warn', formatDiagnostic(d))
  // A bad value stops the start, as a bad ha.cf line does: running on a guess is worse.
  return hasErrors(r.diagnostics) ? undefined : r.settings
}

/** Everything one life needs, prepared and checked before any running life changes anything. */
export interface PreparedLife {
  me: string
  cfg: LoadedConfig
  settings: Settings
  log: Logger
  generation: number
  membership: Membership
  media: Media
  /** Where the media hand their datagrams: nowhere until the life starts (the old life may still run). */
  sink: MediaSink
  /** Which agent runs each haresources resource name, and why (issue 12); empty without resources. */
  agents: ReadonlyMap<string, PlannedAgent>
  /** ha.cf respawn lines heartbeat-ts runs, their accounts looked up (lib/io/respawn-runner.ts). */
  clients: ResolvedClient[]
}

export interface MediaSink {
  onDatagram: ((d: Datagram) => void) | undefined
  onError: ((link: string, err: Error) => void) | undefined
  onBadFrame?: ((link: string, reason: string) => void) | undefined
}

export type Prepared = { ok: true; life: PreparedLife } | { ok: false; code: number; reason: string }

export interface PrepareInput {
  opts: PrepareOptions
  env: Readonly<Record<string, string | undefined>>
  me: string
  clock: Clock
  /** The configuration to use (a self-restart); else ha.d is read. */
  reuse?: LoadedConfig
  /** A reload: the running life's log takes the lines until the new life starts. */
  say?: (level: LogLevel, text: string) => void
}

/**
 * Read and check the configuration, write the state files, open the media and build the membership
 * core. Nothing here touches a running life: on failure everything opened is closed again and the
 * reason is returned (a reload is then refused and the old life goes on).
 */
export async function prepareLife(p: PrepareInput): Promise<Prepared> {
  const { opts, env, me, clock } = p
  const paths = opts.paths
  const manageResources = opts.manageResources ?? true
  const reloading = p.say !== undefined
  let cfg: LoadedConfig
  const pre: Array<[LogLevel, string]> = []
  if (p.reuse !== undefined) {
    cfg = p.reuse
  } else {
    const loaded = await loadConfig(paths.haDir, me, manageResources)
    if (!loaded.ok) {
      const why = loaded.diagnostics.filter((d) => hasErrors([d])).map(formatDiagnostic)
      if (!reloading) {
        for (const d of loaded.diagnostics) process.stderr.write(`${formatDiagnostic(d)}\n`)
        process.stderr.write(`heartbeat: configuration in ${paths.haDir} has errors; not starting\n`)
      }
      return { ok: false, code: EXIT_NOT_CONFIGURED, reason: `configuration errors: ${why.join('; ')}` }
    }
    if (!reloading) for (const d of loaded.diagnostics) process.stderr.write(`${formatDiagnostic(d)}\n`)
    for (const d of loaded.diagnostics) if (!hasErrors([d])) pre.push(['warn', formatDiagnostic(d)])
    cfg = loaded.config
  }
  const cf = cfg.haCf
  // A node that cannot run its agents must not join and be handed the VIP: name the missing program.
  const firstClient = spawnedClients(cf.respawn)[0]
  const needs = requiredTools(manageResources ? cfg.groups : [], { logfacility: cf.logfacility, env, ...(cf.stonith[0] !== undefined ? { stonithLine: cf.stonith[0].line } : {}), ...(cf.pingNodes[0] !== undefined ? { pingLine: cf.pingNodes[0].line } : {}), ...serialLine(cf), ...(firstClient !== undefined ? { respawnLine: firstClient.line } : {}) })
  const missing = manageResources || firstClient !== undefined ? await missingRequiredTools(needs, env.PATH) : []
  if (missing.length > 0) {
    const why = missing.map((m) => m.message)
    if (!reloading) {
      for (const m of why) process.stderr.write(`heartbeat: ${m}\n`)
      process.stderr.write(`heartbeat: a program this node's resources need is missing; not starting\n`)
    }
    return { ok: false, code: EXIT_NOT_CONFIGURED, reason: why.join('; ') }
  }
  // 3.0.6 does not start with a STONITH type it cannot load: a takeover would wait on it for ever.
  const device = manageResources ? stonithDeviceFor(cf.stonith, me) : undefined
  const installed = device !== undefined ? await installedStonithTypes({ env: { ...env } }) : undefined
  const badType = device !== undefined && installed !== undefined ? invalidTypeMessage(device.type, installed) : undefined
  if (device !== undefined && badType !== undefined) {
    const why = `${join(paths.haDir, 'ha.cf')}:${device.line}: ${badType}`
    if (!reloading) process.stderr.write(`heartbeat: ${why}; not starting\n`)
    return { ok: false, code: EXIT_NOT_CONFIGURED, reason: why }
  }
  // respawn: 3.0.6 does not start with an unknown user or a program it cannot run (config.c).
  const haCfPath = join(paths.haDir, 'ha.cf')
  const resolved = await resolveClients(spawnedClients(cf.respawn), haCfPath, env)
  if (resolved.diagnostics.length > 0) {
    const why = resolved.diagnostics.map(formatDiagnostic)
    if (!reloading) {
      for (const w of why) process.stderr.write(`heartbeat: ${w}\n`)
      process.stderr.write('heartbeat: a respawn line cannot be run; not starting\n')
    }
    return { ok: false, code: EXIT_NOT_CONFIGURED, reason: why.join('; ') }
  }
  for (const child of cf.respawn) {
    if (child.failfast) continue
    // (an API client's warning comes with the parse, on its line)
    if (isIpfailLine(child)) pre.push(['info', `${haCfPath}:${child.line}: ${ipfailSkipMessage(child)}`])
  }
  const debugLevel = Math.max(opts.debugLevel, cf.debugLevel)
  // A reload logs through the running life until the new one starts; a start opens its log first.
  let ownLog: Logger | undefined
  const openOwnLog = async (): Promise<Logger> =>
    openLogger({
      logfile: cf.logfile,
      debugfile: cf.debugfile,
      logfacility: cf.logfacility,
      syslogFormat: cf.syslogmsgfmt,
      // cl_log prints uname -n as it is.
      host: hostname(),
      debugLevel,
      echo: opts.echo ?? (opts.foreground ? process.stderr : undefined),
    })
  if (!reloading) ownLog = await openOwnLog()
  const say = p.say ?? ((level: LogLevel, text: string): void => ownLog?.log(level, text))
  for (const [level, text] of pre) say(level, text)
  const fail = async (code: number, reason: string): Promise<Prepared> => {
    say('error', reason)
    await ownLog?.close()
    return { ok: false, code, reason }
  }
  if (!reloading) say('info', `Configuration validated. Starting heartbeat-ts (3.0.6 compatible) as ${me}`)

  const settings = await readSettings(paths.haDir, say)
  if (settings === undefined) return fail(EXIT_NOT_CONFIGURED, 'heartbeat-ts.conf has errors')
  // Which agent runs each resource: a resource with none would fail at takeover, so it stops the start.
  const agents = manageResources
    ? await planAgents({ groups: cfg.groups, dirs: agentDirs(paths.haDir), builtins: [...builtinAgents().keys()], siteScripts: settings.agents.siteScripts, env })
    : new Map<string, PlannedAgent>()
  const noAgent = [...agents.values()].filter((a) => a.runs.kind === 'none')
  if (noAgent.length > 0) {
    const why = noAgent.map((a) => `${join(paths.haDir, 'haresources')}:${a.line}: resource ${a.agent}: ${a.why}`)
    if (!reloading) for (const w of why) process.stderr.write(`heartbeat: ${w}\n`)
    return fail(EXIT_NOT_CONFIGURED, why.join('; '))
  }
  const problems: string[] = []
  const specs = mediaSpecs(cf, problems)
  for (const q of problems) say('error', q)
  if (specs.length === 0) return fail(EXIT_NOT_CONFIGURED, 'No usable communication media configured.')

  // State files before the first packet (§3.2): the generation is incremented and fsynced now. A
  // generation used by no life is harmless: peers only need it to grow.
  let gen: Awaited<ReturnType<typeof nextGeneration>>
  let uuid: Awaited<ReturnType<typeof loadOrCreateUuid>>
  try {
    gen = await nextGeneration(paths.stateDir, clock.wallSec(), cf.hbgenmethod)
    uuid = await loadOrCreateUuid(paths.stateDir)
  } catch (err) {
    return fail(EXIT_FAILURE, `cannot write the state files in ${paths.stateDir}: ${(err as Error).message}`)
  }

  const sink: MediaSink = { onDatagram: undefined, onError: undefined }
  let media: Media
  try {
    media = await openMedia(
      specs,
      {
        onDatagram: (d) => sink.onDatagram?.(d),
        onError: (link, err) => sink.onError?.(link, err),
        onBadFrame: (link, reason) => sink.onBadFrame?.(link, reason),
      },
      undefined,
      undefined,
      // the UUCP lock directory (3.0.6: /var/lock); movable for tests like the other paths
      { lockDir: env.HBTS_LOCK_DIR ?? DEFAULT_LOCK_DIR },
    )
  } catch (err) {
    return fail(EXIT_FAILURE, `cannot open communication media: ${(err as Error).message}`)
  }

  let membership: Membership
  try {
    membership = new Membership({
      localNode: me,
      nodes: cf.nodes,
      keepaliveMs: cf.keepaliveMs,
      deadtimeMs: cf.deadtimeMs,
      warntimeMs: cf.warntimeMs,
      initdeadMs: cf.initdeadMs,
      hopfudge: cf.hopfudge,
      pingNodeCount: cf.pingNodes.length,
      maxRexmitDelayMs: cf.maxRexmitDelayMs,
      generation: gen.generation,
      uuid: uuid.uuid,
      // the peers' uuids the host cache kept (the core has it rewritten as it learns them)
      knownUuids: await readHostcache(paths.stateDir),
      linkNames: media.links,
      random: Math.random,
      // Copies of each status ride out packet loss; peers see them as duplicates (heartbeat-ts.conf).
      statusCopies: settings.membership.statusCopies,
    })
  } catch (err) {
    await media.close()
    return fail(EXIT_NOT_CONFIGURED, `membership configuration rejected: ${(err as Error).message}`)
  }

  const log = ownLog ?? (await openOwnLog())
  if (gen.previous === undefined && cf.hbgenmethod === 'file') log.log('warn', `No Previous generation - starting at ${gen.generation}`)
  log.log('info', `Heartbeat generation: ${gen.generation}`)
  if (uuid.created) log.log('info', `No uuid found for current node - generated ${formatUuid(uuid.uuid)}.`)
  return { ok: true, life: { me, cfg, settings, log, generation: gen.generation, membership, media, sink, agents, clients: resolved.clients } }
}

export async function discard(life: PreparedLife): Promise<void> {
  await life.media.close()
  await life.log.close()
}

/** The groups as haresources lists them, to tell whether a reload changed them. */
export function groupsKey(cfg: LoadedConfig): string {
  return JSON.stringify(cfg.groups)
}
