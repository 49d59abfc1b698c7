// The release-1 resource manager (hb_resource.c + ResourceManager/req_resource/mach_down/rc.d), sans I/O.
//
// Feed it events with the current monotonic time; it returns actions (messages to send, agents to
// run, log lines) and tells when it next needs a tick. Variable names follow hb_resource.c so the
// logic can be checked against it: iHold = procinfo->i_hold_resources, otherHolds =
// other_holds_resources, goingStandby = going_standby, localTakeoverAt = local_takeover_time.
import { getString } from '../wire/message.js'
import type { HaMessage } from '../wire/message.js'
import { scanHex } from '../cluster/c-numbers.js'
import { giveGroup, takeGroup } from './group-ops.js'
import type { GroupOpsHost, GroupState, JobGen, JobStep, StepResult } from './group-ops.js'
import type { ResourceGroup, ResourceRef } from '../config/haresources.js'
import {
  RSC_ALL,
  RSC_FOREIGN,
  RSC_LOCAL,
  RSC_NONE,
  clearBits,
  orBits,
  rscBits,
  rscWord,
  standbySet,
  takeoverToPeerStandby,
  updateBits,
} from './resource-sets.js'
import type { RscBits, RscWord, StandbyArg } from './resource-sets.js'
import {
  askResourcesMsg,
  hbTakeoverMsg,
  ipRequestMsg,
  ipRequestRespMsg,
  machDownMsg,
  resourceHeldMsg,
  shutdoneMsg,
  startingMsg,
  stonithMsg,
} from './rm-messages.js'
import type {
  GroupRunState,
  GroupSnapshot,
  LogLevel,
  ResourceState,
  RmAction,
  RmEvent,
  RmSnapshot,
  StandbyPhase,
} from './rm-types.js'

export type AutoFailback = 'legacy' | 'on' | 'off'

export interface ResourceTimers {
  /** RQSTDELAY: take our local groups anyway this long after the first `resource` message. */
  rqstDelayMs: number
  /** STANDBY_INIT_TO_MS: wait for the peer's `other` reply. */
  standbyReplyMs: number
  /** HB_STANDBY_RSC_TO_MS: how long a standby may spend moving resources. */
  standbyRscMs: number
  /** ResourceManager: pause between stop retries, and how many (HA_STOPRETRYMAX). */
  stopRetryMs: number
  stopRetryMax: number
  /** Ours: pause between retries of a stop that is stuck (see the policy in group-ops.ts). */
  stuckStopRetryMs: number
  /** ResourceManager: `(sleep 30; hb_standby local|foreign) &` after a failed start. */
  failedStartStandbyMs: number
  /** PerformAutoFailback: "Auto failback delayed." retry period. */
  autoFailbackRetryMs: number
}

export const DEFAULT_RESOURCE_TIMERS: ResourceTimers = {
  rqstDelayMs: 10_000,
  standbyReplyMs: 10_000,
  standbyRscMs: 3_600_000,
  stopRetryMs: 1_000,
  stopRetryMax: 10,
  stuckStopRetryMs: 30_000,
  failedStartStandbyMs: 30_000,
  autoFailbackRetryMs: 1_000,
}

export interface ResourceManagerOptions {
  /** Our node name as on the wire (uname -n, lower case). */
  me: string
  /** Normal (non-ping) nodes from ha.cf, ourselves included. */
  nodes: readonly string[]
  groups: readonly ResourceGroup[]
  autoFailback: AutoFailback
  timers?: Partial<ResourceTimers>
  /** Shown in "Heartbeat shutdown in progress. (pid)". */
  pid?: number
  /** `heartbeat -R -C <held>`: restarting while keeping resources (WeAreRestarting). */
  restartHeld?: RscWord
}

interface NodeInfo {
  name: string
  status: string
  /** anypacketsyet: we heard from it at least once. */
  heard: boolean
  /** has_resources (legacy STONITH decision): cleared by its `shutdone`. */
  hasResources: boolean
  /** hg and seq of the newest `resource`/`shutdone` from it that we acted on (see staleHoldings). */
  holdsStamp?: Stamp
}

/** A message's place in its sender's stream: generation, then seq (both stamped by the sender's daemon). */
interface Stamp {
  gen: number
  seq: number
}

/** hg/seq as the sender's daemon stamped them (hex); undefined for unstamped messages. */
function stampOf(msg: HaMessage): Stamp | undefined {
  const seq = scanHex(getString(msg, 'seq'))
  if (seq === undefined) return undefined
  return { gen: scanHex(getString(msg, 'hg')) ?? 0, seq }
}

function olderThan(a: Stamp, b: Stamp): boolean {
  return a.gen < b.gen || (a.gen === b.gen && a.seq < b.seq)
}

/** hb_resource.c runs some work as forked children and some as queued notify_world jobs. */
type JobKind = 'child' | 'notify'

interface Job {
  name: string
  kind: JobKind
  gen: JobGen<void>
}

interface Running {
  job: Job
  agentId?: number
  waitUntil?: number
}

const same = (a: string, b: string): boolean => a.toLowerCase() === b.toLowerCase()

export class ResourceManager {
  readonly me: string
  readonly mode: AutoFailback
  private readonly nice: boolean
  private readonly auto: boolean
  private readonly timers: ResourceTimers
  private readonly pid: number | undefined
  private readonly groups: GroupState[]
  private readonly nodes = new Map<string, NodeInfo>()

