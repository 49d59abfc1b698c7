// The membership core (sans-I/O): heartbeat 3.0.6's node table, liveness, reliable delivery and comm-up, driven by `now`.
// What it sends is outbox.ts; the callbacks for its own message types (status, acks, reqnodes …) are message-handlers.ts.
import { getBinary, getString, type HaMessage } from '../wire/message.js'
import type { MembershipAction, MembershipEnv, RestartReason } from './actions.js'
import { AdvertisedDeadtime } from './advertised-deadtime.js'
import { CoreOutput } from './core-output.js'
import { earliest, forgetDeadNode, linkTimeoutMs, nodeDeadlineMs, upLinkDeadlines, type LivenessView } from './liveness.js'
import { assertMembershipConfig, type MembershipConfig } from './membership-config.js'
import { NodeTable, type NodeEntry } from './node-table.js'
import { JoinHandshake, type JoinStep } from './join-handshake.js'
import { Outbox } from './outbox.js'
import { MessageHandlers } from './message-handlers.js'
import { statusMessage, T_STATUS } from './protocol-messages.js'
import { filterMessage, type CheckedMessage } from './receive-filter.js'
import { buildSnapshot, newCounters, type MembershipSnapshot } from './membership-snapshot.js'
import { checkHeader } from './message-header.js'

/** hb_add_deadtime(2000) at start, popped after 5 s (master_control_process). */
const STARTUP_EXTRA_DEADTIME_MS = 2000
const STARTUP_POP_DEADTIME_AFTER_MS = 5000
/** Release-1: CauseShutdownRestart 2 s after a healed partition. */
const HEALED_PARTITION_RESTART_MS = 2000

export type { CommState, LinkSnapshot, MembershipCounters, MembershipSnapshot, NodeSnapshot } from './membership-snapshot.js'
export type { CommPhase } from './join-handshake.js'

export class Membership {
  private readonly cfg: MembershipConfig
  private readonly table: NodeTable
  private readonly self: NodeEntry
  private readonly outbox: Outbox
  private readonly handlers: MessageHandlers
  private readonly join = new JoinHandshake()
  private readonly out = new CoreOutput()

  private running = false
  private startMs = 0
  private localStatus = 'init'
  private readonly advertisedDead: AdvertisedDeadtime
  private flowControl = true
  private restartRequested = false

  private nextStatusMs: number | undefined
  private popDeadtimeMs: number | undefined
  private restartSelfMs: number | undefined

  private readonly counters = newCounters()
  /** Peers' messages kept as news: the wire layer learns from it which sender addresses are genuine. */
  private keptFromPeers = 0

  constructor(config: MembershipConfig) {
    assertMembershipConfig(config)
    this.cfg = config
    this.advertisedDead = new AdvertisedDeadtime(config.deadtimeMs)
    this.table = new NodeTable(config.localNode, config.linkNames, config.deadtimeMs, config.random)
    for (const name of config.nodes) {
      this.table.add(name, name === config.localNode ? config.uuid : config.knownUuids?.get(name))
    }
    const self = this.table.byName(config.localNode)
    if (!self) throw new Error('unreachable: local node missing from table')
    this.self = self
    const id = {
      node: config.localNode,
      uuid: config.uuid,
      generation: config.generation,
      ttl: config.hopfudge + config.nodes.length + (config.pingNodeCount ?? 0),
    }
    this.outbox = new Outbox({
      config,
      id,
      table: this.table,
      counters: this.counters,
      output: this.out,
      flowControl: () => this.flowControl,
      loopback: (stamped) => this.processClusterMessage(stamped, undefined),
    })
    this.handlers = new MessageHandlers({
      config,
      table: this.table,
      self,
      counters: this.counters,
      output: this.out,
      outbox: this.outbox,
      join: this.join,
      flowControl: () => this.flowControl,
      flowControlOff: () => (this.flowControl = false),
      doJoinSteps: (steps) => this.doJoinSteps(steps),
    })
  }

  // ---------------------------------------------------------------- public API

  /**
   * Start sending: status init (dt = deadtime+2 s), then up, up; keepalive and initdead timers begin now.
   * `warm`: a life that follows an in-process restart of a running daemon (a reload). Nothing is slow to
   * start there, so it advertises the plain deadtime at once: 3.0.6's 2 s start-up margin would let a
   * crash in the new life's first 5 s go unseen for deadtime + 2 s while it holds the address.
   */
  start(now: number, env: MembershipEnv, warm = false): MembershipAction[] {
    return this.out.run(now, env, () => {
      if (this.running) return
      this.running = true
      this.startMs = now
      for (const n of this.table.nodes) n.lastStatusMs = now
      this.outbox.copies.start(now)
      if (warm) this.sendLocalStatus()
      else {
        this.addDeadtimeInner(STARTUP_EXTRA_DEADTIME_MS)
        this.popDeadtimeMs = now + STARTUP_POP_DEADTIME_AFTER_MS
      }
      this.setLocalStatus('up')
      this.sendLocalStatus()
      this.nextStatusMs = now + this.cfg.keepaliveMs
    })
  }

