// One heartbeat node as a pure core: Membership + ResourceManager composed behind handle(event) →
// actions and nextDeadline(). The shell (run.ts) owns sockets, files, child processes and the one
// timer; the test kit drives this same class on virtual time. No clock reads, no timers here.
// How a life ends (release, final steps, waiting for agents) is life-phases.ts; who keeps a
// contested group after a healed partition or a split brain is partition-keeper.ts.

import type { Membership } from '../cluster/membership.js'
import type { MembershipAction, MembershipEnv, RestartReason } from '../cluster/actions.js'
import type { ResourceManager } from '../resources/resource-manager.js'
import type { RmAction, RmEvent, RmSnapshot } from '../resources/rm-types.js'
import { RSC_FOREIGN, RSC_LOCAL, RSC_NONE, rscWord, type RscWord } from '../resources/resource-sets.js'
import type { ResourceGroup } from '../config/haresources.js'
import { getString, type HaMessage } from '../wire/message.js'
import { formatHostcache } from '../cluster/hostcache.js'
import { deathTimingText, NodeHistory } from './node-history.js'
import { reloadVerdict } from './reload-verdict.js'
import { addressesNotStopped, addressesToAnnounce } from './split-brain.js'
import type { ResourceRef } from '../config/haresources.js'
import { PartitionKeeper } from './partition-keeper.js'
import { LifePhases } from './life-phases.js'
import type { PingNodes, PingStatusChange } from '../cluster/ping-nodes.js'
import type { Ipfail, IpfailAction } from '../resources/ipfail.js'
import { IPFAIL_MESSAGE_TYPES } from '../resources/ipfail.js'
import type { AgentResultEvent, CauseKind, CoreCounters, HistoryEvent, LogLevel, NodeAction, NodeCoreOptions, NodeEvent, NodeObserver, NodeSignal, NodeSnapshot, Phase, ReloadOutcome } from './node-core-types.js'

export * from './node-core-types.js'

export class NodeCore {
  private readonly membership: Membership
  private readonly rm: ResourceManager | undefined
  private readonly me: string
  private readonly observer: NodeObserver | undefined
  private readonly groups: readonly ResourceGroup[]
  /** Agents the core runs itself (re-announcements): negative ids, never the manager's. */
  private nextOwnAgentId = -1
  private debugLevel: number
  private loadavg: string
  /** Where this life is, and the agents it waits for before it ends. */
  private readonly life: LifePhases
  private membershipStopped = false
  /** A reload check is out with the shell: a second one is refused until it answers. */
  private reloadChecking = false
  /** Our own messages as membership handed them back, not yet heard by the resource manager. */
  private readonly ownHeard: HaMessage[] = []
  private hearingOwn = false
  /** Addresses given up by a yield after a split brain, announced for their holder once released. */
  private yieldedAddresses: ResourceRef[] = []

  /** Causes, group changes, deaths, agent runs and counters for hbctl events/status/metrics. */
  private readonly history: NodeHistory
  /** A healed partition or both directors running one group: who gives it up, and the re-announcements. */
  private readonly keeper: PartitionKeeper

  private readonly pingNodes: PingNodes | undefined
  private readonly ipfail: Ipfail | undefined

  private nowMs = 0
  private wallSec = 0
  private out: NodeAction[] = []

