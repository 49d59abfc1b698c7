// hb_resource.c's file-level state as one record that the resource manager's modules share, and the
// helpers they all use: log, send, hb_send_resources_held(), hb_rsc_isstable(),
// AuditResources(), AnnounceTakeover(). Variable names follow hb_resource.c: iHold =
// procinfo->i_hold_resources, otherHolds = other_holds_resources, localTakeoverAt = local_takeover_time.
import type { HaMessage } from '../wire/message.js'
import type { GroupOpsHost, GroupState } from './group-ops.js'
import { noHealAsks } from './heal-asks.js'
import type { HealAsks } from './heal-asks.js'
import { JobRunner } from './job-runner.js'
import type { Job } from './job-runner.js'
import { PeerTable } from './peer-table.js'
import { DEFAULT_RESOURCE_TIMERS } from './rm-options.js'
import type { ResourceManagerOptions, ResourceTimers } from './rm-options.js'
import { resourceHeldMsg } from './rm-messages.js'
import type { GroupRunState, LogLevel, ResourceState, RmAction } from './rm-types.js'
import { RSC_ALL, RSC_FOREIGN, RSC_LOCAL, RSC_NONE, rscBits, rscWord } from './resource-sets.js'
import type { RscBits } from './resource-sets.js'
import { NO_SHUTDOWN, shutdownInProgress, shutdownNeedsRetry } from './shutdown-state.js'
import type { ShutdownState } from './shutdown-state.js'
import type { StandbyState } from './standby.js'
import { createStonithState } from './stonith.js'
import type { StonithState } from './stonith.js'

/**
 * AnnounceTakeover(): "Initial resource acquisition complete" is logged once, when both the local
 * and the foreign part of the start-up work are done (local_takeover_work_done, foreign_takeover_work_done).
 */
export type InitialAcquisition = { phase: 'pending'; localDone: boolean; foreignDone: boolean } | { phase: 'announced' }

/** rsc_needs_failback, and when a delayed PerformAutoFailback() runs again ("Auto failback delayed."). */
export interface FailbackState {
  needed: boolean
  retryAtMs: number | undefined
}

/** ResourceManager's `(sleep 30; hb_standby local|foreign) &` after a failed start. */
export interface PendingStandby {
  at: number
  set: RscBits
}

export interface RscState {
  readonly me: string
  /** nice_failback (auto_failback on or off) */
  readonly nice: boolean
  /** auto_failback on */
  readonly auto: boolean
  readonly timers: ResourceTimers
  readonly pid: number | undefined
  readonly groups: readonly GroupState[]
  readonly peers: PeerTable
  readonly jobs: JobRunner
  /** What takegroup/givegroup (group-ops.ts) call back into. */
  readonly ops: GroupOpsHost
  /** The time of the event being handled. */
  now: number
  /** Actions of the event being handled. */
  out: RmAction[]

  /** The membership layer reached comm-up; the resource message handlers exist from here on. */
  commUp: boolean
  /**
   * WeAreRestarting (`heartbeat -R`): nice_failback's first process_resources() starts out stable
   * (and clears this); legacy does not request its resources at comm-up.
   */
  weAreRestarting: boolean
  resourceState: ResourceState
  /** local_takeover_time: in rscrcvd, take our local groups anyway at this time (RQSTDELAY). */
  localTakeoverAt: number | undefined
  iHold: RscBits
  otherHolds: RscBits
  otherIsStable: boolean
  /** takeover_in_progress: mach_down is taking a dead node's groups. */
  takeoverInProgress: boolean
  standby: StandbyState
  /** standby_rsctype: the set of the current (or last) standby; it outlives the protocol run. */
  standbyRsc: RscBits
  shutdown: ShutdownState
  /** This release yields a contested group: it waits for our own work only (see isQuietForYield). */
  yielding: boolean
  /** A shutdown's release job runs on past its `shutdone` (an address-first group's lvs stop). */
  releaseTail: boolean
  failback: FailbackState
  initial: InitialAcquisition
  pendingStandby: PendingStandby[]
  /** Dead peers being reset before their groups are taken. */
  stonith: StonithState
  /** The groups we kept after a heal and ask (or will ask) the peer to give up (heal-asks.ts). */
  healAsks: HealAsks
}

