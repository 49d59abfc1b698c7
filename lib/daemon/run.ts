// The daemon loop (`heartbeat -f`): config, state files, media, then datagrams and timers fed into the
// membership and resource cores, their actions carried out; SIGTERM/SIGHUP/SIGUSR handled as 3.0.6 does.

import { readFile, stat } from 'node:fs/promises'
import { hostname } from 'node:os'
import { join } from 'node:path'
import { setPriority } from 'node:os'
import type { DaemonPaths } from './paths.js'
import { loadAuthkeys, loadConfig, type LoadedConfig } from './load-config.js'
import { CoreLoop, systemClock, type Clock } from './core-loop.js'
import { debugLines, executeAgentAction, type AgentRunnerOptions } from '../io/agent-runner.js'
import { builtinAgents } from '../io/builtin-agents.js'
import { defaultSettings, parseSettings, type Settings } from '../config/settings.js'
import { formatDiagnostic, hasErrors } from '../config/diagnostics.js'
import type { HaCf } from '../config/ha-cf.js'
import { decodePacket, encodePacket } from '../wire/packet.js'
import { getString, type HaMessage } from '../wire/message.js'
import type { AuthKeys } from '../wire/auth-keys.js'
import { Membership } from '../cluster/membership.js'
import type { MembershipAction, MembershipEnv } from '../cluster/actions.js'
import { ResourceManager } from '../resources/resource-manager.js'
import type { RmAction, RmEvent } from '../resources/rm-types.js'
import type { RscWord } from '../resources/resource-sets.js'
import { openMedia, type Datagram, type Media, type MediumSpec } from '../io/udp-media.js'
import { openLogger, type Logger, type LogLevel } from '../io/logger.js'
import { formatUuid, loadOrCreateUuid, nextGeneration, resolveNodeName } from '../io/state-files.js'
import { monStatePath, readRealServers, startDaemonControl } from './control.js'
import { buildClusterStatus } from './status-snapshot.js'
import { OwnEcho } from './own-echo.js'
import { missingRequiredTools, requiredTools } from './required-tools.js'

export interface RunDaemonOptions {
  paths: DaemonPaths
  /** Overrides HBTS_NODE_NAME / nodeinfo / uname -n. */
  nodeName?: string
  foreground: boolean
  debugLevel: number
  /** Release-1 resource management (heartbeat -M turns it off). Default true. */
  manageResources?: boolean
  /** Tests: a fake clock. */
  clock?: Clock
  /** Tests: where log lines are echoed besides the files (default: stderr when in the foreground). */
  echo?: NodeJS.WritableStream
  /** Tests: resolves to stop the daemon as SIGTERM would. */
  stopSignal?: Promise<void>
  env?: Readonly<Record<string, string | undefined>>
}

/** heartbeat's exit codes: 0 done, 6 not configured (config errors), 1 other failure. */
export const EXIT_OK = 0
export const EXIT_FAILURE = 1
export const EXIT_NOT_CONFIGURED = 6

/** One daemon life ends with one of these; `restart` runs a new life (new generation) in-process. */
type LifeEnd = { kind: 'exit'; code: number } | { kind: 'restart'; held: RscWord | undefined; reason: string }

/** Media from ha.cf; unsupported kinds are reported (serial and IPv6 media are not implemented). */
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
      default:
        problems.push(`ha.cf line ${m.line}: medium ${m.kind} is not supported by heartbeat-ts (use bcast, ucast or mcast)`)
    }
  }
  return out
}

/** The environment heartbeat gives resource scripts (§9.3). */
function scriptEnv(cf: HaCf, paths: DaemonPaths, me: string, debugLevel: number, base: Readonly<Record<string, string | undefined>>): Record<string, string> {
  const env: Record<string, string> = {}
  for (const [k, v] of Object.entries(base)) if (v !== undefined) env[k] = v
  Object.assign(env, {
    HA_CURHOST: me,
    HA_DIR: paths.haDir,
    HA_FUNCS: join(paths.haDir, 'shellfuncs'),
    HA_DATEFMT: '%Y/%m/%d_%T\t',
    HA_LOGD: cf.useLogd ? 'yes' : 'no',
    OCF_ROOT: env.OCF_ROOT ?? '/usr/lib/ocf',
  })
  if (cf.logfile !== undefined) env.HA_LOGFILE = cf.logfile
  if (cf.debugfile !== undefined) env.HA_DEBUGLOG = cf.debugfile
  if (cf.logfacility !== undefined) env.HA_LOGFACILITY = cf.logfacility
  if (debugLevel > 0) env.HA_debug = String(debugLevel)
  for (const e of cf.env) env[`HA_${e.name}`] = e.value
  return env
}