  constructor(o: NodeCoreOptions) {
    this.membership = o.membership
    this.rm = o.resources
    this.me = o.membership.snapshot().localNode
    this.observer = o.observer
    this.groups = o.groups ?? []
    this.debugLevel = o.debugLevel
    this.loadavg = o.loadavg ?? 'n/a'
    this.pingNodes = o.pingNodes
    this.ipfail = o.pingNodes !== undefined ? o.ipfail : undefined
    this.history = new NodeHistory((event) => this.out.push({ type: 'event', event }), o.resources?.snapshot())
    this.life = new LifePhases(
      {
        releaseResources: (then) => {
          // Only a yield (healed partition, split brain) ends a life in a restart that releases.
          if (this.rm) this.rmFeed(then.kind === 'restart' ? { type: 'shutdown', yielding: true } : { type: 'shutdown' })
          return this.rm !== undefined
        },
        sendStatus: () => this.membershipDo(this.membership.sendStatus(this.nowMs, this.env())),
        addDeadtime: (ms) => this.membershipDo(this.membership.addDeadtime(ms, this.nowMs, this.env())),
        stopMembership: () => this.stopMembership(),
        held: () => (this.rm ? heldAcrossRestart(this.rm.snapshot(), this.me) : undefined),
        releaseTailRunning: () => this.rm?.releaseTailRunning() === true,
        log: (level, text) => this.log(level, text),
        emit: (event) => this.emit(event),
        end: (end) => this.out.push({ type: 'end', end }),
      },
      o.pid,
      o.agentTimeoutMs,
    )
    this.keeper = new PartitionKeeper(
      {
        runningResources: () => (this.phase.kind === 'running' ? this.rm?.snapshot() : undefined),
        // Asked after every event (the split-brain watch): one name, not a snapshot of the whole table.
        firstNode: () => this.membership.firstNodeName()?.toLowerCase() === this.me,
        setCause: (kind, text) => this.setCause(kind, text),
        log: (level, text) => this.log(level, text),
        yieldAndRestart: (reason) => {
          // what we ran of the contested groups: the survivor keeps these addresses
          if (this.rm) this.yieldedAddresses = addressesNotStopped(this.groups, this.rm.snapshot())
          this.life.release({ kind: 'restart', reason })
        },
        reannounce: () => this.reannounce(),
        tellPeerWeKeep: () => {
          this.rmFeed({ type: 'kept-after-heal' })
        },
      },
      this.me,
    )
  }

  private get phase(): Phase {
    return this.life.phase
  }

  /** Process one event at monotonic `nowMs` (`wallSec`: time(2) for the `ts` field). */
  handle(event: NodeEvent, nowMs: number, wallSec: number): NodeAction[] {
    this.nowMs = nowMs
    this.wallSec = wallSec
    this.life.at(nowMs)
    this.out = []
    if (this.phase.kind !== 'ended') this.dispatch(event)
    this.keeper.check(this.nowMs)
    const out = this.out
    this.out = []
    return out
  }

  /** The exact time the next `timer` event is due; undefined when nothing is scheduled. */
  nextDeadline(): number | undefined {
    if (this.phase.kind === 'ended') return undefined
    let min: number | undefined
    const take = (t: number | undefined): void => {
      if (t !== undefined && (min === undefined || t < min)) min = t
    }
    if (!this.membershipStopped) take(this.membership.nextDeadline())
    if (this.rm && this.feedsResources()) take(this.rm.nextDeadline())
    else if (this.rm && this.feedsReleaseTail()) take(this.rm.jobDeadline())
    take(this.life.nextDeadline())
    take(this.keeper.nextDeadline())
    if (this.phase.kind === 'running') {
      take(this.pingNodes?.nextDeadline())
      take(this.ipfail?.nextDeadline())
    }
    return min
  }

  snapshot(): NodeSnapshot {
    return {
      membership: this.membership.snapshot(),
      resources: this.rm?.snapshot(),
      phase: this.phase.kind,
      runningAgents: this.life.runningAgents,
      debugLevel: this.debugLevel,
      groupCauses: this.history.causes(),
      pingNodes: this.pingNodes?.snapshot() ?? [],
    }
  }

  /** Counters for hbctl metrics (a copy). */
  coreCounters(): CoreCounters {
    return this.history.countersCopy()
  }

  /** auto_failback in force; undefined when resources are not managed. */
  resourceMode(): 'legacy' | 'on' | 'off' | undefined {
    return this.rm?.mode
  }

  // ---------------------------------------------------------------- events

  private setCause(kind: CauseKind, text: string): void {
    this.history.setCause(kind, text)
  }

  private emit(event: HistoryEvent): void {
    this.out.push({ type: 'event', event })
  }

  private dispatch(ev: NodeEvent): void {
    this.history.eventCause(ev)
    this.dispatchEvent(ev)
  }