  private now = 0
  private out: RmAction[] = []
  private loopback: HaMessage[] = []

  // hb_resource.c state
  private resourceState: ResourceState = 'init'
  private iHold: RscBits = RSC_NONE
  private otherHolds: RscBits = RSC_NONE
  private otherIsStable = false
  private goingStandby: StandbyPhase = 'not'
  private standbyRunningUntil: number | undefined
  private standbyRsc: RscBits = RSC_ALL
  private takeoverInProgress = false
  private rscNeedsFailback = false
  private rscNeedsShutdown = false
  private shutdownInProgress = false
  private resourceShutdownStarted = false
  private localTakeoverAt: number | undefined
  private localWorkDone = false
  private foreignWorkDone = false
  private announced = false
  private commUp = false
  private restarting: boolean
  private firstProcess = true
  private resourcesRequestedYet = false
  private autoFailbackAt: number | undefined
  private pendingStandby: Array<{ at: number; set: RscBits }> = []

  // job runner (one resource operation at a time, children before queued notifications)
  private jobs: Job[] = []
  private running: Running | undefined
  private pumping = false
  private nextAgentId = 1
  private readonly opsHost: GroupOpsHost

  constructor(opts: ResourceManagerOptions) {
    this.me = opts.me.toLowerCase()
    this.mode = opts.autoFailback
    this.nice = opts.autoFailback !== 'legacy'
    this.auto = opts.autoFailback === 'on'
    this.timers = { ...DEFAULT_RESOURCE_TIMERS, ...opts.timers }
    this.pid = opts.pid
    for (const n of opts.nodes) {
      const name = n.toLowerCase()
      this.nodes.set(name, { name, status: 'init', heard: false, hasResources: true })
    }
    if (!this.nodes.has(this.me)) this.nodes.set(this.me, { name: this.me, status: 'init', heard: true, hasResources: false })
    this.groups = opts.groups.map((def) => ({
      def,
      local: same(def.node, this.me),
      state: 'stopped' as GroupRunState,
      held: false,
      last: null,
    }))
    this.restarting = opts.restartHeld !== undefined
    if (opts.restartHeld !== undefined) this.iHold = rscBits(opts.restartHeld) ?? RSC_NONE
    const self = this
    this.opsHost = {
      log: (level, text) => self.log(level, text),
      transition: (g, to, reason, held) => self.transition(g, to, reason, held),
      stopFailed: (g, res) => self.out.push({ type: 'stop-failed', group: g.def.key, resource: res.text }),
      // ResourceManager: `(sleep 30; hb_standby $(StandbyGroupType failed-resource)) &`
      startFailed: (g) => self.pendingStandby.push({ at: self.now + self.timers.failedStartStandbyMs, set: g.local ? RSC_LOCAL : RSC_FOREIGN }),
      stopRetryMs: this.timers.stopRetryMs,
      stopRetryMax: this.timers.stopRetryMax,
      stuckStopRetryMs: this.timers.stuckStopRetryMs,
    }
  }

  // ---------------------------------------------------------------- public API

  /** Process one event. Due timers are not run here: call `tick` at `nextDeadline()`. */
  handle(event: RmEvent, now: number): RmAction[] {
    this.now = now
    switch (event.type) {
      case 'comm-up':
        this.onCommUp()
        break
      case 'node-status':
        this.onNodeStatus(event.node, event.status)
        break
      case 'node-restarted': {
        const n = this.nodes.get(event.node.toLowerCase())
        if (n) n.hasResources = true
        break
      }
      case 'message':
        this.onMessage(event.msg, false)
        break
      case 'own-message':
        this.onMessage(event.msg, true)
        break
      case 'standby':
        this.localStandby(standbySet(event.arg), event.arg ?? 'all')
        break
      case 'takeover':
        this.sendCluster(hbTakeoverMsg(event.arg ?? 'all'))
        break
      case 'agent-result':
        this.onAgentResult(event.id, {
          ok: event.ok,
          running: event.running ?? false,
          ...(event.exitCode !== undefined ? { exitCode: event.exitCode } : {}),
          ...(event.detail !== undefined ? { detail: event.detail } : {}),
        })
        break
      case 'shutdown':
        this.onShutdownRequest()
        break
    }
    return this.finish()
  }

  tick(now: number): RmAction[] {
    this.now = now
    this.checkTimers()
    return this.finish()
  }

  /** Earliest monotonic time at which `tick` has work to do, if any. */
  nextDeadline(): number | undefined {
    const c: number[] = []
    if (this.nice && this.resourceState === 'rscrcvd' && this.localTakeoverAt !== undefined) c.push(this.localTakeoverAt)
    if (this.standbyRunningUntil !== undefined) c.push(this.standbyRunningUntil)
    if (this.autoFailbackAt !== undefined) c.push(this.autoFailbackAt)
    for (const p of this.pendingStandby) c.push(p.at)
    if (this.running?.waitUntil !== undefined) c.push(this.running.waitUntil)
    return c.length === 0 ? undefined : Math.min(...c)
  }

  /** hb_rsc_resource_state(): what `cl_status rscstatus` prints. */
  rscStatus(): RscWord | 'transition' {
    return this.isStable() ? (this.nice ? rscWord(this.iHold) : 'none') : 'transition'
  }