  /** How many peers' messages passed every replay, generation and sequence check so far. */
  keptMessages(): number {
    return this.keptFromPeers
  }

  /** An authenticated, decoded message that arrived on medium `link`. */
  receive(msg: HaMessage, link: string, now: number, env: MembershipEnv): MembershipAction[] {
    return this.out.run(now, env, () => {
      if (!this.running) return
      this.counters.received++
      this.processClusterMessage(msg, link)
    })
  }

  /** An upper-layer message (resources, FIFO): stamped, sequenced, kept for retransmission, looped back. */
  send(msg: HaMessage, now: number, env: MembershipEnv): MembershipAction[] {
    return this.out.run(now, env, () => {
      if (!this.running) {
        this.out.log('error', `send_cluster_msg: not running, message ${JSON.stringify(getString(msg, 't') ?? '')} not sent`)
        return
      }
      if (getString(msg, 't') === undefined) {
        this.out.log('error', 'send_cluster_msg: message without t (type) field not sent')
        return
      }
      this.outbox.send(msg)
    })
  }

  /** Timers due at `now`: deaths, link timeouts, keepalive, deadtime pop, reqnodes, rexmit requests, restart. */
  tick(now: number, env: MembershipEnv): MembershipAction[] {
    return this.out.run(now, env, () => {
      if (!this.running) return
      this.out.flushComplaints()
      this.checkTimeouts()
      this.checkLinksUp()
      if (this.popDeadtimeMs !== undefined && now >= this.popDeadtimeMs) {
        this.popDeadtimeMs = undefined
        this.popDeadtimeInner()
      }
      if (this.nextStatusMs !== undefined && now >= this.nextStatusMs) {
        this.sendLocalStatus()
        this.nextStatusMs += this.cfg.keepaliveMs
        if (this.nextStatusMs <= now) this.nextStatusMs = now + this.cfg.keepaliveMs
      }
      // after the keepalive: a status sent just now has already superseded the older copies
      this.outbox.sendDueStatusCopy()
      this.doJoinSteps(this.join.tick(this.table.nodes, now))
      this.outbox.sendDueRexmitRequests()
      if (this.restartSelfMs !== undefined && now >= this.restartSelfMs) {
        this.restartSelfMs = undefined
        this.requestRestart('healed-partition', 'A cluster partition healed: heartbeat 3.0.6 restarts here; deciding who keeps the resources.')
      }
    })
  }

  /** The exact time tick() must next run; undefined when nothing is scheduled (stopped). */
  nextDeadline(): number | undefined {
    if (!this.running) return undefined
    return earliest([
      this.nextStatusMs,
      this.popDeadtimeMs,
      this.join.nextDueMs(),
      this.restartSelfMs,
      this.outbox.nextDueMs(),
      this.out.complaintsDueMs(),
      ...this.table.nodes.map((n) => this.nodeDeadline(n)),
      ...upLinkDeadlines(this.table.nodes, linkTimeoutMs(this.table.nodes, this.liveness())).map((l) => l.atMs),
    ])
  }

  /** Send our status now (shutdown phases send one at each step). */
  sendStatus(now: number, env: MembershipEnv): MembershipAction[] {
    return this.out.run(now, env, () => {
      if (this.running) this.sendLocalStatus()
    })
  }

  /** hb_add_deadtime: advertise deadtime+increment (e.g. 30000 before a restart) until popDeadtime. */
  addDeadtime(incrementMs: number, now: number, env: MembershipEnv): MembershipAction[] {
    return this.out.run(now, env, () => {
      if (this.running) this.addDeadtimeInner(incrementMs)
    })
  }

  /** hb_pop_deadtime: back to the plain deadtime once every addDeadtime has been popped. */
  popDeadtime(now: number, env: MembershipEnv): MembershipAction[] {
    return this.out.run(now, env, () => {
      if (this.running) this.popDeadtimeInner()
    })
  }

  /**
   * The node decided not to restart after a healed partition (it keeps its resources and stays in
   * this generation): liveness checks of our own status resume, and a later heal may ask again.
   */
  restartDeclined(): void {
    this.restartRequested = false
  }

  /** Stop everything (last shutdown phase): no more timers, sends or receives. */
  stop(): void {
    this.running = false
    this.nextStatusMs = this.popDeadtimeMs = this.restartSelfMs = undefined
    this.outbox.copies.stop()
  }