/** heartbeat-ts.conf, our extension settings (a missing file means every default); undefined on errors. */
async function readSettings(haDir: string, say: (level: LogLevel, text: string) => void): Promise<Settings | undefined> {
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

/** heartbeat-ts.conf [ipaddr] pacing for IPaddr's gratuitous ARP; an explicit HBTS_ARP_* variable wins. */
function arpPacingEnv(settings: Settings, env: Readonly<Record<string, string | undefined>>): Record<string, string> {
  return {
    HBTS_ARP_REPEAT: env.HBTS_ARP_REPEAT ?? String(settings.ipaddr.arpCount),
    HBTS_ARP_INTERVAL_MS: env.HBTS_ARP_INTERVAL_MS ?? String(settings.ipaddr.arpIntervalMs),
  }
}

async function readLoadavg(): Promise<string> {
  try {
    // ld: the first five fields of /proc/loadavg, as heartbeat sends them.
    return (await readFile('/proc/loadavg', 'latin1')).trim().split(/\s+/).slice(0, 5).join(' ')
  } catch {
    return 'n/a'
  }
}

/**
 * Run the daemon until it is stopped. Returns the process exit code. The caller (lib/cli/heartbeat.ts)
 * owns the pidfile and daemonizing.
 */
export async function runDaemon(opts: RunDaemonOptions): Promise<number> {
  const env = opts.env ?? process.env
  let held: RscWord | undefined
  let debugLevel = opts.debugLevel
  for (;;) {
    const end = await runLife({ ...opts, debugLevel }, env, held)
    if (end.kind === 'exit') return end.code
    held = end.held
  }
}

async function runLife(opts: RunDaemonOptions, env: Readonly<Record<string, string | undefined>>, restartHeld: RscWord | undefined): Promise<LifeEnd> {
  const clock = opts.clock ?? systemClock
  const paths = opts.paths
  const me = await resolveNodeName({ haDir: paths.haDir, explicit: opts.nodeName, env })
  const manageResources = opts.manageResources ?? true
  const echo = opts.echo ?? (opts.foreground ? process.stderr : undefined)

  const loaded = await loadConfig(paths.haDir, me, manageResources)
  for (const d of loaded.diagnostics) process.stderr.write(`${formatDiagnostic(d)}\n`)
  if (!loaded.ok) {
    process.stderr.write(`heartbeat: configuration in ${paths.haDir} has errors; not starting\n`)
    return { kind: 'exit', code: EXIT_NOT_CONFIGURED }
  }
  const cfg: LoadedConfig = loaded.config
  const cf = cfg.haCf
  // A node that cannot run its agents must not join and be handed the VIP: name the missing program.
  const missing = manageResources ? await missingRequiredTools(requiredTools(cfg.groups, { logfacility: cf.logfacility, env }), env.PATH) : []
  if (missing.length > 0) {
    for (const m of missing) process.stderr.write(`heartbeat: ${m.message}\n`)
    process.stderr.write(`heartbeat: a program this node's resources need is missing; not starting\n`)
    return { kind: 'exit', code: EXIT_NOT_CONFIGURED }
  }
  let keys: AuthKeys = cfg.keys
  let debugLevel = Math.max(opts.debugLevel, cf.debugLevel)

  const log: Logger = await openLogger({
    logfile: cf.logfile,
    debugfile: cf.debugfile,
    logfacility: cf.logfacility,
    syslogFormat: cf.syslogmsgfmt,
    // cl_log prints uname -n as it is.
    host: hostname(),
    debugLevel,
    echo,
  })
  const say = (level: LogLevel, text: string): void => log.log(level, text)
  for (const d of loaded.diagnostics) if (!hasErrors([d])) say('warn', formatDiagnostic(d))
  say('info', `Configuration validated. Starting heartbeat-ts (3.0.6 compatible) as ${me}`)

  // ha.cf realtime: heartbeat runs SCHED_FIFO; Node cannot, so ask for a better nice level instead.
  if (cf.realtime) {
    try {
      setPriority(0, -10)
    } catch {
      say('debug', 'could not raise scheduling priority (not root?)')
    }
  }

  // State files before the first packet (§3.2): the generation is incremented and fsynced now.
  const gen = await nextGeneration(paths.stateDir, clock.wallSec(), cf.hbgenmethod)
  if (gen.previous === undefined && cf.hbgenmethod === 'file') say('warn', `No Previous generation - starting at ${gen.generation}`)
  say('info', `Heartbeat generation: ${gen.generation}`)
  const uuid = await loadOrCreateUuid(paths.stateDir)
  if (uuid.created) say('info', `No uuid found for current node - generated ${formatUuid(uuid.uuid)}.`)

  const problems: string[] = []
  const specs = mediaSpecs(cf, problems)
  for (const p of problems) say('error', p)
  if (specs.length === 0) {
    say('error', 'No usable communication media configured.')
    await log.close()
    return { kind: 'exit', code: EXIT_NOT_CONFIGURED }
  }

  // Counters for the things a peer can throw at us (architecture: garbage is a value, counted).
  const badPackets = new Map<string, number>()
  let badLoggedAt = -Infinity
  let sendErrors = 0
  let sendErrorLoggedAt = -Infinity

  let loadavg = await readLoadavg()
  const menv = (): MembershipEnv => ({ wallSec: clock.wallSec(), loadavg })

  const loop = new CoreLoop(clock)
  let media: Media | undefined
  let membership: Membership | undefined
  let rm: ResourceManager | undefined
  let finishLife: ((end: LifeEnd) => void) | undefined
  const lifeEnded = new Promise<LifeEnd>((resolve) => (finishLife = resolve))
  let ending = false
  let shuttingDown = false

  // Status copies and retransmissions send the same stamped (immutable) message again: sign it once
  // per key set instead of computing two HMACs per copy.
  const encoded = new WeakMap<HaMessage, { keys: AuthKeys; bytes: Buffer }>()
  // Half of what bcast delivers is our own packets: known bytes, so no parse or HMAC for them.
  const ownEcho = new OwnEcho()
  const transmit = (msg: HaMessage): void => {
    const cached = encoded.get(msg)
    let bytes: Buffer
    if (cached !== undefined && cached.keys === keys) {
      bytes = cached.bytes
    } else {
      try {
        bytes = encodePacket(msg, keys, { innerAuth: cf.msgfmt === 'classic' })
      } catch (err) {
        say('error', `cannot encode message t=${getString(msg, 't') ?? '?'}: ${(err as Error).message}`)
        return
      }
      encoded.set(msg, { keys, bytes })
    }
    ownEcho.remember(bytes, msg)
    media?.send(bytes)
  }

  // ---- resource core -------------------------------------------------------------
  let rmBusy = 0
  const builtins = builtinAgents()
  const settings = await readSettings(paths.haDir, say)
  if (settings === undefined) {
    await log.close()
    return { kind: 'exit', code: EXIT_NOT_CONFIGURED }
  }
  const agentTimeoutMs = settings.agents.timeoutMs
  const rmDo = (actions: readonly RmAction[]): void => {
    for (const a of actions) {
      switch (a.type) {
        case 'send':
          if (membership) membershipDo(membership.send(a.msg, loop.now(), menv()))
          break
        case 'log':
          say(a.level, a.text)
          break
        case 'stop-failed':
          say('crit', `Resource STOP failure: ${a.resource} of group ${a.group} would not stop`)
          break
        case 'run-agent': {
          rmBusy++
          // Built-ins (IPaddr, lvs) in-process; other names from resource.d, then the init dirs.
          const agentOpts: AgentRunnerOptions = {
            dirs: [join(paths.haDir, 'resource.d'), '/etc/init.d', '/etc/rc.d/init.d'],
            builtins,
            env: { ...scriptEnv(cf, paths, me, debugLevel, env), ...arpPacingEnv(settings, env) },
            timeoutsMs: { start: agentTimeoutMs, stop: agentTimeoutMs, status: agentTimeoutMs },
          }
          void executeAgentAction(a, agentOpts).then(({ event, run, error }) => {
            rmBusy--
            if (run) for (const line of debugLines(run)) say('debug', line)
            if (a.op !== 'status') say(error ? 'error' : 'info', error ? error.message : `${run?.argv.join(' ') ?? a.resource.agent}: ok`)
            rmFeed(event)
          })
          break
        }
        case 'shutdown-complete':
          finalShutdownPhases()
          break
      }
    }
  }
  const rmFeed = (ev: RmEvent): void => {
    if (!rm || ending) return
    rmDo(rm.handle(ev, loop.now()))
    loop.reschedule()
  }

  // ---- membership core -----------------------------------------------------------
  const membershipDo = (actions: readonly MembershipAction[]): void => {
    for (const a of actions) {
      switch (a.type) {
        case 'transmit':
          transmit(a.msg)
          break
        case 'log':
          say(a.level, a.text)
          break
        case 'node-status':
          if (a.status === 'dead' && debugLevel > 0) logDeathTiming(a.node)
          rmFeed({ type: 'node-status', node: a.node, status: a.status })
          break
        case 'node-restart':
          rmFeed({ type: 'node-restarted', node: a.node })
          break
        case 'comm-up':
          rmFeed({ type: 'comm-up' })
          break
        case 'deliver':
          // Our own messages come back through the core's loopback; the resource core already
          // knows what it sent itself.
          if (a.from !== me) rmFeed({ type: 'message', msg: a.msg })
          break
        case 'link-status':
        case 'uuid-learned':
          break
        case 'restart-self':
          endLife({ kind: 'restart', held: rm?.snapshot().iHold, reason: a.reason })
          break
      }
    }
  }

  // Debug only (ms precision the log stamps lack): how far past its deadline (last status + its dt)
  // a node was declared dead; `npm run bench` reads these lines for detection lateness.
  const logDeathTiming = (node: string): void => {
    const n = membership?.snapshot().nodes.find((x) => x.name === node)
    if (n?.lastStatusMs === undefined) return
    const now = loop.now()
    const lateMs = now - (n.lastStatusMs + n.deadtimeMs)
    say('debug', `node ${node}: declared dead ${lateMs.toFixed(1)} ms past its deadline (last status ${(now - n.lastStatusMs).toFixed(1)} ms ago, dead time ${n.deadtimeMs} ms)`)
  }

  const onDatagram = (d: Datagram): void => {
    if (!membership || ending) return
    const echoed = ownEcho.match(d.data)
    if (echoed !== undefined) {
      // the core sees it as any copy of our own message (a duplicate that proves the link)
      membershipDo(membership.receive(echoed, d.link, loop.now(), menv()))
      loop.runTicks(loop.now())
      return
    }
    // 3.0.6's read child appends a NUL; the codec tolerates both.
    const r = decodePacket(d.data, keys)
    if (!r.ok) {
      const reason = r.code
      badPackets.set(reason, (badPackets.get(reason) ?? 0) + 1)
      const now = loop.now()
      if (cf.logBadpack && now - badLoggedAt > 10_000) {
        badLoggedAt = now
        say('error', `bad packet on ${d.link} from ${d.from}: ${r.reason} (${[...badPackets].map(([k, v]) => `${k} ${v}`).join(', ')} so far)`)
      }
      return
    }
    membershipDo(membership.receive(r.msg, d.link, loop.now(), menv()))
    loop.runTicks(loop.now())
  }

  try {
    media = await openMedia(specs, {
      onDatagram,
      onError: (link, err) => {
        sendErrors++
        const now = loop.now()
        if (now - sendErrorLoggedAt > 10_000) {
          sendErrorLoggedAt = now
          say('error', `${link}: ${err.message} (${sendErrors} errors so far)`)
        }
      },
    })
  } catch (err) {
    say('error', `cannot open communication media: ${(err as Error).message}`)
    await log.close()
    return { kind: 'exit', code: EXIT_FAILURE }
  }
  for (const d of media.descriptions) say('info', `UDP heartbeat started: ${d}`)

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
    linkNames: media.links,
    random: Math.random,
    // Copies of each status ride out packet loss; peers see them as duplicates (heartbeat-ts.conf).
    statusCopies: settings.membership.statusCopies,
  })
  if (manageResources && cf.pacemaker === 'off') {
    rm = new ResourceManager({
      me,
      nodes: cf.nodes,
      groups: cfg.groups,
      autoFailback: cf.autoFailback,
      pid: process.pid,
      ...(restartHeld !== undefined ? { restartHeld } : {}),
    })
  }
  const mcore = membership
  loop.add({ name: 'membership', tick: (now) => membershipDo(mcore.tick(now, menv())), nextDeadline: () => mcore.nextDeadline() })
  if (rm) {
    const rcore = rm
    loop.add({ name: 'resources', tick: (now) => rmDo(rcore.tick(now)), nextDeadline: () => rcore.nextDeadline() })
  }
  membershipDo(membership.start(loop.now(), menv()))
  loop.reschedule()

  // ld refresh off the hot path (an async read every 5 s, never a sync one per packet); the
  // reliable-delivery counters are logged every 30 s when they changed.
  let lastCounters = ''
  const counterLine = (): string => {
    const c = mcore.snapshot().counters
    const bad = [...badPackets.values()].reduce((x, y) => x + y, 0)
    return (
      `counters: received ${c.received}, delivered ${c.delivered}, duplicates ${c.duplicates}, lost ${c.lostPackets}, recovered ${c.recovered}, ` +
      `rexmit requests ${c.rexmitRequestsSent}, retransmissions ${c.retransmissions}, naks sent ${c.naksSent}, acks ${c.acksSent}, bad packets ${bad}, ` +
      `send errors ${sendErrors}, timer worst lateness ${loop.stats.worstLateMs.toFixed(1)} ms`
    )
  }
  let ticks = 0
  const loadTimer = setInterval(() => {
    void readLoadavg().then((l) => (loadavg = l))
    if (++ticks % 6 === 0) {
      const line = counterLine()
      const key = line.replace(/received \d+, delivered \d+, (duplicates \d+, )?/, '').replace(/acks \d+, /, '').replace(/timer .*$/, '')
      if (key !== lastCounters) say('info', line)
      lastCounters = key
    }
  }, 5000)
  loadTimer.unref()

  // ---- shutdown / restart ---------------------------------------------------------
  function endLife(end: LifeEnd): void {
    if (ending) return
    ending = true
    if (end.kind === 'restart') {
      say('info', `Restarting heartbeat (${end.reason}).`)
      // hb_mcp_final_shutdown before a restart: hb_add_deadtime(30000), which sends a status with
      // deadtime + 30 s, so peers wait for the new generation instead of declaring us dead.
      if (membership) membershipDo(membership.addDeadtime(30_000, loop.now(), menv()))
    }
    finishLife?.(end)
  }

  function finalShutdownPhases(): void {
    // §5.5 step 4: one more status (still active), then 1 s later the I/O stops and we exit.
    const t1 = setTimeout(() => {
      if (membership) membershipDo(membership.sendStatus(loop.now(), menv()))
      const t2 = setTimeout(() => endLife({ kind: 'exit', code: EXIT_OK }), 1000)
      void t2
    }, 1000)
    void t1
  }

  function beginShutdown(): void {
    if (shuttingDown) {
      say('warn', 'Second shutdown request: exiting now.')
      endLife({ kind: 'exit', code: EXIT_OK })
      return
    }
    shuttingDown = true
    say('info', 'Heartbeat shutdown in progress. (' + process.pid + ')')
    if (rm) {
      rmFeed({ type: 'shutdown' })
    } else {
      finalShutdownPhases()
    }
  }

  // SIGHUP and `hbctl reload`; the outcome in words for hbctl.
  async function reload(): Promise<{ ok: boolean; message: string }> {
    await log.reopen()
    const hc = await stat(join(paths.haDir, 'ha.cf')).catch(() => undefined)
    if (hc && hc.mtimeMs !== cfg.haCfMtimeMs) {
      const check = await loadConfig(paths.haDir, me, manageResources)
      if (!check.ok) {
        for (const d of check.diagnostics) say('error', formatDiagnostic(d))
        say('error', 'Configuration error, reload refused.')
        return { ok: false, message: `Configuration error, reload refused: ${check.diagnostics.map(formatDiagnostic).join('; ')}` }
      }
      say('info', 'Configuration changed: restarting heartbeat, keeping resources.')
      endLife({ kind: 'restart', held: rm?.snapshot().iHold, reason: 'ha.cf changed' })
      return { ok: true, message: 'Configuration changed: restarting heartbeat, keeping resources.' }
    }
    const a = await loadAuthkeys(paths.haDir)
    if (a.mtimeMs !== cfg.authkeysMtimeMs) {
      if (a.keys === undefined) {
        for (const d of a.diagnostics) say('error', formatDiagnostic(d))
        say('error', 'Authentication configuration error: keeping the old keys.')
        return { ok: false, message: `Authentication configuration error: keeping the old keys: ${a.diagnostics.map(formatDiagnostic).join('; ')}` }
      }
      keys = a.keys
      ownEcho.clear()
      cfg.authkeysMtimeMs = a.mtimeMs
      // hb_signal_reread_config_action's words.
      say('info', 'Rereading authentication file.')
      return { ok: true, message: 'Rereading authentication file.' }
    }
    say('info', 'Configuration unchanged.')
    return { ok: true, message: 'Configuration unchanged.' }
  }

  const onTerm = (): void => beginShutdown()
  const onHup = (): void => void reload()
  const onUsr1 = (): void => {
    debugLevel = Math.min(255, debugLevel + 1)
    log.setDebugLevel(debugLevel)
    say('info', `debug now set to ${debugLevel}`)
  }
  const onUsr2 = (): void => {
    debugLevel = Math.max(0, debugLevel - 1)
    log.setDebugLevel(debugLevel)
    say('info', `debug now set to ${debugLevel}`)
  }
  process.on('SIGTERM', onTerm)
  process.on('SIGINT', onTerm)
  process.on('SIGHUP', onHup)
  process.on('SIGUSR1', onUsr1)
  process.on('SIGUSR2', onUsr2)
  if (opts.stopSignal) void opts.stopSignal.then(beginShutdown)

  // hbctl/cl_status socket and heartbeat's FIFO (lib/daemon/control.ts). A FIFO message is stamped
  // and sent like any upper-layer message, then acted on as our own, as heartbeat hears its own (§9.5).
  const control = await startDaemonControl({
    paths,
    status: async () =>
      buildClusterStatus({
        nowMs: loop.now(),
        wallMs: Date.now(),
        cf,
        groups: cfg.groups,
        membership: mcore.snapshot(),
        resources: rm?.snapshot(),
        debugLevel,
        realServers: await readRealServers(monStatePath(paths, env)),
      }),
    resourceMode: () => (rm ? { mode: rm.mode, written: cf.lines.has('auto_failback') || cf.lines.has('nice_failback') } : undefined),
    standby: (arg) => rmFeed({ type: 'standby', arg }),
    takeover: (arg) => rmFeed({ type: 'takeover', arg }),
    reload,
    fifoMessage: (msg) => {
      if (ending) return
      if (getString(msg, 't') === undefined) {
        say('warn', 'FIFO message without t= ignored')
        return
      }
      membershipDo(mcore.send(msg, loop.now(), menv()))
      rmFeed({ type: 'own-message', msg })
      loop.reschedule()
    },
    log: say,
  })

  const end = await lifeEnded
  await control.close()

  process.off('SIGTERM', onTerm)
  process.off('SIGINT', onTerm)
  process.off('SIGHUP', onHup)
  process.off('SIGUSR1', onUsr1)
  process.off('SIGUSR2', onUsr2)
  clearInterval(loadTimer)
  loop.stop()
  membership.stop()
  say('info', counterLine())
  while (rmBusy > 0 && end.kind === 'exit') await new Promise((r) => setTimeout(r, 50))
  await media.close()
  if (end.kind === 'exit') say('info', 'Heartbeat shutdown complete.')
  await log.close()
  return end
}