/** The record at start-up; `jobFinished` is RscMgmtProcessDied(). */
export function createRscState(opts: ResourceManagerOptions, jobFinished: (job: Job) => void): RscState {
  const me = opts.me.toLowerCase()
  const timers = { ...DEFAULT_RESOURCE_TIMERS, ...opts.timers }
  // An in-process restart keeps what we hold: those groups are running from the first moment.
  const keptBits = opts.restartHeld !== undefined ? (rscBits(opts.restartHeld) ?? RSC_NONE) : RSC_NONE
  const groups: GroupState[] = opts.groups.map((def) => {
    const local = same(def.node, me)
    const kept = (keptBits & (local ? RSC_LOCAL : RSC_FOREIGN)) !== 0
    const addressFirst = opts.addressFirstGroups?.has(def.key) ?? false
    return { def, local, state: kept ? 'running' : 'stopped', held: kept, last: null, addressFirst }
  })
  const jobs = new JobRunner({
    now: () => s.now,
    // Before comm-up only a shutdown's release runs (kept groups after an in-process restart).
    mayRun: () => s.commUp || shutdownInProgress(s.shutdown),
    emit: (a) => s.out.push(a),
    log: (level, text) => log(s, level, text),
    finished: jobFinished,
    mayYield: () => !shutdownInProgress(s.shutdown),
  })
  const ops: GroupOpsHost = {
    log: (level, text) => log(s, level, text),
    transition: (g, to, reason, held) => transition(s, g, to, reason, held),
    stopFailed: (g, res) => s.out.push({ type: 'stop-failed', group: g.def.key, resource: res.text }),
    // ResourceManager: `(sleep 30; hb_standby $(StandbyGroupType failed-resource)) &`
    startFailed: (g) => s.pendingStandby.push({ at: s.now + timers.failedStartStandbyMs, set: g.local ? RSC_LOCAL : RSC_FOREIGN }),
    shutdownWaiting: () => shutdownNeedsRetry(s.shutdown),
    groupStartWaiting: () => jobs.groupStartWaiting(),
    startChecksItself: (res) => opts.selfCheckingAgents?.has(res.agent) === true,
    stopRetryMs: timers.stopRetryMs,
    stopRetryMax: timers.stopRetryMax,
    stuckStopRetryMs: timers.stuckStopRetryMs,
  }
  const s: RscState = {
    me,
    nice: opts.autoFailback !== 'legacy',
    auto: opts.autoFailback === 'on',
    timers,
    pid: opts.pid,
    groups,
    peers: new PeerTable(
      me,
      opts.nodes.map((n) => n.toLowerCase()),
    ),
    jobs,
    ops,
    now: 0,
    out: [],
    commUp: false,
    weAreRestarting: opts.restartHeld !== undefined,
    resourceState: 'init',
    localTakeoverAt: undefined,
    iHold: keptBits,
    otherHolds: RSC_NONE,
    otherIsStable: false,
    takeoverInProgress: false,
    standby: { phase: 'not' },
    standbyRsc: RSC_ALL,
    shutdown: NO_SHUTDOWN,
    yielding: false,
    releaseTail: false,
    failback: { needed: false, retryAtMs: undefined },
    initial: { phase: 'pending', localDone: false, foreignDone: false },
    pendingStandby: [],
    stonith: createStonithState(opts.stonith),
    healAsks: noHealAsks(),
  }
  return s
}

export const same = (a: string, b: string): boolean => a.toLowerCase() === b.toLowerCase()

export function log(s: RscState, level: LogLevel, text: string): void {
  s.out.push({ type: 'log', level, text })
}

/** Send to the cluster. heartbeat hears its own broadcast too: it comes back as an `own-message` event. */
export function sendCluster(s: RscState, msg: HaMessage): void {
  s.out.push({ type: 'send', msg })
}

function transition(s: RscState, g: GroupState, to: GroupRunState, reason: string, held: boolean): void {
  if (g.state !== to) g.last = { from: g.state, to, atMs: s.now, reason }
  g.state = to
  g.held = held
}

/** hb_send_resources_held() */
export function sendResourcesHeld(s: RscState, stable: boolean, info?: string): void {
  if (!s.nice) return
  sendCluster(s, resourceHeldMsg(rscWord(s.iHold), stable, info))
}

/**
 * A yield after a heal waits for our own agents, takeover and standby only. hb_rsc_isstable() also
 * waits for the peer's word and our start-up's request delay (10 s): after both nodes restarted
 * apart, each sits in that delay holding the address, and the peer, keeping, is not stable either.
 */
export function isQuietForYield(s: RscState): boolean {
  return !s.jobs.busy() && !s.takeoverInProgress && s.standby.phase === 'not'
}

/** hb_rsc_isstable() */
export function isStable(s: RscState): boolean {
  if (!s.nice) return !s.jobs.busy()
  if (shutdownInProgress(s.shutdown) && s.resourceState === 'init') return true
  return (
    s.otherIsStable &&
    !s.takeoverInProgress &&
    s.standby.phase === 'not' &&
    !s.jobs.busy() &&
    (s.resourceState === 'stable' || s.resourceState === 'shutdown' || s.resourceState === 'init')
  )
}

/** AuditResources(): complaints only. */
export function auditResources(s: RscState): void {
  if (!s.nice) return
  if ((s.iHold & RSC_LOCAL) !== 0 && (s.otherHolds & RSC_FOREIGN) !== 0) log(s, 'error', 'Both machines own our resources!')
  if ((s.otherHolds & RSC_LOCAL) !== 0 && (s.iHold & RSC_FOREIGN) !== 0) log(s, 'error', 'Both machines own foreign resources!')
  if (isStable(s) && !shutdownInProgress(s.shutdown) && s.resourceState !== 'shutdown') {
    if ((s.iHold & RSC_LOCAL) === 0 && (s.otherHolds & RSC_FOREIGN) === 0) log(s, 'error', 'No one owns our local resources!')
    if ((s.otherHolds & RSC_LOCAL) === 0 && (s.iHold & RSC_FOREIGN) === 0) log(s, 'error', 'No one owns foreign resources!')
  }
}

/** local_takeover_work_done / foreign_takeover_work_done = TRUE */
export function workDone(s: RscState, part: 'local' | 'foreign'): void {
  if (s.initial.phase !== 'pending') return
  if (part === 'local') s.initial.localDone = true
  else s.initial.foreignDone = true
}

/** AnnounceTakeover() */
export function announceTakeover(s: RscState, reason: string): void {
  if (s.initial.phase !== 'pending' || !s.initial.localDone || !s.initial.foreignDone) return
  log(s, 'info', `Initial resource acquisition complete (${reason})`)
  s.initial = { phase: 'announced' }
}
