// One heartbeat node as a pure core: Membership + ResourceManager composed behind handle(event) →
// actions and nextDeadline(). The shell (run.ts) owns sockets, files, child processes and the one
// timer; the test kit drives this same class on virtual time. No clock reads, no timers here.

import type { Membership } from '../cluster/membership.js'
import type { MembershipAction, MembershipEnv, RestartReason } from '../cluster/actions.js'
import type { ResourceManager } from '../resources/resource-manager.js'
import type { RmAction, RmEvent } from '../resources/rm-types.js'
import type { ResourceGroup } from '../config/haresources.js'
import { getString, type HaMessage } from '../wire/message.js'
import { deathTimingText, NodeHistory } from './node-history.js'
import { reloadVerdict } from './reload-verdict.js'
import { addressesToAnnounce, runsGroup, SplitBrainWatch, yieldsContested } from './split-brain.js'
import {
  AGENT_RESULT_GRACE_MS,
  FINAL_PHASE_STEP_MS,
  RESTART_EXTRA_DEADTIME_MS,
  type AgentResultEvent,
  type CauseKind,
  type CoreCounters,
  type HistoryEvent,
  type LifeEnd,
  type LogLevel,
  type NodeAction,
  type NodeCoreOptions,
  type NodeEvent,
  type NodeObserver,
  type NodeSignal,
  type NodeSnapshot,
  type Phase,
  type Then,
  type ReloadOutcome,
} from './node-core-types.js'

export * from './node-core-types.js'

export class NodeCore {
  private readonly membership: Membership
  private readonly rm: ResourceManager | undefined
  private readonly me: string
  private readonly pid: number
  private readonly agentTimeoutMs: number
  private readonly observer: NodeObserver | undefined
  private readonly groups: readonly ResourceGroup[]
  /** Agents the core runs itself (re-announcements): negative ids, never the manager's. */
  private nextOwnAgentId = -1
  private debugLevel: number
  private loadavg: string
  private phase: Phase = { kind: 'running' }
  private membershipStopped = false
  /** Agents started and not yet answered: id → the time past which we stop waiting for it. */
  private readonly agents = new Map<number, number>()
  /** A reload check is out with the shell: a second one is refused until it answers. */
  private reloadChecking = false

  /** Causes, group changes, deaths, agent runs and counters for hbctl events/status/metrics. */
  private readonly history: NodeHistory
  /** Both directors running one group: who gives it up, and the re-announcement after. */
  private readonly splitBrain = new SplitBrainWatch()

  private nowMs = 0
  private wallSec = 0
  private out: NodeAction[] = []

  constructor(o: NodeCoreOptions) {
    this.membership = o.membership
    this.rm = o.resources
    this.me = o.membership.snapshot().localNode
    this.pid = o.pid
    this.agentTimeoutMs = o.agentTimeoutMs
    this.observer = o.observer
    this.groups = o.groups ?? []
    this.debugLevel = o.debugLevel
    this.loadavg = o.loadavg ?? 'n/a'
    this.history = new NodeHistory((event) => this.out.push({ type: 'event', event }), o.resources?.snapshot())
  }

  /** Process one event at monotonic `nowMs` (`wallSec`: time(2) for the `ts` field). */
  handle(event: NodeEvent, nowMs: number, wallSec: number): NodeAction[] {
    this.nowMs = nowMs
    this.wallSec = wallSec
    this.out = []
    if (this.phase.kind !== 'ended') this.dispatch(event)
    this.watchSplitBrain()
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
    if (this.phase.kind === 'final') take(this.phase.atMs)
    if (this.phase.kind === 'draining') take(this.drainDeadline())
    if (this.phase.kind === 'running' && this.rm) take(this.splitBrain.nextDeadline())
    return min
  }

  snapshot(): NodeSnapshot {
    return {
      membership: this.membership.snapshot(),
      resources: this.rm?.snapshot(),
      phase: this.phase.kind,
      runningAgents: this.agents.size,
      debugLevel: this.debugLevel,
      groupCauses: this.history.causes(),
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
        this.membershipDo(this.membership.start(this.nowMs, this.env()))
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
    }
    if (this.phase.kind === 'final' && this.phase.atMs <= now) this.finalStep(this.phase)
    if (this.phase.kind === 'draining') this.checkDrained()
  }