  snapshot(): RmSnapshot {
    return {
      mode: this.mode,
      rscstatus: this.rscStatus(),
      resourceState: this.resourceState,
      standby: this.goingStandby,
      iHold: rscWord(this.iHold),
      otherHolds: rscWord(this.otherHolds),
      otherIsStable: this.otherIsStable,
      busy: this.busy(),
      groups: this.groups.map((g) => this.groupSnapshot(g)),
    }
  }

  // ---------------------------------------------------------------- plumbing

  private finish(): RmAction[] {
    this.drainLoopback()
    const out = this.out
    this.out = []
    return out
  }

  private drainLoopback(): void {
    // heartbeat hears its own broadcasts and acts on them after the current handler returns.
    while (this.loopback.length > 0) {
      const msg = this.loopback.shift()
      if (msg) this.dispatch(msg, this.me)
    }
  }

  private log(level: LogLevel, text: string): void {
    this.out.push({ type: 'log', level, text })
  }

  private sendCluster(msg: HaMessage): void {
    this.out.push({ type: 'send', msg })
    this.loopback.push(msg)
  }

  private transition(g: GroupState, to: GroupRunState, reason: string, held: boolean): void {
    if (g.state !== to) g.last = { from: g.state, to, atMs: this.now, reason }
    g.state = to
    g.held = held
  }