  /** The first node of the table (snapshot().nodes[0].name) without copying the table: asked after every event. */
  firstNodeName(): string | undefined {
    return this.table.nodes[0]?.name
  }

  snapshot(): MembershipSnapshot {
    return buildSnapshot({
      localNode: this.cfg.localNode,
      localStatus: this.localStatus,
      generation: this.cfg.generation,
      join: this.join,
      flowControl: this.flowControl,
      advertisedDeadtimeMs: this.advertisedDead.ms,
      statusCopiesActive: this.outbox.copies.active(this.now),
      lastSentSeq: this.outbox.lastSentSeq,
      ackedSeq: this.outbox.history.ackSeq,
      nodes: this.table.nodes,
      deadlineOf: (n) => this.nodeDeadline(n),
      counters: this.counters,
    })
  }

  // ---------------------------------------------------------------- plumbing

  private get now(): number {
    return this.out.now
  }

  // ---------------------------------------------------------------- our status, comm-up, restart

  private sendLocalStatus(): void {
    this.outbox.sendStatus(statusMessage(this.localStatus, this.advertisedDead.ms, this.flowControl))
  }

  /**
   * A peer incarnation's first status (a start, a restart, a return after death) reached us while we are
   * up and may hold resources: our status goes out now, ahead of our ack or repnodes to it. The peer
   * reaches links-up on any packet of ours and comm-up on our repnodes; if our status has not reached it
   * by then we are still "init" in its table, and a legacy req_our_resources counts fewer than 2 active
   * nodes (HA_DONTASK) and takes the group we hold without asking: both hold the VIP. A 3.0.6 node mostly
   * gets away with it because it handles input late: the *-startup captures show the running node's
   * status, then its ack, then reqnodes 45-385 ms after the newcomer's first packet, at its keepalive.
   */
  private greetJoiningPeer(): void {
    this.sendLocalStatus()
  }

  private setLocalStatus(status: string): void {
    if (status === this.localStatus) return
    this.localStatus = status
    this.self.status = status
    this.sendLocalStatus()
    this.out.log('info', `Local status now set to: '${status}'`)
  }

  private addDeadtimeInner(incrementMs: number): void {
    if (this.advertisedDead.add(incrementMs)) this.sendLocalStatus()
  }

  private popDeadtimeInner(): void {
    if (this.advertisedDead.pop()) this.sendLocalStatus()
  }

  private checkLinksUp(): void {
    this.doJoinSteps(this.join.checkLinksUp(this.table.nodes, this.flowControl, this.now))
  }

  private doJoinSteps(steps: readonly JoinStep[]): void {
    for (const step of steps) {
      switch (step.kind) {
        case 'send':
          this.outbox.send(step.msg)
          break
        case 'comm-up':
          // comm_now_up
          this.out.log('info', `Comm_now_up(): updating status to active`)
          this.setLocalStatus('active')
          this.out.push({ type: 'comm-up' })
          break
        default:
          assertNever(step)
      }
    }
  }

  private requestRestart(reason: RestartReason, text: string): void {
    if (this.restartRequested) return
    this.restartRequested = true
    this.out.log('info', text)
    this.out.push({ type: 'restart-self', reason })
  }

  // ---------------------------------------------------------------- timeouts

  private liveness(): LivenessView {
    const { deadtimeMs, initdeadMs } = this.cfg
    return { running: this.running, linksUp: this.join.linksUp, restartRequested: this.restartRequested, startMs: this.startMs, deadtimeMs, initdeadMs }
  }

  private nodeDeadline(n: NodeEntry): number | undefined {
    return nodeDeadlineMs(n, this.liveness())
  }

  private checkTimeouts(): void {
    for (const n of [...this.table.nodes]) {
      const deadline = this.nodeDeadline(n)
      if (deadline !== undefined && this.now >= deadline) this.markNodeDead(n)
    }
    for (const l of upLinkDeadlines(this.table.nodes, linkTimeoutMs(this.table.nodes, this.liveness()))) {
      if (this.now >= l.atMs) this.changeLinkStatus(l.node, l.link.name, 'dead')
    }
  }

  private markNodeDead(n: NodeEntry): void {
    this.out.log('warn', `node ${n.name}: is dead`)
    if (n.isSelf) {
      this.out.log('error', 'No local heartbeat. Forcing restart.')
      this.requestRestart('no-local-heartbeat', 'Our own status was not seen for our deadtime (event loop stalled?): restarting as heartbeat does.')
      return
    }
    const previous = forgetDeadNode(n)
    this.outbox.rexmits.forgetNode(n.name)
    if (previous !== 'dead') this.out.push({ type: 'node-status', node: n.name, status: 'dead', previous })
  }