  private onSignal(signal: NodeSignal): void {
    switch (signal) {
      case 'TERM':
        this.beginShutdown()
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
    // Stamped and sent like any upper-layer message, then acted on as our own, as heartbeat hears
    // its own (§9.5). The manager loops back only what it sent itself.
    this.membershipDo(this.membership.send(msg, this.nowMs, this.env()))
    const t = getString(msg, 't')
    if (t === 'hb_standby' || t === 'hb_takeover' || t === 'ask_resources') this.emit({ kind: 'request', request: t === 'hb_takeover' ? 'takeover' : 'standby', by: 'FIFO' })
    this.rmFeed({ type: 'own-message', msg })
  }

  private onAgentResult(ev: AgentResultEvent): void {
    if (!this.agents.delete(ev.id)) return // not ours, or given up on: a late answer changes nothing
    this.history.agentFinished(ev, this.nowMs)
    if (ev.id < 0) {
      // a re-announcement of our own: the manager never asked for it
      if (!ev.ok) this.log('warn', `re-announcement failed: ${ev.detail ?? 'exit ' + String(ev.exitCode ?? '?')}`)
      if (this.phase.kind === 'draining') this.checkDrained()
      return
    }
    // While the last phase drains before exit, membership has stopped: nothing could be announced.
    if (this.phase.kind === 'draining' && !this.phase.feedResults) {
      this.checkDrained()
      return
    }
    this.rmFeed(ev)
    if (this.phase.kind === 'draining') this.checkDrained()
  }

  // ---------------------------------------------------------------- shutdown and restart

  private beginShutdown(): void {
    const p = this.phase
    if ((p.kind === 'releasing' || p.kind === 'final') && p.then.kind === 'restart') {
      // giving up for a restart already: exit instead of starting again
      this.log('info', `Heartbeat shutdown in progress. (${this.pid})`)
      p.then = { kind: 'exit' }
      return
    }
    if (p.kind !== 'running') {
      this.log('warn', 'Second shutdown request: exiting now.')
      this.endNow({ kind: 'exit', code: 0 })
      return
    }
    this.log('info', `Heartbeat shutdown in progress. (${this.pid})`)
    this.release({ kind: 'exit' })
  }

  /** Give every resource up (the manager sends `shutdone` when done), then the final phases. */
  private release(then: Then): void {
    this.phase = { kind: 'releasing', then }
    if (this.rm) this.rmFeed({ type: 'shutdown' })
    else this.enterFinal(then)
  }

  private enterFinal(then: Then): void {
    this.phase = { kind: 'final', step: 1, atMs: this.nowMs + FINAL_PHASE_STEP_MS, then }
  }

  private finalStep(p: Extract<Phase, { kind: 'final' }>): void {
    if (p.step === 1) {
      this.membershipDo(this.membership.sendStatus(this.nowMs, this.env()))
      this.phase = { kind: 'final', step: 2, atMs: this.nowMs + FINAL_PHASE_STEP_MS, then: p.then }
      return
    }
    this.stopMembership()
    const end: LifeEnd = p.then.kind === 'exit' ? { kind: 'exit', code: 0 } : { kind: 'restart', held: undefined, reason: p.then.reason, prepared: false }
    this.drainThen(end, false)
  }

  /** A restart that keeps what we hold (a changed ha.cf, a stalled local heartbeat). */
  private restartKeeping(reason: string, prepared: boolean): void {
    this.log('info', `Restarting heartbeat (${reason}).`)
    // hb_mcp_final_shutdown before a restart: hb_add_deadtime(30000), a status with deadtime + 30 s,
    // so peers wait for the new generation instead of declaring us dead.
    this.membershipDo(this.membership.addDeadtime(RESTART_EXTRA_DEADTIME_MS, this.nowMs, this.env()))
    // `held` is read when the last agent has answered, so the new life holds what we really hold.
    this.drainThen({ kind: 'restart', held: undefined, reason, prepared }, true)
  }

  private onRestartSelf(reason: RestartReason): void {
    if (this.phase.kind !== 'running') return
    if (reason === 'healed-partition' && this.rm) {
      // Decided when the heal was seen (onHealedPartition): the keeper stays in this generation.
      this.membership.restartDeclined()
      return
    }
    if (reason === 'healed-partition') this.setCause('healed-partition', 'healed partition')
    this.restartKeeping(reason, false)
  }

  /** A partition healed: exactly one side keeps each group, decided at once on a rule both sides share. */
  private onHealedPartition(): void {
    if (this.phase.kind !== 'running' || !this.rm) return
    this.setCause('healed-partition', 'healed partition')
    const s = this.rm.snapshot()
    if (yieldsContested(runsGroup(s, this.me, false), runsGroup(s, this.me, true), this.isFirstNode())) {
      // 3.0.6 CauseShutdownRestart: give the resources up and restart; the start-up arbitration
      // then leaves them with the peer, which keeps what it runs.
      this.log('warn', 'Healed partition: we run a group the peer also ran; giving up our resources and restarting.')
      this.release({ kind: 'restart', reason: 'healed-partition' })
      return
    }
    // Stronger than 3.0.6, where both sides give everything up and nobody holds the address until
    // the start-up arbitration ends: the keeper stays in this generation, says so to the LAN again
    // now, and once more when the peer has let its copy go.
    this.log('warn', 'Healed partition: keeping our resources; re-announcing their addresses.')
    this.reannounce()
    this.splitBrain.armReannounce(this.nowMs)
  }

  private isFirstNode(): boolean {
    return this.membership.snapshot().nodes[0]?.name.toLowerCase() === this.me
  }

  /** After every event: a clash seen for longer than its grace is settled here (see split-brain.ts). */
  private watchSplitBrain(): void {
    if (this.phase.kind !== 'running' || !this.rm) return
    const verdict = this.splitBrain.check(this.rm.snapshot(), this.nowMs, this.isFirstNode())
    if (verdict.kind === 'none') return
    this.setCause('healed-partition', 'split brain')
    this.log('warn', verdict.text)
    if (verdict.kind === 'yield') this.release({ kind: 'restart', reason: 'split-brain' })
  }

  /** The peer gave up what it ran (its shutdone, or its new generation): re-announce what we kept. */
  private onPeerLetGo(): void {
    if (this.phase.kind !== 'running' || !this.splitBrain.peerLetGo(this.nowMs)) return
    this.log('info', 'The peer let go of the group(s) we both ran: re-announcing their addresses.')
    this.reannounce()
  }

  /** A `start` of an address already up sends gratuitous ARP only (lib/agents/ipaddr-plan.ts). */
  private reannounce(): void {
    if (!this.rm) return
    for (const { group, index, resource } of addressesToAnnounce(this.groups, this.rm.snapshot())) {
      const id = this.nextOwnAgentId--
      this.agents.set(id, this.nowMs + this.agentTimeoutMs + AGENT_RESULT_GRACE_MS)
      this.history.agentStarted(id, { startMs: this.nowMs, group, resource: resource.text, op: 'start' })
      this.out.push({ type: 'run-agent', id, group, index, resource, op: 'start' })
    }
  }

  /**
   * The end is decided; agents still running are awaited, each at most until its timeout (plus the
   * runner's grace), so no result is lost and a restart keeps exactly what we hold.
   */
  private drainThen(end: LifeEnd, feedResults: boolean): void {
    this.phase = { kind: 'draining', end, feedResults }
    if (this.agents.size > 0) this.log('info', `Waiting for ${this.agents.size} running resource agent(s) before ${end.kind === 'exit' ? 'exiting' : 'restarting'}.`)
    this.checkDrained()
  }

  private drainDeadline(): number | undefined {
    let max: number | undefined
    for (const d of this.agents.values()) if (max === undefined || d > max) max = d
    return max
  }

  private checkDrained(): void {
    if (this.phase.kind !== 'draining') return
    const deadline = this.drainDeadline()
    if (deadline !== undefined && deadline > this.nowMs) return
    if (this.agents.size > 0) this.log('error', `${this.agents.size} resource agent(s) did not answer within their timeout; going on without their results.`)
    this.agents.clear()
    const end = this.phase.end
    if (end.kind === 'restart' && this.phase.feedResults) {
      this.endNow({ ...end, held: this.rm?.snapshot().iHold })
      return
    }
    this.endNow(end)
  }

  private endNow(end: LifeEnd): void {
    if (end.kind === 'exit') this.emit({ kind: 'shutdown', text: `heartbeat exits (code ${end.code})` })
    this.stopMembership()
    this.phase = { kind: 'ended' }
    this.out.push({ type: 'end', end })
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
    if (v.restartReason !== undefined) this.restartKeeping(v.restartReason, true)
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

  private rmFeed(ev: RmEvent): void {
    if (!this.rm || !this.feedsResources()) return
    this.rmDo(this.rm.handle(ev, this.nowMs))
  }

  private rmDo(actions: readonly RmAction[]): void {
    this.rmDoActions(actions)
    if (this.rm) this.history.groupChanges(this.rm.snapshot())
  }

  private rmDoActions(actions: readonly RmAction[]): void {
    for (const a of actions) {
      switch (a.type) {
        case 'send': {
          if (this.membershipStopped) {
            this.log('error', `message t=${getString(a.msg, 't') ?? '?'} not sent: membership stopped`)
            break
          }
          const out = this.membership.send(a.msg, this.nowMs, this.env())
          if (this.observer?.sent) {
            const t = getString(a.msg, 't')
            const stamped = out.find((x) => x.type === 'transmit' && getString(x.msg, 't') === t)
            if (stamped?.type === 'transmit') this.observer.sent(stamped.msg, this.nowMs)
          }
          this.membershipDo(out)
          break
        }
        case 'log':
          this.log(a.level, a.text)
          break
        case 'stop-failed':
          this.log('crit', `Resource STOP failure: ${a.resource} of group ${a.group} would not stop`)
          break
        case 'run-agent':
          this.agents.set(a.id, this.nowMs + this.agentTimeoutMs + AGENT_RESULT_GRACE_MS)
          this.history.agentStarted(a.id, { startMs: this.nowMs, group: a.group, resource: a.resource.text, op: a.op })
          this.out.push(a)
          break
        case 'run-stonith':
          this.out.push(a)
          break
        case 'shutdown-complete':
          if (this.phase.kind === 'releasing') this.enterFinal(this.phase.then)
          else if (this.phase.kind === 'running') this.enterFinal({ kind: 'exit' })
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
          // A dead peer may have been announcing our addresses too (a one-way loss, a heal in progress):
          // what we already run gets no takeover and so no ARP; say it again, or clients keep its MAC.
          if (a.status === 'dead' && a.node !== this.me && this.phase.kind === 'running') this.reannounce()
          break
        case 'node-restart':
          this.rmFeed({ type: 'node-restarted', node: a.node })
          if (a.node !== this.me) this.onPeerLetGo()
          break
        case 'comm-up':
          this.rmFeed({ type: 'comm-up' })
          break
        case 'deliver':
          // Our own messages: the manager acts on what it sent itself, and FIFO messages are fed
          // in by onFifo, so membership's copy of them is not handed on again.
          if (a.from === this.me) break
          this.history.peerRequest(a.from, a.msg)
          this.observer?.delivered?.(a.msg, this.nowMs)
          this.rmFeed({ type: 'message', msg: a.msg })
          if (getString(a.msg, 't') === 'shutdone') this.onPeerLetGo()
          break
        case 'link-status':
          this.history.link(a.node, a.link, a.status)
          break
        case 'uuid-learned':
          break
        case 'partition-healed':
          this.onHealedPartition()
          break
        case 'restart-self':
          this.onRestartSelf(a.reason)
          break
      }
    }
  }
}
