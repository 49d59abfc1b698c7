// The daemon's I/O shell (`heartbeat -f`): one prepared life (prepare-life.ts) at a time, its
// datagrams, timer, agent results, signals and control requests fed into the NodeCore
// (node-core.ts) and the core's actions carried out: sockets, files, child processes.

import { readFile, stat } from 'node:fs/promises'
import { join } from 'node:path'
import type { DaemonPaths } from '../config/paths.js'
import { loadAuthkeys, loadConfig, type LoadedConfig } from './load-config.js'
import { CoreLoop, systemClock, type Clock } from './core-loop.js'
import { debugLines, executeAgentAction, haEnvironment, type AgentEnv, type AgentRunnerOptions } from '../io/agent-runner.js'
import { stonithDeviceFor } from '../config/stonith.js'
import { DEFAULT_STONITH_TIMEOUT_MS, executeStonithAction } from '../io/stonith-runner.js'
import { builtinAgents } from '../io/builtin-agents.js'
import { addressFirstGroups } from '../resources/group-ops.js'
import { arpPacingOf, arpPacingToEnv } from '../agents/gratuitous-arp.js'
import { registryFor } from '../io/agent-plan.js'
import { openWatchdog, type Watchdog } from '../io/watchdog.js'
import { runnerText } from '../config/agent-rule.js'
import { formatDiagnostic } from '../config/diagnostics.js'
import type { HaCf } from '../config/ha-cf.js'
import { ResourceManager } from '../resources/resource-manager.js'
import type { RscWord } from '../resources/resource-sets.js'
import type { Datagram } from '../io/udp-media.js'
import type { LogLevel } from '../io/logger.js'
import { resolveNodeName, writeStateFile } from '../io/state-files.js'
import { monStatePath, readRealServers, startDaemonControl } from './control.js'
import { buildClusterStatus } from './status-snapshot.js'
import { SourceAdmission } from '../wire/admission.js'
import { LifeWire } from './life-wire.js'
import { announceForHolder } from '../agents/holder-announce.js'
import { EventJournal, JOURNAL_NAME } from '../io/event-journal.js'
import { formatMetrics } from '../control/metrics-format.js'
import { NotifyRunner } from '../io/notify-runner.js'
import { writeFileAtomic } from '../io/safe-files.js'
import { runtimeStatsIntervalMs, startRuntimeStats } from '../io/runtime-stats.js'
import { raiseSchedulingPriority } from '../io/realtime.js'
import { RespawnRunner } from '../io/respawn-runner.js'
import { discard, EXIT_FAILURE, groupsKey, prepareLife, type PreparedLife } from './prepare-life.js'

export { EXIT_FAILURE, EXIT_NOT_CONFIGURED, EXIT_OK } from './prepare-life.js'
import { PingNodes, pingTargets } from '../cluster/ping-nodes.js'
import { Ipfail } from '../resources/ipfail.js'
import { ipfailEnabled } from '../config/ipfail.js'
import { Pinger } from '../io/pinger.js'
import { NodeCore, type LifeEnd, type NodeAction, type NodeEvent, type ReloadOutcome } from './node-core.js'

