// The built-in agents' settings, read once from the environment at each agent's entry (resource.d runs an agent as a
// child process, the daemon may run it in-process with the environment it would pass: either way that is its edge).
// The agents' helpers take these options; only child processes get the environment itself.
import { join } from 'node:path'
import { daemonPaths } from '../config/paths.js'
import { arpPacingFromEnv, HEARTBEAT_ARP_PACING, type ArpPacing } from './gratuitous-arp.js'

export type AgentEnv = Readonly<Record<string, string | undefined>>

/**
 * HBTS_DRY_RUN=1 (the demo without root, a rehearsal on a live host): every change an agent would make
 * is printed as `DRY RUN: …` on stderr instead (see ipaddr.ts and lvs.ts for what each keeps).
 */
export function isDryRun(env: AgentEnv): boolean {
  return env.HBTS_DRY_RUN === '1'
}

export interface IpaddrOptions {
  /** HBTS_IP_CMD, HBTS_ARPING_CMD: the programs (tests put stand-ins here). */
  ipCmd: string
  arpingCmd: string
  /** HBTS_PROC_SYS (default /proc/sys). */
  procSys: string
  /** HA_RCDIR, else <HBTS_HA_DIR or HA_DIR or /etc/ha.d>/rc.d (ocf-shellfuncs): the hooks IPaddr runs. */
  rcDir: string
  /** <run dir>/IPaddr: lo:0 records, ARP pacer pids, the dry run's record. */
  stateDir: string
  dryRun: boolean
  /** Gratuitous ARP pacing as the daemon carried it from heartbeat-ts.conf [ipaddr] (gratuitous-arp.ts). */
  arpPacing: ArpPacing
  /** Why the carried pacing was refused (heartbeat's default is used then). */
  arpPacingProblem: string | undefined
}

export function ipaddrOptions(env: AgentEnv): IpaddrOptions {
  const pacing = arpPacingFromEnv(env)
  return {
    ipCmd: env.HBTS_IP_CMD ?? 'ip',
    arpingCmd: env.HBTS_ARPING_CMD ?? 'arping',
    procSys: env.HBTS_PROC_SYS ?? '/proc/sys',
    // ocf-shellfuncs: HA_RCDIR=/etc/ha.d/rc.d
    rcDir: env.HA_RCDIR ?? join(env.HBTS_HA_DIR ?? env.HA_DIR ?? '/etc/ha.d', 'rc.d'),
    stateDir: join(daemonPaths(env).runDir, 'IPaddr'),
    dryRun: isDryRun(env),
    arpPacing: pacing.ok ? pacing.pacing : HEARTBEAT_ARP_PACING,
    arpPacingProblem: pacing.ok ? undefined : pacing.message,
  }
}

export interface LvsOptions {
  /** `ipvsadm -S -n` rules file: HBTS_LVS_RULES, default <ha dir>/ipvsadm.rules (/etc/ha.d/ipvsadm.rules). */
  rulesFile: string
  monCf: string
  /** <run dir>/lvs: monitor pidfile and the forwarding record. */
  runDir: string
  procSys: string
  /** HBTS_IPVSADM (default ipvsadm). */
  ipvsadm: string
  dryRun: boolean
  monitor: MonitorOptions
}

export function lvsOptions(env: AgentEnv): LvsOptions {
  const d = daemonPaths(env)
  return {
    rulesFile: env.HBTS_LVS_RULES ?? join(d.haDir, 'ipvsadm.rules'),
    monCf: d.monCf,
    runDir: join(d.runDir, 'lvs'),
    procSys: env.HBTS_PROC_SYS ?? '/proc/sys',
    ipvsadm: env.HBTS_IPVSADM ?? 'ipvsadm',
    dryRun: isDryRun(env),
    monitor: monitorOptions(env),
  }
}

/** Where hb-mon keeps its files (flags win over environment, environment over defaults): shared by hb-mon and the hook that stops it. */
export interface HbMonPaths {
  pidFile: string
  stateFile: string
  logFile: string
}

export function hbMonPaths(env: AgentEnv, flags: { pidfile?: string; state?: string; log?: string } = {}): HbMonPaths {
  const runDir = daemonPaths(env).runDir
  return {
    pidFile: flags.pidfile ?? env.HBTS_MON_PIDFILE ?? join(runDir, 'mon.pid'),
    stateFile: flags.state ?? env.HBTS_MON_STATE ?? join(runDir, 'mon-state.json'),
    logFile: flags.log ?? env.HBTS_MON_LOG ?? join(runDir, 'mon.log'),
  }
}

/** What the lvs agent's real-server monitor hook (lib/io/lvs-monitor-hook.ts) needs to know. */
export interface MonitorOptions {
  /** HBTS_LVS_MONITOR_CMD: a monitor program instead of the built-in hb-mon. */
  command: string | undefined
  /** HBTS_LVS_MONITOR_STOP_MS (5000): SIGTERM's grace before SIGKILL. */
  stopGraceMs: number
  /** The node's pidfile: the heartbeat that owns the monitor. */
  nodePidFile: string
  /** hb-mon's own pidfile, for a leftover the agent's record lost. */
  hbMonPidFile: string
}

export function monitorOptions(env: AgentEnv): MonitorOptions {
  const custom = env.HBTS_LVS_MONITOR_CMD
  return {
    command: custom !== undefined && custom !== '' ? custom : undefined,
    stopGraceMs: Number(env.HBTS_LVS_MONITOR_STOP_MS ?? '5000') || 5000,
    nodePidFile: daemonPaths(env).pidFile,
    hbMonPidFile: hbMonPaths(env).pidFile,
  }
}
