// The release-1 resource manager (hb_resource.c + ResourceManager/req_resource/mach_down/rc.d), sans I/O.
//
// Feed it events with the current monotonic time; it returns actions (messages to send, agents to
// run, log lines) and tells when it next needs a tick. This file routes events and messages; the
// work is split as hb_resource.c's concerns are:
//   rsc-state.ts          the shared state (hb_resource.c's globals), hb_rsc_isstable, AuditResources
//   process-resources.ts  process_resources: the start-up handshake, RQSTDELAY, T_SHUTDONE
//   standby.ts            ask_for_resources/go_standby (the standby protocol), PerformAutoFailback
//   takeover.ts           req_our_resources, hb_rsc_recover_dead_resources, takeover_from_node, rc.d
//   shutdown.ts           hb_giveup_resources (its sub-state: shutdown-state.ts)
//   job-runner.ts         one resource operation at a time (forked children, notify_world jobs)
//   peer-table.ts         the nodes as the resource manager sees them
import { getString } from '../wire/message.js'
import type { HaMessage } from '../wire/message.js'
import type { GroupState, StepResult } from './group-ops.js'
import type { Job } from './job-runner.js'
import { onShutdone, localTakeoverDeadline, localTakeoverIfDue, processResources, takeAlone } from './process-resources.js'
import type { AutoFailback, ResourceManagerOptions } from './rm-options.js'
import { hbTakeoverMsg, startingMsg } from './rm-messages.js'
import type { GroupSnapshot, RmAction, RmEvent, RmSnapshot } from './rm-types.js'
import { RSC_FOREIGN, RSC_LOCAL, rscWord, standbySet, takeoverToPeerStandby } from './resource-sets.js'
import type { RscWord } from './resource-sets.js'
import { announceTakeover, createRscState, isStable, log, same, sendCluster, sendResourcesHeld, workDone } from './rsc-state.js'
import type { RscState } from './rsc-state.js'
import { shutdownInProgress } from './shutdown-state.js'
import { onShutdownRequest, shutdownIfNeeded } from './shutdown.js'
import { askForResources, localStandby, retryAutoFailback, runDueStandbys, standbyDeadline, standbyTimedOut } from './standby.js'
import { answerToAsk, askPeerAfterHeal, forgetHealAsks, settleHealAsks } from './heal-asks.js'
import { hbTakeoverJob, ipRequestJob, ipRequestRespJob, recoverDeadResources, reqOurResources } from './takeover.js'
import { onStonithResult, peerBack, runDueResets, stonithDeadline } from './stonith.js'

export type { AutoFailback, ResourceManagerOptions, ResourceTimers } from './rm-options.js'
export { DEFAULT_RESOURCE_TIMERS } from './rm-options.js'

export class ResourceManager {
  readonly me: string
  readonly mode: AutoFailback
  private readonly s: RscState

  constructor(opts: ResourceManagerOptions) {
    this.mode = opts.autoFailback
    this.s = createRscState(opts, (job) => this.jobFinished(job))
    this.me = this.s.me
  }

  // ---------------------------------------------------------------- public API

  /** Process one event. Due timers are not run here: call `tick` at `nextDeadline()`. */
  handle(event: RmEvent, now: number): RmAction[] {
    const s = this.s
    s.now = now
    switch (event.type) {
      case 'comm-up':
        this.onCommUp()
        break
      case 'node-status':
        this.onNodeStatus(event.node, event.status)
        break
      case 'node-restarted': {
        const n = s.peers.get(event.node.toLowerCase())
        if (n) n.hasResources = true
        if (event.node.toLowerCase() !== s.me) forgetHealAsks(s)
        break
      }
      case 'message':
        this.onMessage(event.msg, false)
        break
      case 'own-message':
        this.onMessage(event.msg, true)
        break
      case 'standby':
        localStandby(s, standbySet(event.arg), event.arg ?? 'all')
        break
      case 'takeover':
        sendCluster(s, hbTakeoverMsg(event.arg ?? 'all'))
        break
      case 'agent-result':
        s.jobs.agentResult(event.id, {
          ok: event.ok,
          running: event.running ?? false,
          ...(event.exitCode !== undefined ? { exitCode: event.exitCode } : {}),
          ...(event.detail !== undefined ? { detail: event.detail } : {}),
        } satisfies StepResult)
        break
      case 'shutdown':
        onShutdownRequest(s, event.yielding === true)
        break
      case 'kept-after-heal':
        sendResourcesHeld(s, s.resourceState === 'stable', 'healed partition')
        askPeerAfterHeal(s)
        break
      case 'stonith-result':
        onStonithResult(s, event.id, event.node.toLowerCase(), event.outcome)
        break
    }
    return this.finish()
  }