  private groupSnapshot(g: GroupState): GroupSnapshot {
    let holder: string | null = g.held ? this.me : null
    if (!g.held && this.nice) {
      // The peer's rsc_hold is from its side: our local groups are its foreign ones.
      const peerBit = g.local ? RSC_FOREIGN : RSC_LOCAL
      const peer = this.peerName()
      if ((this.otherHolds & peerBit) !== 0 && peer !== undefined) holder = peer
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

  private peerName(): string | undefined {
    for (const n of this.nodes.values()) if (n.name !== this.me && n.status !== 'dead') return n.name
    return undefined
  }

  private busy(): boolean {
    return this.running !== undefined || this.jobs.length > 0
  }

  // ---------------------------------------------------------------- jobs

  private enqueue(name: string, kind: JobKind, gen: JobGen<void>): void {
    const job: Job = { name, kind, gen }
    if (kind === 'child') {
      // forked children start at once; queued notifications wait until no child runs
      const firstNotify = this.jobs.findIndex((j) => j.kind === 'notify')
      if (firstNotify < 0) this.jobs.push(job)
      else this.jobs.splice(firstNotify, 0, job)
    } else {
      this.jobs.push(job)
    }
    this.pump()
  }

  private pump(resume?: StepResult): void {
    // Before comm-up nothing runs (heartbeat forks its children around comm-up; their messages
    // would otherwise arrive before the resource handlers exist): a dead-at-initdead peer's
    // takeover queues here and starts right after `starting`.
    if (this.pumping || !this.commUp) return
    this.pumping = true
    try {
      let input = resume
      for (;;) {
        let fresh = false
        if (this.running === undefined) {
          const next = this.jobs.shift()
          if (next === undefined) break
          this.running = { job: next }
          fresh = true
        } else if (input === undefined) {
          break // the running job still waits for its agent or timer
        }
        const cur = this.running
        const r = fresh ? cur.job.gen.next(undefined as unknown as StepResult) : cur.job.gen.next(input as StepResult)
        input = undefined
        if (r.done) {
          this.running = undefined
          this.jobFinished(cur.job)
          continue
        }
        this.startStep(cur, r.value)
        break
      }
    } finally {
      this.pumping = false
    }
  }

  private startStep(cur: Running, step: JobStep): void {
    if (step.kind === 'wait') {
      cur.agentId = undefined
      cur.waitUntil = this.now + step.ms
      return
    }
    const res = step.group.def.resources[step.index] as ResourceRef
    const id = this.nextAgentId++
    cur.agentId = id
    cur.waitUntil = undefined
    this.out.push({ type: 'run-agent', id, group: step.group.def.key, index: step.index, resource: res, op: step.op })
  }

  private onAgentResult(id: number, result: StepResult): void {
    const cur = this.running
    if (cur === undefined || cur.agentId !== id) {
      this.log('debug', `agent result ${id} matches no running operation; ignored`)
      return
    }
    cur.agentId = undefined
    this.pump(result)
  }

  /** RscMgmtProcessDied() */
  private jobFinished(job: Job): void {
    if (job.name === 'req_our_resources' || job.name === 'ip-request-resp') {
      this.localWorkDone = true
      this.announceTakeover(job.name)
    } else if (!this.nice && job.name === 'status' && this.countByStatus('dead') > 0) {
      this.foreignWorkDone = true
      this.announceTakeover(job.name)
    }
    this.shutdownIfNeeded()
  }

  private checkTimers(): void {
    const now = this.now
    const cur = this.running
    if (cur?.waitUntil !== undefined && now >= cur.waitUntil) {
      cur.waitUntil = undefined
      this.pump({ ok: true, running: false })
    }
    if (this.standbyRunningUntil !== undefined && now >= this.standbyRunningUntil) {
      this.standbyRunningUntil = undefined
      this.otherIsStable = true
      this.goingStandby = 'not'
      this.log('warn', 'No reply to standby request.  Standby request cancelled.')
      this.shutdownIfNeeded()
    }
    if (this.nice && this.resourceState === 'rscrcvd' && this.localTakeoverAt !== undefined && now >= this.localTakeoverAt) {
      // polled_input_dispatch: "time to take over local resources"
      this.resourceState = 'stable'
      this.reqOurResources(false)
      this.log('info', 'local resource transition completed.')
      this.sendResourcesHeld(true)
      this.auditResources()
    }
    if (this.autoFailbackAt !== undefined && now >= this.autoFailbackAt) {
      this.autoFailbackAt = undefined
      this.performAutoFailback()
    }
    const due = this.pendingStandby.filter((p) => now >= p.at)
    if (due.length > 0) {
      this.pendingStandby = this.pendingStandby.filter((p) => now < p.at)
      for (const p of due) this.localStandby(p.set, rscWord(p.set))
    }
    this.drainLoopback()
  }

  // ---------------------------------------------------------------- membership

  private countByStatus(status: string): number {
    let n = 0
    for (const node of this.nodes.values()) if (node.status === status) n++
    return n
  }

  private onCommUp(): void {
    if (this.commUp) return
    this.commUp = true
    const meNode = this.nodes.get(this.me)
    if (meNode) meNode.status = 'active'
    // comm_up_resource_action()
    if (this.countByStatus('dead') === 0) this.foreignWorkDone = true
    if (this.nice) {
      this.sendCluster(startingMsg())
      this.resourceState = 'starting'
    } else if (!this.restarting && !this.resourcesRequestedYet) {
      this.resourcesRequestedYet = true
      this.reqOurResources(false)
    }
    this.pump()
  }

  private onNodeStatus(name: string, status: string): void {
    const key = name.toLowerCase()
    const node = this.nodes.get(key)
    if (node === undefined) return
    const old = node.status
    node.status = status.toLowerCase()
    if (node.status !== 'init' && node.status !== 'dead') node.heard = true
    if (key === this.me) return
    if (node.status === 'dead' && old !== 'dead') this.recoverDeadResources(node)
  }

  /** hb_rsc_recover_dead_resources() */
  private recoverDeadResources(node: NodeInfo): void {
    if (this.goingStandby !== 'not') {
      this.log('info', 'Cancelling pending standby operation')
      this.goingStandby = 'not'
      this.standbyRunningUntil = undefined
      if (!this.otherIsStable && this.iHold === RSC_ALL) this.otherIsStable = true
      this.shutdownIfNeeded()
    }
    if (this.shutdownInProgress) {
      if (this.resourceState === 'shutdown' || this.resourceState === 'stable') return
      this.giveupResources()
      return
    }
    this.rscNeedsFailback = true
    let needStonith = true
    if (node.heard) {
      if (this.nice) {
        if (this.otherHolds === RSC_NONE) needStonith = false
      } else if (!node.hasResources) {
        needStonith = false
      }
    }
    if (needStonith) {
      // No STONITH device in heartbeat-ts: say so the way 3.0.6 does, then take over anyway.
      this.sendCluster(stonithMsg(node.name, 'n_stnth'))
      this.log('warn', 'No STONITH device configured.')
      this.log('warn', 'Shared disks are not protected.')
      this.takeoverFromNode(node)
      return
    }
    this.log('info', `Dead node ${node.name} gave up resources.`)
    this.sendCluster(stonithMsg(node.name, 'unneeded'))
    if (this.nice) {
      if (this.iHold === RSC_ALL) {
        this.otherIsStable = true
        return
      }
      if ((this.iHold & RSC_LOCAL) === 0) this.reqOurResources(true)
      if ((this.iHold & RSC_FOREIGN) === 0) this.takeoverFromNode(node)
    } else {
      this.takeoverFromNode(node)
    }
  }

  /** takeover_from_node(): mach_down for the node's groups, then our own groups. */
  private takeoverFromNode(node: NodeInfo): void {
    if (this.shutdownInProgress) {
      this.log('info', 'Resource takeover cancelled - shutdown in progress.')
      this.shutdownIfNeeded()
      return
    }
    this.log('info', `Resources being acquired from ${node.name}.`)
    this.enqueue('status', 'notify', this.machDownJob(node.name))
    if (this.nice) {
      this.iHold = orBits(this.iHold, RSC_FOREIGN)
      this.otherHolds = RSC_NONE
      this.otherIsStable = true
      this.takeoverInProgress = true
    }
    this.reqOurResources(true)
    node.heard = true
  }

  private *machDownJob(nodeName: string): JobGen<void> {
    for (const g of this.groups) {
      if (!same(g.def.node, nodeName)) continue
      this.log('info', `Taking over resource group ${g.def.key}`)
      yield* takeGroup(this.opsHost, g, `takeover from dead ${nodeName}`)
    }
    if (this.nice) {
      this.log('info', 'mach_down: nice_failback: foreign resources acquired')
      this.sendCluster(machDownMsg())
    }
    this.log('info', `mach_down takeover complete for node ${nodeName}.`)
  }

  // ---------------------------------------------------------------- acquisition

  /** req_our_resources() + req_resource for each of our keys. */
  private reqOurResources(getThemAnyway: boolean): void {
    if (this.shutdownInProgress) return
    if (this.nice) {
      if (((this.otherHolds & RSC_FOREIGN) !== 0 || (this.iHold & RSC_LOCAL) !== 0) && !getThemAnyway) {
        if (this.goingStandby === 'not') {
          this.log('info', 'Local Resource acquisition completed. (none)')
          return
        }
      }
      this.iHold = orBits(this.iHold, RSC_LOCAL)
    }
    let upcount = this.countByStatus('active')
    if (this.nodes.get(this.me)?.status !== 'active') upcount++
    const dontAsk = upcount < 2 || this.nice
    this.enqueue('req_our_resources', 'child', this.reqOurResourcesJob(dontAsk))
  }

  private *reqOurResourcesJob(dontAsk: boolean): JobGen<void> {
    const ours = this.groups.filter((g) => g.local)
    for (const g of ours) {
      // req_resource: "Do we already have this resource?" (status of the key resource only)
      const st = yield { kind: 'agent', group: g, index: 0, op: 'status' }
      if (st.running) continue
      if (dontAsk) this.sendCluster(ipRequestRespMsg(this.me, g.def.key, true))
      else this.sendCluster(ipRequestMsg(g.def.key))
    }
    if (ours.length === 0) this.log('info', `No local resources [ResourceManager listkeys ${this.me}] to acquire.`)
    else this.log('info', 'Local Resource acquisition completed.')
    this.sendResourcesHeld(true, 'req_our_resources()')
  }

  private announceTakeover(reason: string): void {
    if (this.announced || !this.localWorkDone || !this.foreignWorkDone) return
    this.log('info', `Initial resource acquisition complete (${reason})`)
    this.announced = true
  }

  private sendResourcesHeld(stable: boolean, info?: string): void {
    if (!this.nice) return
    this.sendCluster(resourceHeldMsg(rscWord(this.iHold), stable, info))
  }

  // ---------------------------------------------------------------- messages

  private onMessage(msg: HaMessage, own: boolean): void {
    const t = getString(msg, 't')
    const src = own ? this.me : getString(msg, 'src')?.toLowerCase()
    if (t === undefined || src === undefined) {
      this.log('error', `resource message without ${t === undefined ? 't' : 'src'}; ignored`)
      return
    }
    if (!own && src === this.me) return // our own broadcasts: already handled when sent
    const dest = getString(msg, 'dest')
    if (dest !== undefined && !same(dest, this.me) && t !== 'ip-request-resp') return
    const node = this.nodes.get(src)
    if (node && src !== this.me) node.heard = true
    this.dispatch(msg, src)
  }

  private dispatch(msg: HaMessage, src: string): void {
    const t = getString(msg, 't') ?? ''
    const fromMe = src === this.me
    if (t === 'shutdone') {
      this.onShutdone(msg, src)
      return
    }
    // These handlers are registered only at comm-up (§5.3): earlier ones are not acted on.
    if (!this.commUp) return
    switch (t) {
      case 'starting':
        this.processResources(t, msg, fromMe)
        break
      case 'resource':
        if (!fromMe && this.staleHoldings(msg, src)) break
        this.processResources(t, msg, fromMe)
        break
      case 'ask_resources':
        this.askForResources(msg, src)
        break
      case 'ip-request':
        if (!fromMe) this.enqueue('ip-request', 'notify', this.ipRequestJob(src, getString(msg, 'ipaddr') ?? ''))
        break
      case 'ip-request-resp':
        if (this.shutdownInProgress) return
        if (same(getString(msg, 'dest') ?? '', this.me) && getString(msg, 'ok') === 'OK') {
          const key = getString(msg, 'ipaddr') ?? ''
          this.enqueue('ip-request-resp', 'notify', this.ipRequestRespJob(key))
        }
        break
      case 'hb_takeover':
        // rc.d/hb_takeover: the other node asks us to run hb_standby with the set seen from here.
        if (!fromMe) {
          const set = takeoverToPeerStandby(getString(msg, 'rsc_hold') ?? 'all')
          this.enqueue('hb_takeover', 'notify', this.standbyJob(set))
        }
        break
      default:
        break
    }
  }

  /**
   * Is this peer `resource` older (by the sender's hg, then seq) than one we already acted on? The
   * membership layer delivers in arrival order, not seq order (§3.3: no reordering buffer), so a
   * lost `resource` comes back by retransmission after the later ones. Its rsc_hold (rtype=full
   * replaces "other holds") and isstable describe the peer as it was: 3.0.6 applies it anyway and
   * believes e.g. that a peer which just took every group holds only its own until the next
   * `resource`, which may never come. heartbeat-ts keeps the newest picture and drops the late one.
   */
  private staleHoldings(msg: HaMessage, src: string): boolean {
    const node = this.nodes.get(src)
    const s = stampOf(msg)
    if (node === undefined || s === undefined) return false
    const seen = node.holdsStamp
    if (seen !== undefined && olderThan(s, seen)) {
      this.log('info', `Late resource message from ${node.name} (seq ${s.seq}, already acted on seq ${seen.seq}) ignored: it no longer says what ${node.name} holds.`)
      return true
    }
    node.holdsStamp = s
    return false
  }

  private *standbyJob(set: RscBits): JobGen<void> {
    this.localStandby(set, rscWord(set))
    yield* []
  }

  /** rc.d/ip-request: give the group up if we run it, then answer. */
  private *ipRequestJob(requester: string, key: string): JobGen<void> {
    const g = this.groups.find((x) => x.def.key === key)
    let weown = false
    if (g !== undefined) {
      const st = yield { kind: 'agent', group: g, index: 0, op: 'status' }
      if (st.running) {
        weown = true
        yield* giveGroup(this.opsHost, g, `ip-request from ${requester}`)
      }
    }
    this.sendCluster(ipRequestRespMsg(requester, key, weown))
  }

  /** rc.d/ip-request-resp: takegroup. */
  private *ipRequestRespJob(key: string): JobGen<void> {
    const g = this.groups.find((x) => x.def.key === key)
    if (g === undefined) {
      this.log('error', `ip-request-resp for ${key}, which is no haresources key`)
      return
    }
    yield* takeGroup(this.opsHost, g, 'ip-request-resp')
  }

  /** process_resources() for `starting`, `resource` and (at comm-up) `shutdone`. */
  private processResources(t: string, msg: HaMessage, fromMe: boolean): void {
    this.shutdownIfNeeded()
    if (!this.nice) return
    let newState = this.resourceState
    if (this.firstProcess && this.restarting) {
      this.resourceState = newState = 'stable'
    }
    this.firstProcess = false

    if (t === 'starting' && !fromMe) {
      switch (this.resourceState) {
        case 'rscrcvd':
        case 'stable':
        case 'shutdown':
          break
        case 'starting':
          newState = 'bothstarting'
          this.foreignWorkDone = true
          this.announceTakeover('HB_R_BOTHSTARTING')
          break
        default:
          this.log('error', `Received 'starting' message in state ${this.resourceState}`)
          return
      }
      this.otherIsStable = false
      if (this.takeoverInProgress) this.log('warn', 'T_STARTING received during takeover.')
      this.sendResourcesHeld(this.resourceState === 'stable')
    }

    if (t === 'resource') {
      const word = getString(msg, 'rsc_hold')
      if (word === undefined) {
        this.log('error', 'resource message without rsc_hold field.')
        return
      }
      let n = rscBits(word)
      if (n === undefined) {
        this.log('error', `encode_resources: bad resource type [${word}]`)
        n = RSC_NONE
      }
      const full = getString(msg, 'rtype') === 'full'
      switch (this.resourceState) {
        case 'bothstarting':
        case 'starting':
          newState = 'rscrcvd'
          if (!this.auto) {
            this.foreignWorkDone = true
            this.announceTakeover('T_RESOURCES')
          }
          break
        case 'rscrcvd':
        case 'stable':
        case 'shutdown':
          break
        default:
          this.log('error', `resource message received in state ${this.resourceState}`)
          return
      }
      if (!fromMe) {
        this.otherHolds = updateBits(full, this.otherHolds, n)
        const stable = getString(msg, 'isstable')
        if (stable !== undefined) {
          if (stable === '1') {
            if (!this.otherIsStable) {
              this.log('info', 'remote resource transition completed.')
              this.otherIsStable = true
              this.sendResourcesHeld(this.resourceState === 'stable')
              this.performAutoFailback()
            }
          } else {
            this.otherIsStable = false
          }
        }
        if (this.resourceState !== 'stable' && this.resourceState !== 'shutdown' && this.otherIsStable) {
          this.log('info', 'remote resource transition completed.')
          this.reqOurResources(false)
          newState = 'stable'
          this.sendResourcesHeld(true)
          this.performAutoFailback()
          this.foreignWorkDone = true
          if (!this.auto && (this.otherHolds & RSC_FOREIGN) !== 0) this.localWorkDone = true
          this.announceTakeover('T_RESOURCES(them)')
        }
      } else {
        this.iHold = updateBits(full, this.iHold, n)
        if ((this.iHold & RSC_LOCAL) !== 0) {
          this.localWorkDone = true
          this.announceTakeover('T_RESOURCES(us)')
        }
        const info = getString(msg, 'info')
        if (info === 'mach_down') {
          this.log('info', 'mach_down takeover complete.')
          this.takeoverInProgress = false
          this.iHold = orBits(this.iHold, RSC_FOREIGN)
          this.rscNeedsFailback = true
          this.otherIsStable = true
          this.foreignWorkDone = true
          this.announceTakeover('mach_down')
        } else if (info === 'shutdown') {
          this.resourceState = newState = 'shutdown'
        }
      }
    }
    this.commitState(newState)
  }

  private commitState(newState: ResourceState): void {
    if (newState !== this.resourceState) this.log('debug', `STATE ${this.resourceState} => ${newState}`)
    this.resourceState = newState
    if (this.resourceState === 'rscrcvd' && this.localTakeoverAt === undefined) {
      this.localTakeoverAt = this.now + this.timers.rqstDelayMs
    }
    this.auditResources()
    this.shutdownIfNeeded()
  }

  private onShutdone(msg: HaMessage, src: string): void {
    const fromMe = src === this.me
    // "holds nothing now": a `resource` it sent before this one is stale from here on
    const peer = fromMe ? undefined : this.nodes.get(src)
    const s = stampOf(msg)
    if (peer !== undefined && s !== undefined && (peer.holdsStamp === undefined || olderThan(peer.holdsStamp, s))) peer.holdsStamp = s
    if (this.commUp && this.nice) {
      // process_resources(T_SHUTDONE)
      let newState = this.resourceState
      if (!fromMe) {
        this.otherIsStable = true
        this.otherHolds = RSC_NONE
        if (this.iHold !== RSC_ALL && !this.shutdownInProgress) {
          const rtype: RscBits = this.iHold === RSC_FOREIGN ? RSC_LOCAL : this.iHold === RSC_LOCAL ? RSC_FOREIGN : RSC_ALL
          // Take over resources immediately
          this.goingStandby = 'done'
          this.goStandby('other', rtype)
        }
      } else {
        this.resourceState = newState = 'shutdown'
        this.iHold = RSC_NONE
      }
      this.commitState(newState)
    }
    if (fromMe) {
      this.out.push({ type: 'shutdown-complete' })
      return
    }
    const node = this.nodes.get(src)
    if (node === undefined) return
    node.hasResources = false
    this.otherIsStable = false
    this.otherHolds = RSC_NONE
    this.log('info', `Received shutdown notice from '${node.name}'.`)
    this.takeoverFromNode(node)
  }

  /** AuditResources(): complaints only. */
  private auditResources(): void {
    if (!this.nice) return
    if ((this.iHold & RSC_LOCAL) !== 0 && (this.otherHolds & RSC_FOREIGN) !== 0) this.log('error', 'Both machines own our resources!')
    if ((this.otherHolds & RSC_LOCAL) !== 0 && (this.iHold & RSC_FOREIGN) !== 0) this.log('error', 'Both machines own foreign resources!')
    if (this.isStable() && !this.shutdownInProgress && this.resourceState !== 'shutdown') {
      if ((this.iHold & RSC_LOCAL) === 0 && (this.otherHolds & RSC_FOREIGN) === 0) this.log('error', 'No one owns our local resources!')
      if ((this.otherHolds & RSC_LOCAL) === 0 && (this.iHold & RSC_FOREIGN) === 0) this.log('error', 'No one owns foreign resources!')
    }
  }

  /** hb_rsc_isstable() */
  private isStable(): boolean {
    if (!this.nice) return !this.busy()
    if (this.shutdownInProgress && this.resourceState === 'init') return true
    return (
      this.otherIsStable &&
      !this.takeoverInProgress &&
      this.goingStandby === 'not' &&
      this.standbyRunningUntil === undefined &&
      !this.busy() &&
      (this.resourceState === 'stable' || this.resourceState === 'shutdown' || this.resourceState === 'init')
    )
  }

  // ---------------------------------------------------------------- standby

  /** hb_standby: send `ask_resources info=me` (our own copy then drives the protocol). */
  private localStandby(set: RscBits, label: string): void {
    this.log('info', `Going standby [${label}].`)
    this.sendCluster(askResourcesMsg(rscWord(set), 'me'))
  }

  /** PerformAutoFailback() */
  private performAutoFailback(): void {
    if (this.shutdownInProgress || (this.iHold & RSC_FOREIGN) === 0 || !this.rscNeedsFailback || !this.auto) {
      this.rscNeedsFailback = false
      this.shutdownIfNeeded()
      return
    }
    if (this.goingStandby !== 'not' || !this.otherIsStable || this.resourceState !== 'stable') {
      this.log('debug', 'Auto failback delayed.')
      this.autoFailbackAt = this.now + this.timers.autoFailbackRetryMs
      return
    }
    this.log('debug', 'Auto failback triggered.')
    this.standbyRsc = RSC_FOREIGN
    this.sendCluster(askResourcesMsg('foreign', 'me'))
    this.rscNeedsFailback = false
  }

  /** ask_for_resources(): the 3-phase standby protocol (§6.4). */
  private askForResources(msg: HaMessage, from: string): void {
    if (!this.nice) {
      this.log('info', 'Standby mode only implemented when nice_failback on')
      return
    }
    if (this.resourceState === 'shutdown') {
      this.log('debug', 'standby message ignored during shutdown')
      return
    }
    const info = getString(msg, 'info')
    const word = getString(msg, 'rsc_hold')
    let rtype: RscBits = RSC_ALL
    if (word !== undefined) {
      const b = rscBits(word)
      if (b === undefined) this.log('error', `encode_resources: bad resource type [${word}]`)
      rtype = b ?? RSC_NONE
    }
    if (info === undefined) {
      this.log('error', 'Received standby message without info/from')
      return
    }
    const fromMe = from === this.me
    const orig = this.goingStandby
    let ignored = false
    if (this.standbyRunningUntil !== undefined && this.now < this.standbyRunningUntil && info.toLowerCase() === 'me') {
      const secsLeft = Math.ceil((this.standbyRunningUntil - this.now) / 1000)
      this.log('warn', `Standby in progress- new request from ${from} ignored [${secsLeft} seconds left]`)
      return
    }
    switch (this.goingStandby) {
      case 'not':
        if (!this.otherIsStable) {
          this.log('warn', `standby message [${info}] from ${from} ignored.  Other side is in flux.`)
          return
        }
        if (this.resourceState !== 'stable') {
          this.log('warn', `standby message [${info}] from ${from} ignored.  local resources in flux.`)
          return
        }
        this.standbyRsc = rtype
        if (info.toLowerCase() === 'me') {
          this.otherIsStable = false
          this.log('info', `${from} wants to go standby [${rscWord(rtype)}]`)
          if (fromMe) {
            this.standbyRunningUntil = this.now + this.timers.standbyReplyMs
            this.goingStandby = 'me'
          } else {
            this.goingStandby = 'other'
            this.sendCluster(askResourcesMsg(rscWord(this.standbyRsc), 'other'))
            this.standbyRunningUntil = this.now + this.timers.standbyRscMs
          }
        } else {
          ignored = true
        }
        break
      case 'me':
        if (!fromMe) {
          this.standbyRsc = rtype
          this.standbyRunningUntil = this.now + this.timers.standbyRscMs
          if (info.toLowerCase() === 'other') {
            this.log('info', `standby: ${from} can take our ${rscWord(rtype)} resources`)
            this.goStandby('me', rtype)
          } else {
            ignored = true
          }
        } else if (info.toLowerCase() === 'done') {
          this.log('info', `Local standby process completed [${rscWord(rtype)}].`)
          this.goingStandby = 'done'
          this.iHold = clearBits(this.iHold, this.standbyRsc)
          this.standbyRunningUntil = this.now + this.timers.standbyRscMs
        } else {
          ignored = true
        }
        break
      case 'other':
        this.standbyRsc = rtype
        if (info.toLowerCase() === 'done') {
          this.standbyRunningUntil = this.now + this.timers.standbyRscMs
          if (!fromMe) {
            this.log('info', `standby: acquire [${rscWord(rtype)}] resources from ${from}`)
            this.goStandby('other', this.standbyRsc)
            this.goingStandby = 'done'
          } else {
            ignored = true
          }
        } else if (!fromMe || info.toLowerCase() !== 'other') {
          ignored = true
        }
        break
      case 'done':
        this.standbyRsc = rtype
        if (info === 'done') {
          this.standbyRunningUntil = undefined
          this.goingStandby = 'not'
          if (fromMe) {
            this.log('info', `Standby resource acquisition done [${rscWord(rtype)}].`)
            if (this.auto) {
              this.localWorkDone = true
              this.announceTakeover('auto_failback')
            }
            const rup: RscBits = rtype === RSC_LOCAL ? RSC_FOREIGN : rtype === RSC_FOREIGN ? RSC_LOCAL : rtype === RSC_ALL ? RSC_ALL : RSC_NONE
            this.iHold = orBits(this.iHold, rup)
          } else {
            this.log('info', `Other node completed standby takeover of ${rscWord(rtype)} resources.`)
          }
          this.sendResourcesHeld(true)
          this.goingStandby = 'not'
        } else {
          ignored = true
        }
        break
    }
    if (ignored) this.log('error', `Ignored standby message '${info}' from ${from} in state ${orig}`)
    this.shutdownIfNeeded()
  }

  /** go_standby(): give up (who = me) or acquire (who = other) a resource set in a child. */
  private goStandby(who: 'me' | 'other', set: RscBits): void {
    if (who === 'me') {
      this.otherIsStable = false
      this.iHold = clearBits(this.iHold, set)
      this.sendResourcesHeld(false, 'standby')
    }
    let act: RscBits
    switch (set) {
      case RSC_FOREIGN:
        act = who === 'me' ? RSC_FOREIGN : RSC_LOCAL
        break
      case RSC_LOCAL:
        act = who === 'me' ? RSC_LOCAL : RSC_FOREIGN
        break
      case RSC_ALL:
        act = RSC_ALL
        break
      default:
        this.log('error', `no resources to ${who === 'me' ? 'give up' : 'acquire'}`)
        return
    }
    this.enqueue('go_standby', 'child', this.goStandbyJob(who, act, this.standbyRsc))
  }

  private *goStandbyJob(who: 'me' | 'other', act: RscBits, rscAtFork: RscBits): JobGen<void> {
    const giving = who === 'me'
    this.log('info', `${giving ? 'give up' : 'acquire'} ${rscWord(act)} HA resources (standby).`)
    const keys = this.groups.filter((g) => act === RSC_ALL || (act === RSC_LOCAL ? g.local : !g.local))
    if (giving) {
      for (const g of keys) yield* giveGroup(this.opsHost, g, 'standby')
    } else {
      for (const g of keys) yield* takeGroup(this.opsHost, g, 'standby takeover')
    }
    this.log('info', `${rscWord(act)} HA resource ${giving ? 'release' : 'acquisition'} completed (standby).`)
    this.sendCluster(askResourcesMsg(rscWord(rscAtFork), 'done'))
  }

  // ---------------------------------------------------------------- shutdown

  private onShutdownRequest(): void {
    if (!this.commUp) {
      // Nothing can be held before comm-up: no agent ran and no peer was told anything.
      this.shutdownInProgress = true
      this.resourceShutdownStarted = true
      this.log('info', `Heartbeat shutdown in progress. (${this.pid ?? 0})`)
      this.out.push({ type: 'shutdown-complete' })
      return
    }
    this.giveupResources()
  }

  private shutdownIfNeeded(): void {
    if (this.rscNeedsShutdown) this.giveupResources()
  }

  /** hb_giveup_resources(): wait until stable, then release every group and send shutdone. */
  private giveupResources(): void {
    if (!this.isStable()) {
      if (!this.rscNeedsShutdown) {
        this.log('warn', 'Shutdown delayed until current resource activity finishes.')
        this.rscNeedsShutdown = true
      }
      return
    }
    this.rscNeedsShutdown = false
    this.shutdownInProgress = true
    if (this.resourceShutdownStarted) {
      this.log('info', 'Heartbeat shutdown already underway.')
      return
    }
    this.resourceShutdownStarted = true
    this.iHold = RSC_NONE
    this.resourceState = 'shutdown'
    if (this.nice) this.sendResourcesHeld(false, 'shutdown')
    this.log('info', `Heartbeat shutdown in progress. (${this.pid ?? 0})`)
    this.enqueue('hb_giveup_resources', 'child', this.giveupJob())
  }

  private *giveupJob(): JobGen<void> {
    this.log('info', 'Giving up all HA resources.')
    for (const g of this.groups) yield* giveGroup(this.opsHost, g, 'shutdown')
    this.log('info', 'All HA resources relinquished.')
    this.sendCluster(shutdoneMsg())
  }
}