  private changeLinkStatus(n: NodeEntry, link: string, status: 'up' | 'dead'): void {
    const l = n.links.find((x) => x.name === link)
    if (!l) return
    l.status = status
    this.out.log('info', `Link ${n.name}:${link} ${status}.`)
    this.out.push({ type: 'link-status', node: n.name, link, status })
  }

  // ---------------------------------------------------------------- inbound

  /** process_clustermsg. `link` is undefined for our own messages looped back. */
  private processClusterMessage(msg: HaMessage, link: string | undefined): void {
    const header = checkHeader(msg, link ?? '?')
    if (!header.ok) {
      this.counters.dropped.malformed++
      if (header.complaint !== undefined) this.out.complain('bad packet', 'error', header.complaint)
      return
    }
    const { type, src, seq, ts } = header
    const srcUuid = getBinary(msg, 'srcuuid')
    const node = this.table.lookup(src, srcUuid)
    if (!node) {
      this.counters.dropped['unknown-node']++
      this.out.complain('unknown node', 'error', `process_status_message: bad node [${src}] in message`)
      return
    }
    node.anyPacketsYet = true
    if (srcUuid !== undefined && srcUuid.length === 16 && (node.uuid === undefined || !node.uuid.equals(srcUuid))) {
      node.uuid = Buffer.from(srcUuid)
      this.out.push({ type: 'uuid-learned', node: node.name, uuid: node.uuid })
    }

    const checked: CheckedMessage = { msg, type, seq, ts }
    const outcome = filterMessage(node, checked, { localNode: this.cfg.localNode, localUuid: this.cfg.uuid, flowControl: this.flowControl, twoNodes: this.cfg.nodes.length === 2 })
    for (const e of outcome.effects) {
      switch (e.kind) {
        case 'log':
          if (e.complaint === undefined) this.out.log(e.level, e.text)
          else this.out.complain(e.complaint, e.level, e.text)
          break
        case 'tracking-reset':
          this.outbox.rexmits.forgetNode(node.name)
          break
        case 'gap':
          this.counters.lostPackets += e.lost
          this.outbox.rexmits.gap(node.name, e.from, e.to, e.forgotten, this.now)
          break
        case 'recovered':
          this.outbox.rexmits.recovered(node.name, e.seq)
          if (e.nak) this.counters.naksReceived++
          else this.counters.recovered++
          break
        case 'ack':
          this.outbox.sendAck(node, e.seq)
          break
        case 'restart':
          if (e.previousGeneration > 0) this.out.push({ type: 'node-restart', node: node.name, generation: e.generation })
          if (!node.isSelf && link !== undefined && this.join.commUp) this.greetJoiningPeer()
          break
        case 'restarted-apart':
          // The same decision as a heal; no 3.0.6 restart here (it has none for this case).
          this.out.push({ type: 'partition-healed', node: node.name })
          break
        case 'healed-partition':
          // Said at once: the node decides who keeps what now (3.0.6 restarts 2 s later, below).
          this.out.push({ type: 'partition-healed', node: node.name })
          if (this.cfg.restartOnHealedPartition ?? true) {
            this.sendLocalStatus()
            if (this.restartSelfMs === undefined && !this.restartRequested) this.restartSelfMs = this.now + HEALED_PARTITION_RESTART_MS
          }
          break
        default:
          assertNever(e)
      }
    }
    if (outcome.verdict === 'drop') {
      if (outcome.dropReason !== undefined) this.counters.dropped[outcome.dropReason]++
      return
    }
    // KEEP or DUPLICATE: even a duplicate proves the link works
    if (link !== undefined) {
      const l = node.links.find((x) => x.name === link)
      if (l) {
        l.lastPacketMs = this.now
        if (l.status !== 'up') this.changeLinkStatus(node, link, 'up')
      }
    }
    if (link !== undefined && type === T_STATUS && seq !== undefined && !node.isSelf && this.outbox.copies.statusArrived(node, link, seq, this.now)) this.outbox.noteLoss()
    if (outcome.verdict === 'duplicate') {
      this.counters.duplicates++
      return
    }
    if (!node.isSelf) this.keptFromPeers++
    this.dispatch(node, checked, link)
  }

  private dispatch(node: NodeEntry, m: CheckedMessage, link: string | undefined): void {
    const handled = this.handlers.handle(node, m)
    if (!handled) {
      this.checkLinksUp()
      if (this.join.commUp) {
        this.counters.delivered++
        this.out.push({ type: 'deliver', msg: m.msg, from: node.name, link })
      } else {
        // heartbeat registers the release-1 handlers at comm-up only
        this.counters.beforeCommUp++
      }
      return
    }
    this.checkLinksUp()
  }
}

function assertNever(x: never): never {
  throw new Error(`unreachable: ${JSON.stringify(x)}`)
}