  /** Run whatever is due at `now`, in 3.0.6's order. */
  tick(now: number): RmAction[] {
    const s = this.s
    s.now = now
    s.jobs.tick(now)
    standbyTimedOut(s)
    localTakeoverIfDue(s)
    retryAutoFailback(s)
    runDueStandbys(s)
    runDueResets(s)
    return this.finish()
  }

  /** Earliest monotonic time at which `tick` has work to do, if any. */
  nextDeadline(): number | undefined {
    const s = this.s
    const c: number[] = []
    const local = localTakeoverDeadline(s)
    if (local !== undefined) c.push(local)
    const standby = standbyDeadline(s.standby)
    if (standby !== undefined) c.push(standby)
    if (s.failback.retryAtMs !== undefined) c.push(s.failback.retryAtMs)
    for (const p of s.pendingStandby) c.push(p.at)
    const reset = stonithDeadline(s.stonith)
    if (reset !== undefined) c.push(reset)
    const job = s.jobs.nextDeadline()
    if (job !== undefined) c.push(job)
    return c.length === 0 ? undefined : Math.min(...c)
  }

  /** Only the running job's pause, if any: all that runs while an exit's drain waits for the release's tail. */
  jobDeadline(): number | undefined {
    return this.s.jobs.nextDeadline()
  }

  /** Run the running job's pause if due, nothing else (see jobDeadline). */
  tickJobs(now: number): RmAction[] {
    this.s.now = now
    this.s.jobs.tick(now)
    return this.finish()
  }

  /** The shutdown's release still stops something after its `shutdone` (the life waits for it). */
  releaseTailRunning(): boolean {
    return this.s.releaseTail
  }

  /** hb_rsc_resource_state(): what `cl_status rscstatus` prints. */
  rscStatus(): RscWord | 'transition' {
    return isStable(this.s) ? (this.s.nice ? rscWord(this.s.iHold) : 'none') : 'transition'
  }

  snapshot(): RmSnapshot {
    const s = this.s
    return {
      mode: this.mode,
      rscstatus: this.rscStatus(),
      resourceState: s.resourceState,
      standby: s.standby.phase,
      iHold: rscWord(s.iHold),
      otherHolds: rscWord(s.otherHolds),
      otherIsStable: s.otherIsStable,
      busy: s.jobs.busy(),
      groups: s.groups.map((g) => this.groupSnapshot(g)),
    }
  }

  // ---------------------------------------------------------------- plumbing

  private finish(): RmAction[] {
    settleHealAsks(this.s)
    const out = this.s.out
    this.s.out = []
    return out
  }

  private groupSnapshot(g: GroupState): GroupSnapshot {
    const s = this.s
    let holder: string | null = g.held ? s.me : null
    if (!g.held && s.nice) {
      // The peer's rsc_hold is from its side: our local groups are its foreign ones.
      const peerBit = g.local ? RSC_FOREIGN : RSC_LOCAL
      const peer = s.peers.peerName()
      if ((s.otherHolds & peerBit) !== 0 && peer !== undefined) holder = peer
    }
    return {
      key: g.def.key,
      node: g.def.node,
      resources: g.def.resources.map((r) => r.text),
      holder,
      state: g.state,
      lastTransition: g.last,
    }
  }

  /** RscMgmtProcessDied() */
  private jobFinished(job: Job): void {
    const s = this.s
    if (job.name === 'req_our_resources' || job.name === 'ip-request-resp') {
      workDone(s, 'local')
      announceTakeover(s, job.name)
    } else if (!s.nice && job.name === 'status' && s.peers.countByStatus('dead') > 0) {
      workDone(s, 'foreign')
      announceTakeover(s, job.name)
    }
    shutdownIfNeeded(s)
  }