  private dispatchEvent(ev: NodeEvent): void {
    switch (ev.type) {
      case 'start':
        this.membershipDo(this.membership.start(this.nowMs, this.env(), ev.warm === true))
        break
      case 'datagram':
        if (this.membershipStopped) return
        this.membershipDo(this.membership.receive(ev.msg, ev.link, this.nowMs, this.env()))
        this.onTimer()
        break
      case 'timer':
        this.onTimer()
        break
      case 'agent-result':
        this.onAgentResult(ev)
        break
      case 'stonith-result':
        this.history.stonithFinished(ev, this.nowMs)
        this.rmFeed(ev)
        break
      case 'fifo':
        this.onFifo(ev.msg)
        break
      case 'control':
        if (this.phase.kind !== 'running') {
          this.log('warn', `hbctl ${ev.request} ignored: heartbeat is ${this.phase.kind}`)
          return
        }
        this.emit({ kind: 'request', request: ev.request, by: 'hbctl' })
        this.rmFeed(ev.request === 'standby' ? { type: 'standby', ...(ev.arg !== undefined ? { arg: ev.arg } : {}) } : { type: 'takeover', ...(ev.arg !== undefined ? { arg: ev.arg } : {}) })
        break
      case 'signal':
        this.onSignal(ev.signal)
        break
      case 'reload':
        this.requestReload(ev.replyTo)
        break
      case 'reload-checked':
        this.onReloadChecked(ev.replyTo, ev.outcome)
        break
      case 'loadavg':
        this.loadavg = ev.value
        break
      case 'ping-reply':
        if (this.phase.kind !== 'running' || this.pingNodes === undefined) return
        this.onPingChanges(this.pingNodes.reply(ev.node, this.nowMs))
        break
    }
  }

  // ---------------------------------------------------------------- ping nodes and ipfail

  private onPingChanges(changes: readonly PingStatusChange[]): void {
    for (const c of changes) {
      const up = this.pingNodes?.upCount() ?? 0
      const total = this.pingNodes?.size ?? 0
      // 3.0.6 logs a ping node's status change like any node's.
      this.log('info', `Status update for node ${c.node}: status ${c.status} (${up} of ${total} ping nodes up)`)
      if (c.status === 'dead') this.emit({ kind: 'node-dead', node: c.node, silentMs: undefined, deadtimeMs: this.pingNodes?.deadMs ?? 0, links: [] })
      else if (c.status === 'ping') this.emit({ kind: 'node-back', node: c.node, status: c.status })
      if (this.ipfail !== undefined && c.status !== 'init' && !(c.previous === 'init' && c.status === 'dead')) {
        this.ipfailDo(this.ipfail.pingChanged(c.node, c.status, up, this.peerUp()))
      }
    }
  }

  /** The other node is up and past its join (status active): ipfail talks to it only then. */
  private peerUp(): boolean {
    return this.membership.snapshot().nodes.some((n) => !n.isSelf && n.status === 'active')
  }

  private resourcesStable(): boolean {
    const r = this.rm?.snapshot()
    return r !== undefined && r.rscstatus !== 'transition'
  }

  private ipfailDo(actions: readonly IpfailAction[]): void {
    for (const a of actions) {
      switch (a.type) {
        case 'send':
          if (this.phase.kind === 'running') this.sendUpper(a.msg)
          break
        case 'log':
          this.log(a.level, a.text)
          break
        case 'giveup':
          if (this.phase.kind !== 'running' || !this.rm) break
          this.log('info', `${a.text}: giving up ${a.what} resources (as hb_standby ${a.what}).`)
          this.emit({ kind: 'request', request: 'standby', by: 'ipfail' })
          this.rmFeed({ type: 'standby', arg: a.what })
          break
      }
    }
  }

  private onTimer(): void {
    const now = this.nowMs
    if (!this.membershipStopped) {
      const md = this.membership.nextDeadline()
      if (md !== undefined && md <= now) this.membershipDo(this.membership.tick(now, this.env()))
    }
    if (this.rm && this.feedsResources()) {
      const rd = this.rm.nextDeadline()
      if (rd !== undefined && rd <= now) this.rmDo(this.rm.tick(now))
    } else if (this.rm && this.feedsReleaseTail()) {
      const jd = this.rm.jobDeadline()
      if (jd !== undefined && jd <= now) this.rmDo(this.rm.tickJobs(now))
    }
    this.life.tick()
    if (this.phase.kind === 'running' && this.pingNodes !== undefined) {
      const pd = this.pingNodes.nextDeadline()
      if (pd !== undefined && pd <= now) this.onPingChanges(this.pingNodes.tick(now))
      const id = this.ipfail?.nextDeadline()
      if (this.ipfail !== undefined && id !== undefined && id <= now) this.ipfailDo(this.ipfail.tick(now, this.resourcesStable(), this.pingNodes.upCount()))
    }
  }