export interface RunDaemonOptions {
  paths: DaemonPaths
  /** Our node name (HBTS_NODE_NAME, read by lib/cli/heartbeat.ts); else nodeinfo, else uname -n. */
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


/** /proc/loadavg is read this often; the counters line is considered every this many reads (30 s). */
const LOADAVG_READ_MS = 5000
/** Asking who holds an address (arping, 2 s) and announcing it for them (send_arp, 1 s): bounded. */
const HOLDER_ANNOUNCE_TIMEOUT_MS = 10_000
const COUNTER_LOG_EVERY_LOADAVG_READS = 6


/** The environment heartbeat gives resource scripts (§9.3), from ha.cf and the daemon's own environment. */
function scriptEnv(cf: HaCf, paths: DaemonPaths, me: string, debugLevel: number, base: Readonly<Record<string, string | undefined>>): AgentEnv {
  const defined: AgentEnv = {}
  for (const [k, v] of Object.entries(base)) if (v !== undefined) defined[k] = v
  return haEnvironment({
    curHost: me,
    haDir: paths.haDir,
    useLogd: cf.useLogd,
    // an OCF_ROOT the daemon was started with is kept
    ...(base.OCF_ROOT !== undefined ? { ocfRoot: base.OCF_ROOT } : {}),
    ...(cf.logfile !== undefined ? { logFile: cf.logfile } : {}),
    ...(cf.debugfile !== undefined ? { debugLog: cf.debugfile } : {}),
    ...(cf.logfacility !== undefined ? { logFacility: cf.logfacility } : {}),
    debugLevel,
    envDirectives: Object.fromEntries(cf.env.map((e) => [e.name, e.value])),
    base: defined,
  })
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
  const clock = opts.clock ?? systemClock
  const me = await resolveNodeName({ haDir: opts.paths.haDir, explicit: opts.nodeName })
  const first = await prepareLife({ opts, env, me, clock })
  if (!first.ok) return first.code
  const life = first.life
  // ha.cf watchdog: opened once for the daemon's whole run (a restart keeps feeding it)
  let watchdog: Watchdog | undefined
  const device = life.cfg.haCf.watchdog
  if (device !== undefined) {
    try {
      watchdog = await openWatchdog(device)
      life.log.log('info', `Watchdog device ${device} opened: fed with each heartbeat`)
    } catch (err) {
      life.log.log('error', (err as Error).message)
      process.stderr.write(`heartbeat: ${(err as Error).message}\n`)
      await discard(life)
      return EXIT_FAILURE
    }
  }
  const code = await runLives(life, opts, env, me, clock, watchdog)
  // a clean stop disarms the watchdog (magic close); a failure leaves it to reset the node
  await watchdog?.close(code === 0)
  return code
}

async function runLives(first: PreparedLife, opts: RunDaemonOptions, env: Readonly<Record<string, string | undefined>>, me: string, clock: Clock, watchdog: Watchdog | undefined): Promise<number> {
  let life = first
  let held: RscWord | undefined
  let debugLevel = opts.debugLevel
  // Kept across lives: a restart during a flood must not forget which addresses are the peers'.
  const admission = new SourceAdmission()
  // A reload's restart: the next life starts warm (no start-up deadtime margin, Membership.start).
  let warm = false
  for (;;) {
    const r = await runLife(life, { ...opts, debugLevel }, env, clock, admission, held, warm, watchdog)
    if (r.end.kind === 'exit') return r.end.code
    held = r.end.held
    debugLevel = r.debugLevel
    warm = r.next !== undefined
    if (r.next !== undefined) {
      life = r.next
      continue
    }
    // A self-restart (healed partition, stalled heartbeat): the same configuration, a new generation.
    const again = await prepareLife({ opts: { ...opts, debugLevel }, env, me, clock, reuse: r.cfg })
    if (!again.ok) {
      process.stderr.write(`heartbeat: restart failed: ${again.reason}\n`)
      return EXIT_FAILURE
    }
    life = again.life
  }
}

interface LifeResult {
  end: LifeEnd
  /** The life a reload prepared, when the end is that restart. */
  next: PreparedLife | undefined
  cfg: LoadedConfig
  debugLevel: number
}

/** ha.cf `respawn … ipfail`: the built-in ipfail, when there is something for it to do. */
function builtinIpfail(cf: HaCf, me: string, managesResources: boolean, hasPingNodes: boolean, say: (level: LogLevel, text: string) => void): Ipfail | undefined {
  if (!ipfailEnabled(cf)) return undefined
  // ipfail itself exits at start in these cases; heartbeat-ts says why once.
  if (!managesResources) {
    say('warn', 'ipfail: no managed resources; ipfail off.')
    return undefined
  }
  if (cf.autoFailback === 'legacy') {
    say('error', 'ipfail: auto_failback set to incompatible legacy option; ipfail off.')
    return undefined
  }
  if (!hasPingNodes) say('warn', 'ipfail: ha.cf has no ping, ping6 or ping_group node: there is nothing to compare.')
  const peer = cf.nodes.find((n) => n.toLowerCase() !== me)
  say('info', `ipfail built in: comparing ping nodes with ${peer ?? '(no other node)'}; auto_failback ${cf.autoFailback}.`)
  return new Ipfail({ me, peer: peer?.toLowerCase(), keepaliveMs: cf.keepaliveMs, autoFailback: cf.autoFailback === 'on' })
}

/** The I/O shell around one NodeCore: media, files, agents, signals, control, and the one timer. */
async function runLife(life: PreparedLife, opts: RunDaemonOptions, env: Readonly<Record<string, string | undefined>>, clock: Clock, admission: SourceAdmission, restartHeld: RscWord | undefined, warm: boolean, watchdog?: Watchdog): Promise<LifeResult> {
  const { me, cfg, settings, log, membership, media } = life
  if (watchdog !== undefined) watchdog.onError = (err) => log.log('warn', `watchdog ${watchdog.path}: cannot write: ${err.message}`)
  const paths = opts.paths
  const cf = cfg.haCf
  const manageResources = opts.manageResources ?? true
  let debugLevel = Math.max(opts.debugLevel, cf.debugLevel)
  log.setDebugLevel(debugLevel)
  const say = (level: LogLevel, text: string): void => log.log(level, text)

  // ha.cf realtime: SCHED_RR as 3.0.6 runs (through chrt), else a better nice level.
  if (cf.realtime) {
    const p = await raiseSchedulingPriority(process.pid)
    if (p.kind === 'rr') say('debug', `scheduling: SCHED_RR priority ${p.priority} on every thread (children reset on fork)`)
    else say('debug', `scheduling: no SCHED_RR (${p.why})${p.kind === 'nice' ? `; nice ${p.nice} instead` : ''}`)
  }
  // 3.0.6's wording per plugin: serial.c "Starting serial heartbeat on tty …", the UDP ones their own
  for (const d of media.descriptions) say('info', d.startsWith('serial ') ? `Starting serial heartbeat on tty ${d.slice('serial '.length)}` : `UDP heartbeat started: ${d}`)

  const stonith = stonithDeviceFor(cf.stonith, me)
  const rm =
    manageResources && cf.pacemaker === 'off'
      ? new ResourceManager({
          me,
          nodes: cf.nodes,
          groups: cfg.groups,
          autoFailback: cf.autoFailback,
          pid: process.pid,
          addressFirstGroups: addressFirstGroups(cfg.groups, (agent) => life.agents.get(agent)?.runs.kind === 'builtin'),
          selfCheckingAgents: new Set(['IPaddr', 'lvs'].filter((agent) => life.agents.get(agent)?.runs.kind === 'builtin')),
          ...(restartHeld !== undefined ? { restartHeld } : {}),
          ...(stonith !== undefined ? { stonith } : {}),
        })
      : undefined
  const agentTimeoutMs = settings.agents.timeoutMs
  const loop = new CoreLoop(clock)
  // ha.cf ping/ping6/ping_group: members of type ping, up while iputils ping hears them (lib/io/pinger.ts).
  const pingNodes = cf.pingNodes.length > 0 ? new PingNodes(cf.pingNodes, cf.deadpingMs, loop.now()) : undefined
  const ipfail = builtinIpfail(cf, me, rm !== undefined, pingNodes !== undefined, say)
  const core = new NodeCore({
    membership,
    ...(rm ? { resources: rm } : {}),
    pid: process.pid,
    debugLevel,
    agentTimeoutMs,
    loadavg: await readLoadavg(),
    groups: cfg.groups,
    ...(pingNodes !== undefined ? { pingNodes } : {}),
    ...(ipfail !== undefined ? { ipfail } : {}),
  })

  let finishLife: ((end: LifeEnd) => void) | undefined
  const lifeEnded = new Promise<LifeEnd>((resolve) => (finishLife = resolve))
  let ended = false
  /** What a reload prepared and the core has not yet restarted into. */
  let nextLife: PreparedLife | undefined
  const replies = new Map<number, (r: { ok: boolean; message: string }) => void>()
  let nextReplyId = 1

  // Packets in and out (life-wire.ts): signed once per message, our own echoes known by their bytes.
  const wire = new LifeWire({
    media,
    keys: cfg.keys,
    classic: cf.msgfmt === 'classic',
    logBadpack: cf.logBadpack,
    watchdog,
    nowMs: () => loop.now(),
    serialRepeatMs: cf.keepaliveMs,
    say,
    admission,
    received: (msg, link) => {
      const before = membership.keptMessages()
      feed({ type: 'datagram', msg, link })
      return membership.keptMessages() > before
    },
  })

  // The event history for hbctl events: appended in the background, bounded by rotation.
  const journal = new EventJournal({ path: join(paths.stateDir, JOURNAL_NAME), onError: (err) => say('warn', `event journal: ${err.message}`) })

  // heartbeat-ts.conf [notify]: the admin's hook per node or group state change, never awaited.
  const notifier = new NotifyRunner({
    command: settings.notify.command,
    timeoutMs: settings.notify.timeoutMs,
    maxRunning: settings.notify.maxRunning,
    env,
    onDone: (r) => {
      if (r.outcome === 'ok') return
      say('warn', `notify hook for ${r.kind}: ${r.outcome}${r.exitCode !== undefined ? ` (exit ${r.exitCode})` : ''}${r.detail !== undefined ? `: ${r.detail}` : ''}`)
    },
  })

  // Built-ins the agent plan hands to the site's script are left out, so the runner finds the script.
  const builtins = registryFor(builtinAgents(), life.agents)
  for (const [name, a] of life.agents) say(a.problem !== undefined ? 'warn' : 'info', `resource ${name} (haresources line ${a.line}) runs ${runnerText(a)}: ${a.why}`)
  const agentOpts = (): AgentRunnerOptions => ({
    // Built-ins (IPaddr, lvs) in-process; other names from resource.d, then the init dirs.
    dirs: [join(paths.haDir, 'resource.d'), '/etc/init.d', '/etc/rc.d/init.d'],
    builtins,
    env: { ...scriptEnv(cf, paths, me, debugLevel, env), ...arpPacingToEnv(arpPacingOf(settings.ipaddr)) },
    timeoutsMs: { start: agentTimeoutMs, stop: agentTimeoutMs, status: agentTimeoutMs },
  })

  // ha.cf respawn clients: started at comm-up, stopped when this life ends (a reload that restarts
  // stops them and the next life starts them again, as 3.0.6's quick restart does).
  const clients = new RespawnRunner({ clients: life.clients, env: scriptEnv(cf, paths, me, debugLevel, env), log: say })

  // State files the core asks for, written one after another so the last asked for is what stays.
  let stateWrites = Promise.resolve()
  const writeState = (file: string, text: string): void => {
    stateWrites = stateWrites.then(() => writeStateFile(paths.stateDir, file, text)).catch((err: unknown) => say('warn', `${join(paths.stateDir, file)}: ${(err as Error).message}`))
  }

  // A reset still running when this life ends is cancelled with it.
  const stonithAbort = new AbortController()
  // Agent calls running, by id: the manager may cancel one (a release's tail that work waits behind).
  const agentCalls = new Map<number, AbortController>()

  const feed = (ev: NodeEvent): void => {
    if (ended) return
    act(core.handle(ev, loop.now(), clock.wallSec()))
    loop.reschedule()
  }

  const act = (actions: readonly NodeAction[]): void => {
    for (const a of actions) {
      switch (a.type) {
        case 'transmit':
          wire.transmit(a.msg)
          break
        case 'log':
          say(a.level, a.text)
          break
        case 'run-agent': {
          const cancel = new AbortController()
          agentCalls.set(a.id, cancel)
          void executeAgentAction(a, { ...agentOpts(), cancel: cancel.signal }).then(({ event, run, error }) => {
            agentCalls.delete(a.id)
            if (run) for (const line of debugLines(run)) say('debug', line)
            if (a.op !== 'status') say(error ? 'error' : 'info', error ? error.message : `${run?.argv.join(' ') ?? a.resource.agent}: ok`)
            if (event.type === 'agent-result') feed(event)
          })
          break
        }
        case 'cancel-agent':
          agentCalls.get(a.id)?.abort()
          break
        case 'run-stonith':
          void executeStonithAction(a, { timeoutMs: DEFAULT_STONITH_TIMEOUT_MS, signal: stonithAbort.signal, env }).then(({ event, lines }) => {
            const [first, ...rest] = lines
            if (first !== undefined) say(event.outcome === 'ok' ? 'info' : 'error', first)
            for (const line of rest) say('debug', line)
            feed(event)
          })
          break
        case 'announce-for-holder':
          for (const r of a.resources) {
            const spec = r.args[0] ?? ''
            void announceForHolder(spec, agentOpts().env, AbortSignal.timeout(HOLDER_ANNOUNCE_TIMEOUT_MS)).then((o) => say(o.ok ? 'info' : 'warn', `announcing for the holder: ${o.text}`))
          }
          break
        case 'check-reload':
          void checkReload().then((outcome) => feed({ type: 'reload-checked', ...(a.replyTo !== undefined ? { replyTo: a.replyTo } : {}), outcome }))
          break
        case 'reply':
          replies.get(a.replyTo)?.({ ok: a.ok, message: a.message })
          replies.delete(a.replyTo)
          break
        case 'set-debug':
          debugLevel = a.level
          log.setDebugLevel(debugLevel)
          break
        case 'event': {
          const record = { time: new Date().toISOString(), host: me, ...a.event }
          journal.append(record)
          notifier.notify(record)
          break
        }
        case 'write-state':
          writeState(a.file, a.text)
          break
        case 'comm-up':
          clients.start()
          break
        case 'end':
          ended = true
          finishLife?.(a.end)
          break
      }
    }
  }

  loop.add({ name: 'node', tick: (now) => act(core.handle({ type: 'timer' }, now, clock.wallSec())), nextDeadline: () => core.nextDeadline() })

  life.sink.onDatagram = (d: Datagram): void => {
    if (!ended) wire.receive(d)
  }
  life.sink.onError = (link, err): void => wire.sendError(link, err)
  life.sink.onBadFrame = (link, reason): void => wire.badFrame(link, reason)

  feed({ type: 'start', warm })

  const pinger =
    pingNodes !== undefined
      ? new Pinger({
          targets: pingTargets(cf.pingNodes),
          keepaliveMs: cf.keepaliveMs,
          env,
          onReply: (node) => feed({ type: 'ping-reply', node }),
          onProblem: (_address, text) => say('warn', text),
        })
      : undefined
  if (pinger !== undefined) {
    pinger.start()
    say('info', `ping heartbeat started: ${pingTargets(cf.pingNodes).map((t) => t.address).join(', ')} every ${cf.keepaliveMs / 1000} s (deadping ${cf.deadpingMs / 1000} s).`)
  }

  // ld refresh off the hot path (an async read every 5 s, never a sync one per packet); the
  // reliable-delivery counters are logged every 30 s when they changed.
  let lastCounters = ''
  const counterLine = (): string => {
    const c = membership.snapshot().counters
    const bad = wire.badPacketTotal()
    return (
      `counters: received ${c.received}, delivered ${c.delivered}, duplicates ${c.duplicates}, lost ${c.lostPackets}, recovered ${c.recovered}, ` +
      `rexmit requests ${c.rexmitRequestsSent}, retransmissions ${c.retransmissions}, naks sent ${c.naksSent}, acks ${c.acksSent}, bad packets ${bad}, ` +
      `send errors ${wire.sendErrors}, timer worst lateness ${loop.stats.worstLateMs.toFixed(1)} ms`
    )
  }
  let ticks = 0
  const loadTimer = setInterval(() => {
    void readLoadavg().then((l) => feed({ type: 'loadavg', value: l }))
    if (++ticks % COUNTER_LOG_EVERY_LOADAVG_READS === 0) {
      const line = counterLine()
      const key = line.replace(/received \d+, delivered \d+, (duplicates \d+, )?/, '').replace(/acks \d+, /, '').replace(/timer .*$/, '')
      if (key !== lastCounters) say('info', line)
      lastCounters = key
    }
  }, LOADAVG_READ_MS)
  loadTimer.unref()

  // HBTS_RUNTIME_STATS=<s>: event-loop delay, timer lateness and GC pauses in the log (what limits fast timers).
  const statsEveryMs = runtimeStatsIntervalMs(env.HBTS_RUNTIME_STATS)
  const runtimeStats = statsEveryMs === undefined ? undefined : startRuntimeStats()
  if (runtimeStats) loop.lateness = (ms) => runtimeStats.timerLate(ms)
  const statsTimer = runtimeStats && setInterval(() => say('info', runtimeStats.report()), statsEveryMs)
  statsTimer?.unref()

  const metricsText = (): string => {
    const m = membership.snapshot()
    const peers = m.nodes.filter((n) => !n.isSelf)
    return formatMetrics({
      node: me,
      membership: m.counters,
      badPackets: wire.badPackets,
      sendErrors: wire.sendErrors,
      core: core.coreCounters(),
      nodesUp: peers.filter((n) => n.status !== 'dead').length,
      linksUp: peers.reduce((sum, n) => sum + n.links.filter((l) => l.status === 'up').length, 0),
      journalDropped: journal.dropped,
      ...(settings.notify.command.length > 0 ? { notifySkipped: notifier.skipped } : {}),
    })
  }

  // heartbeat-ts.conf [metrics] textfile: the same text for node_exporter, replaced atomically.
  let textfileFailing = false
  let textfileWriting = false
  const textfileTimer =
    settings.metrics.textfile === ''
      ? undefined
      : setInterval(() => {
          if (textfileWriting) return // a slow disk: skip a round rather than pile writes up
          textfileWriting = true
          void writeFileAtomic(settings.metrics.textfile, metricsText())
            .then(
              () => (textfileFailing = false),
              (err: unknown) => {
                if (!textfileFailing) say('warn', `metrics textfile ${settings.metrics.textfile}: ${(err as Error).message}`)
                textfileFailing = true
              },
            )
            .finally(() => (textfileWriting = false))
        }, settings.metrics.intervalMs)
  textfileTimer?.unref()

  // SIGHUP and `hbctl reload`: everything the new configuration needs is prepared and checked here,
  // before the running life changes anything (issue 11); the core then restarts into it.
  async function checkReload(): Promise<ReloadOutcome> {
    await log.reopen()
    const hc = await stat(join(paths.haDir, 'ha.cf')).catch(() => undefined)
    if (hc && hc.mtimeMs !== cfg.haCfMtimeMs) {
      say('info', 'ha.cf changed: checking the new configuration before restarting.')
      const r = await prepareLife({ opts: { ...opts, debugLevel }, env, me, clock, say })
      if (!r.ok) return { kind: 'refused', reason: r.reason }
      if (ended) {
        await discard(r.life)
        return { kind: 'refused', reason: 'heartbeat stopped meanwhile' }
      }
      if (nextLife !== undefined) await discard(nextLife)
      nextLife = r.life
      return { kind: 'restart', reason: 'ha.cf changed', haresourcesChanged: groupsKey(r.life.cfg) !== groupsKey(cfg) }
    }
    const a = await loadAuthkeys(paths.haDir)
    if (a.mtimeMs !== cfg.authkeysMtimeMs) {
      if (a.keys === undefined) {
        for (const d of a.diagnostics) say('error', formatDiagnostic(d))
        say('error', 'Authentication configuration error: keeping the old keys.')
        return { kind: 'refused', reason: `Authentication configuration error: keeping the old keys: ${a.diagnostics.map(formatDiagnostic).join('; ')}` }
      }
      wire.setKeys(a.keys)
      cfg.authkeysMtimeMs = a.mtimeMs
      // hb_signal_reread_config_action's words.
      say('info', 'Rereading authentication file.')
      return { kind: 'applied', message: 'Rereading authentication file.' }
    }
    say('info', 'Configuration unchanged.')
    // 3.0.6 reads haresources at start only: say so when it changed, so nobody waits for it.
    const now = manageResources ? await loadConfig(paths.haDir, me, manageResources) : undefined
    if (now?.ok === true && groupsKey(now.config) !== groupsKey(cfg)) {
      const text = 'haresources changed: it takes effect when heartbeat restarts (change ha.cf and reload, or restart heartbeat).'
      say('warn', text)
      return { kind: 'applied', message: `Configuration unchanged. ${text}` }
    }
    return { kind: 'applied', message: 'Configuration unchanged.' }
  }

  const onTerm = (): void => feed({ type: 'signal', signal: 'TERM' })
  const onHup = (): void => feed({ type: 'signal', signal: 'HUP' })
  const onUsr1 = (): void => feed({ type: 'signal', signal: 'USR1' })
  const onUsr2 = (): void => feed({ type: 'signal', signal: 'USR2' })
  process.on('SIGTERM', onTerm)
  process.on('SIGINT', onTerm)
  process.on('SIGHUP', onHup)
  process.on('SIGUSR1', onUsr1)
  process.on('SIGUSR2', onUsr2)
  if (opts.stopSignal) void opts.stopSignal.then(onTerm)

  // hbctl/cl_status socket and heartbeat's FIFO (lib/daemon/control.ts).
  const control = await startDaemonControl({
    paths,
    status: async () => {
      const s = core.snapshot()
      return buildClusterStatus({
        nowMs: loop.now(),
        wallMs: Date.now(),
        cf,
        groups: cfg.groups,
        membership: s.membership,
        resources: s.resources,
        debugLevel,
        realServers: await readRealServers(monStatePath(paths, env)),
        groupCauses: s.groupCauses,
        pingNodes: s.pingNodes,
        agents: [...life.agents.values()].map((a) => ({ name: a.agent, runs: runnerText(a), why: a.why })),
      })
    },
    resourceMode: () => {
      const mode = core.resourceMode()
      return mode !== undefined ? { mode, written: cf.lines.has('auto_failback') || cf.lines.has('nice_failback') } : undefined
    },
    standby: (arg) => feed({ type: 'control', request: 'standby', arg }),
    takeover: (arg) => feed({ type: 'control', request: 'takeover', arg }),
    reload: () =>
      new Promise((resolve) => {
        if (ended) return resolve({ ok: false, message: 'heartbeat is stopping' })
        const id = nextReplyId++
        replies.set(id, resolve)
        feed({ type: 'reload', replyTo: id })
      }),
    fifoMessage: (msg) => feed({ type: 'fifo', msg }),
    metrics: () => metricsText(),
    log: say,
  })

  const end = await lifeEnded
  for (const r of replies.values()) r({ ok: false, message: 'heartbeat stopped before the reload was done' })
  // The resources are given up by now (3.0.6 stops its client children after them): each client
  // gets SIGTERM, last started first, and SIGKILL past the bound.
  if (clients.count > 0) await clients.stop()
  await control.close()

  process.off('SIGTERM', onTerm)
  process.off('SIGINT', onTerm)
  process.off('SIGHUP', onHup)
  process.off('SIGUSR1', onUsr1)
  process.off('SIGUSR2', onUsr2)
  clearInterval(loadTimer)
  if (textfileTimer !== undefined) clearInterval(textfileTimer)
  if (statsTimer !== undefined) clearInterval(statsTimer)
  runtimeStats?.stop()
  loop.stop()
  stonithAbort.abort()
  await pinger?.stop()
  life.sink.onDatagram = undefined
  life.sink.onError = undefined
  life.sink.onBadFrame = undefined
  say('info', counterLine())
  await media.close()
  const next = end.kind === 'restart' && end.prepared ? nextLife : undefined
  if (nextLife !== undefined && next === undefined) await discard(nextLife)
  if (end.kind === 'restart' && next !== undefined && groupsKey(next.cfg) !== groupsKey(cfg)) {
    say('info', 'haresources changed: the new resource groups take effect now, with this restart.')
  }
  if (end.kind === 'exit') say('info', 'Heartbeat shutdown complete.')
  await journal.flush()
  await stateWrites
  await log.close()
  return { end, next, cfg, debugLevel }
}