  // ---------------------------------------------------------------- membership

  /** comm_up_resource_action() */
  private onCommUp(): void {
    const s = this.s
    if (s.commUp) return
    s.commUp = true
    const meNode = s.peers.get(s.me)
    if (meNode) meNode.status = 'active'
    if (s.peers.countByStatus('dead') === 0) workDone(s, 'foreign')
    if (shutdownInProgress(s.shutdown)) {
      // Not a restart any more: left set, the peer's first resource message would turn our
      // 'shutdown' back into 'stable' and we would obey its standby request while exiting.
      s.weAreRestarting = false
      s.jobs.pump()
      return
    }
    if (s.nice) {
      sendCluster(s, startingMsg())
      s.resourceState = 'starting'
      if (!s.peers.hasOtherNodes()) takeAlone(s)
    } else if (!s.weAreRestarting) {
      // (resources_requested_yet: comm-up happens once)
      reqOurResources(s, false)
    }
    s.jobs.pump()
  }

  private onNodeStatus(name: string, status: string): void {
    const node = name.toLowerCase()
    const died = this.s.peers.setStatus(node, status)
    if (died !== undefined) {
      forgetHealAsks(this.s)
      recoverDeadResources(this.s, died)
    }
    else if (status.toLowerCase() !== 'dead') peerBack(this.s, node, status)
  }

  // ---------------------------------------------------------------- messages

  private onMessage(msg: HaMessage, own: boolean): void {
    const s = this.s
    const t = getString(msg, 't')
    const src = own ? s.me : getString(msg, 'src')?.toLowerCase()
    if (t === undefined || src === undefined) {
      log(s, 'error', `resource message without ${t === undefined ? 't' : 'src'}; ignored`)
      return
    }
    if (!own && src === s.me) return // our own come back as own-message (see RmEvent)
    const dest = getString(msg, 'dest')
    if (dest !== undefined && !same(dest, s.me) && t !== 'ip-request-resp') return
    s.peers.heardFrom(src)
    this.dispatch(msg, src)
  }

  private dispatch(msg: HaMessage, src: string): void {
    const s = this.s
    const t = getString(msg, 't') ?? ''
    const fromMe = src === s.me
    if (t === 'shutdone') {
      onShutdone(s, msg, src)
      return
    }
    // These handlers are registered only at comm-up (§5.3): earlier ones are not acted on.
    if (!s.commUp) return
    switch (t) {
      case 'starting':
        processResources(s, t, msg, fromMe)
        break
      case 'resource':
        if (!fromMe) {
          const late = s.peers.lateHoldings(msg, src)
          if (late !== undefined) {
            log(s, 'info', late)
            break
          }
        }
        processResources(s, t, msg, fromMe)
        break
      case 'ask_resources':
        askForResources(s, msg, src)
        break
      case 'ip-request':
        if (!fromMe) s.jobs.enqueue('ip-request', 'notify', ipRequestJob(s, src, getString(msg, 'ipaddr') ?? ''))
        break
      case 'ip-request-resp':
        if (shutdownInProgress(s.shutdown)) return
        if (same(getString(msg, 'dest') ?? '', s.me) && getString(msg, 'ok') === 'OK') {
          const answer = fromMe ? { kind: 'none' as const } : answerToAsk(s, msg, src)
          if (answer.kind === 'handled') {
            if (answer.gaveUp) s.out.push({ type: 'peer-gave-up' })
            break
          }
          const key = getString(msg, 'ipaddr') ?? ''
          s.jobs.enqueue('ip-request-resp', 'notify', ipRequestRespJob(s, key), { startsGroups: true })
        }
        break
      case 'hb_takeover':
        // rc.d/hb_takeover: the other node asks us to run hb_standby with the set seen from here.
        if (!fromMe) s.jobs.enqueue('hb_takeover', 'notify', hbTakeoverJob(s, takeoverToPeerStandby(getString(msg, 'rsc_hold') ?? 'all')))
        break
      default:
        break
    }
  }
}