  private onSignal(signal: NodeSignal): void {
    switch (signal) {
      case 'TERM':
        this.life.shutdown()
        break
      case 'HUP':
        this.requestReload(undefined)
        break
      case 'USR1':
      case 'USR2':
        this.debugLevel = signal === 'USR1' ? Math.min(255, this.debugLevel + 1) : Math.max(0, this.debugLevel - 1)
        this.out.push({ type: 'set-debug', level: this.debugLevel })
        this.log('info', `debug now set to ${this.debugLevel}`)
        break
    }
  }

  private onFifo(msg: HaMessage): void {
    if (this.membershipStopped) return
    if (getString(msg, 't') === undefined) {
      this.log('warn', 'FIFO message without t= ignored')
      return
    }
    // Stamped and sent like any upper-layer message, then acted on as our own (§9.5).
    this.sendUpper(msg)
    const t = getString(msg, 't')
    if (t === 'hb_standby' || t === 'hb_takeover' || t === 'ask_resources') this.emit({ kind: 'request', request: t === 'hb_takeover' ? 'takeover' : 'standby', by: 'FIFO' })
    this.hearOwn()
  }

  private onAgentResult(ev: AgentResultEvent): void {
    if (!this.life.agentFinished(ev.id)) return // not ours, or given up on: a late answer changes nothing
    this.history.agentFinished(ev, this.nowMs)
    if (ev.id < 0) {
      // a re-announcement of our own: the manager never asked for it
      if (!ev.ok) this.log('warn', `re-announcement failed: ${ev.detail ?? 'exit ' + String(ev.exitCode ?? '?')}`)
      if (this.phase.kind === 'draining') this.life.checkDrained()
      return
    }
    // While the last phase drains before exit, membership has stopped: nothing could be announced.
    if (this.phase.kind === 'draining' && !this.feedsResources()) {
      if (this.rm && this.feedsReleaseTail()) this.rmDo(this.rm.handle(ev, this.nowMs))
      this.life.checkDrained()
      return
    }
    this.rmFeed(ev)
    if (this.phase.kind === 'draining') this.life.checkDrained()
  }

  // ---------------------------------------------------------------- restarts membership asks for, re-announcements

  private onRestartSelf(reason: RestartReason): void {
    if (this.phase.kind !== 'running') return
    if (reason === 'healed-partition' && this.rm) {
      // Decided when the heal was seen (PartitionKeeper.healed): the keeper stays in this generation.
      this.membership.restartDeclined()
      return
    }
    if (reason === 'healed-partition') this.setCause('healed-partition', 'healed partition')
    this.life.restartKeeping(reason, false)
  }

  /** A `start` of an address already up sends gratuitous ARP only (lib/agents/ipaddr-plan.ts). */
  private reannounce(): void {
    if (!this.rm) return
    for (const { group, index, resource } of addressesToAnnounce(this.groups, this.rm.snapshot())) {
      const id = this.nextOwnAgentId--
      this.life.agentStarted(id)
      this.history.agentStarted(id, { startMs: this.nowMs, group, resource: resource.text, op: 'start' })
      this.out.push({ type: 'run-agent', id, group, index, resource, op: 'start' })
    }
  }

  private hostcacheText(): string {
    const known = this.membership.snapshot().nodes.filter((n) => n.uuid !== undefined)
    return formatHostcache(known.map((n) => ({ name: n.name, uuid: Buffer.from(n.uuid ?? '', 'hex') })))
  }

  private stopMembership(): void {
    if (this.membershipStopped) return
    this.membershipStopped = true
    this.membership.stop()
  }

  // ---------------------------------------------------------------- reload

  private requestReload(replyTo: number | undefined): void {
    const refuse = (why: string): void => {
      this.log('warn', `Reload refused: ${why}.`)
      if (replyTo !== undefined) this.out.push({ type: 'reply', replyTo, ok: false, message: `Reload refused: ${why}.` })
    }
    if (this.phase.kind !== 'running') return refuse(`heartbeat is ${this.phase.kind === 'draining' ? 'restarting' : 'shutting down'}`)
    if (this.reloadChecking) return refuse('another reload is being checked')
    this.reloadChecking = true
    this.out.push({ type: 'check-reload', ...(replyTo !== undefined ? { replyTo } : {}) })
  }

  private onReloadChecked(replyTo: number | undefined, o: ReloadOutcome): void {
    this.reloadChecking = false
    this.emit({ kind: 'reload', outcome: o.kind, text: o.kind === 'applied' ? o.message : o.reason })
    const v = reloadVerdict(o, this.phase.kind === 'running')
    if (v.level !== undefined) this.log(v.level, v.message)
    if (replyTo !== undefined) this.out.push({ type: 'reply', replyTo, ok: v.ok, message: v.message })
    if (v.restartReason !== undefined) this.life.restartKeeping(v.restartReason, true)
  }

  // ---------------------------------------------------------------- routing

  private env(): MembershipEnv {
    return { wallSec: this.wallSec, loadavg: this.loadavg }
  }

  private log(level: LogLevel, text: string): void {
    this.out.push({ type: 'log', level, text })
  }

  /** The resource manager hears events while it may still act: not once the life is decided to end without it. */
  private feedsResources(): boolean {
    const p = this.phase
    if (p.kind === 'ended') return false
    if (p.kind === 'draining') return p.feedResults
    return !this.membershipStopped
  }

  /**
   * An exit's drain while the release job runs on past our shutdone (its lvs stop): that job alone
   * still hears its agents' results and its own timers; nothing else of the manager runs.
   */
  private feedsReleaseTail(): boolean {
    return this.phase.kind === 'draining' && !this.feedsResources() && this.rm?.releaseTailRunning() === true
  }

  private rmFeed(ev: RmEvent): void {
    if (!this.rm || !this.feedsResources()) return
    this.rmDo(this.rm.handle(ev, this.nowMs))
  }

  private rmDo(actions: readonly RmAction[]): void {
    this.rmDoActions(actions)
    this.hearOwn()
  }

  /**
   * The one way out for upper-layer messages, the manager's and the FIFO's. Membership stamps it,
   * hears it as heartbeat hears its own broadcast, and hands it back as a delivery from us, which
   * membershipDo queues for hearOwn.
   */
  private sendUpper(msg: HaMessage): void {
    const t = getString(msg, 't')
    if (this.membershipStopped) {
      this.log('error', `message t=${t ?? '?'} not sent: membership stopped`)
      return
    }
    const out = this.membership.send(msg, this.nowMs, this.env())
    if (this.observer?.sent) {
      const stamped = out.find((x) => x.type === 'transmit' && getString(x.msg, 't') === t)
      if (stamped?.type === 'transmit') this.observer.sent(stamped.msg, this.nowMs)
    }
    this.membershipDo(out)
  }

  /**
   * The manager hears our own messages once each, in send order, after the batch of actions that
   * sent them (3.0.6 acts on its own broadcast after the handler that sent it); what it sends in
   * answer is heard in turn. Then the group changes of it all are journaled.
   */
  private hearOwn(): void {
    if (!this.hearingOwn) {
      this.hearingOwn = true
      try {
        // without a manager (heartbeat -M) or past its last event, they are only let go
        for (let msg = this.ownHeard.shift(); msg !== undefined; msg = this.ownHeard.shift()) {
          if (this.rm && this.feedsResources()) this.rmDoActions(this.rm.handle({ type: 'own-message', msg }, this.nowMs))
        }
      } finally {
        this.hearingOwn = false
      }
    }
    if (this.rm) this.history.groupChanges(this.rm.snapshot())
    // ipfail's give-up that came due in a transition is asked again once resources are stable.
    if (this.ipfail !== undefined && this.phase.kind === 'running' && this.resourcesStable()) this.ipfailDo(this.ipfail.stable(this.pingNodes?.upCount() ?? 0))
  }

  private rmDoActions(actions: readonly RmAction[]): void {
    for (const a of actions) {
      switch (a.type) {
        case 'send':
          this.sendUpper(a.msg)
          break
        case 'log':
          this.log(a.level, a.text)
          break
        case 'stop-failed':
          this.log('crit', `Resource STOP failure: ${a.resource} of group ${a.group} would not stop`)
          break
        case 'run-agent':
          this.life.agentStarted(a.id)
          this.history.agentStarted(a.id, { startMs: this.nowMs, group: a.group, resource: a.resource.text, op: a.op })
          this.out.push(a)
          break
        case 'cancel-agent':
          this.out.push(a)
          break
        case 'peer-gave-up':
          // Clients may still have the peer's MAC for the address: say ours again.
          if (this.phase.kind === 'running') this.reannounce()
          break
        case 'run-stonith':
          this.history.stonithStarted(a.id, a.node, a.device.type, this.nowMs)
          this.out.push(a)
          break
        case 'shutdown-complete':
          if (this.yieldedAddresses.length > 0) this.out.push({ type: 'announce-for-holder', resources: this.yieldedAddresses })
          this.yieldedAddresses = []
          this.life.resourcesReleased()
          break
      }
    }
  }

  private membershipDo(actions: readonly MembershipAction[]): void {
    for (const a of actions) {
      switch (a.type) {
        case 'transmit':
          this.out.push({ type: 'transmit', msg: a.msg })
          break
        case 'log':
          this.log(a.level, a.text)
          break
        case 'node-status':
          if (a.status === 'dead' && this.debugLevel > 0) this.log('debug', deathTimingText(this.membership.snapshot(), a.node, this.nowMs))
          if (a.node !== this.me) this.history.nodeStatus(a.node, a.status, a.previous, this.membership.snapshot(), this.nowMs)
          this.rmFeed({ type: 'node-status', node: a.node, status: a.status })
          // ipfail compares counts when the other side (re)joins.
          if (this.ipfail !== undefined && a.node !== this.me && (a.status === 'active' || a.status === 'up') && (a.previous === 'dead' || a.previous === 'init') && this.phase.kind === 'running') {
            this.ipfail.peerJoined(this.nowMs)
          }
          // A dead peer may have been announcing our addresses too (a one-way loss, a heal in progress):
          // what we already run gets no takeover and so no ARP; say it again, or clients keep its MAC.
          if (a.status === 'dead' && a.node !== this.me && this.phase.kind === 'running') this.reannounce()
          break
        case 'node-restart':
          this.rmFeed({ type: 'node-restarted', node: a.node })
          if (a.node !== this.me) this.keeper.peerLetGo(this.nowMs)
          break
        case 'comm-up':
          this.rmFeed({ type: 'comm-up' })
          // comm_now_up starts the client children (unless a shutdown is under way)
          if (this.phase.kind === 'running') this.out.push({ type: 'comm-up' })
          break
        case 'deliver':
          // Our own message, heard as it was sent (membership's loopback, no link): for hearOwn.
          // A copy of ours from the wire is not heard twice.
          if (a.from === this.me) {
            if (a.link === undefined) this.ownHeard.push(a.msg)
            break
          }
          this.history.peerRequest(a.from, a.msg)
          this.observer?.delivered?.(a.msg, this.nowMs)
          this.rmFeed({ type: 'message', msg: a.msg })
          if (this.ipfail !== undefined && this.phase.kind === 'running' && IPFAIL_MESSAGE_TYPES.includes(getString(a.msg, 't') ?? '')) {
            this.ipfailDo(this.ipfail.message(a.msg, this.pingNodes?.upCount() ?? 0, this.resourcesStable(), this.nowMs))
          }
          if (getString(a.msg, 't') === 'shutdone') this.keeper.peerLetGo(this.nowMs)
          break
        case 'link-status':
          this.history.link(a.node, a.link, a.status)
          break
        case 'uuid-learned':
          // hb_uuid.c rewrites the host cache whenever it learns a uuid: the next life knows it.
          this.out.push({ type: 'write-state', file: 'hostcache', text: this.hostcacheText() })
          break
        case 'partition-healed':
          this.keeper.healed(this.nowMs)
          break
        case 'restart-self':
          this.onRestartSelf(a.reason)
          break
      }
    }
  }
}

/**
 * What the next life keeps after an in-process restart. nice_failback's i_hold is kept up to date;
 * legacy never sets it (3.0.6 restarts with no -C at all), so there every group we hold says it,
 * one still stopping (a stop retry pending) included: otherwise the new life believes it holds
 * nothing, and a TERM would exit leaving the address up.
 */
function heldAcrossRestart(s: RmSnapshot, me: string): RscWord {
  if (s.mode !== 'legacy') return s.iHold
  let bits = RSC_NONE
  for (const g of s.groups) {
    if (g.holder !== me) continue
    bits |= g.node.toLowerCase() === me ? RSC_LOCAL : RSC_FOREIGN
  }
  return rscWord(bits)
}
