// The membership core (sans-I/O): heartbeat 3.0.6's node table, liveness, reliable delivery and comm-up, driven by `now`.
import { getBinary, getString, type HaMessage } from '../wire/message.js'
import { logAction, type LogLevel, type MembershipAction, type MembershipEnv, type RestartReason } from './actions.js'
import { scanHex } from './c-numbers.js'
import { ComplaintLimiter, type ComplaintKind } from './complaint-limiter.js'
import { isUnsequencedType, stampControlFields, type SenderIdentity } from './control-fields.js'
import { assertMembershipConfig, type MembershipConfig } from './membership-config.js'
import { clampStatus, NodeTable, type NodeEntry } from './node-table.js'
import { JoinHandshake, type JoinStep } from './join-handshake.js'
import {
  ackMessage,
  IGNORED_TYPES,
  nakRexmitMessage,
  rexmitRequestMessage,
  statusMessage,
  T_ACKMSG,
  T_REPNODES,
  T_REQNODES,
  T_REXMIT,
  T_SHUTDONE,
  T_STATUS,
} from './protocol-messages.js'
import { filterMessage, type CheckedMessage } from './receive-filter.js'
import type { MembershipCounters, MembershipSnapshot } from './membership-snapshot.js'
import { Retransmission } from './retransmission.js'
import { SendHistory } from './send-history.js'
import { StatusCopies } from './status-copies.js'

/** hb_add_deadtime(2000) at start, popped after 5 s (master_control_process). */
const STARTUP_EXTRA_DEADTIME_MS = 2000
const STARTUP_POP_DEADTIME_AFTER_MS = 5000
/** Release-1: CauseShutdownRestart 2 s after a healed partition. */
const HEALED_PARTITION_RESTART_MS = 2000
/** FLOWCONTROL_LIMIT and the hist-queue warning thresholds (3/4 and 9/10 of MAXMSGHIST). */
const FLOWCONTROL_LIMIT = 250
const QUEUE_WARN = 375
const QUEUE_ERROR = 450

export type { CommState, LinkSnapshot, MembershipCounters, MembershipSnapshot, NodeSnapshot } from './membership-snapshot.js'
export type { CommPhase } from './join-handshake.js'

export class Membership {
  private readonly cfg: MembershipConfig
  private readonly table: NodeTable
  private readonly self: NodeEntry
  private readonly id: SenderIdentity
  private readonly history = new SendHistory()
  private readonly rexmits: Retransmission
  private readonly join = new JoinHandshake()
  private readonly copies: StatusCopies
  private readonly complaints = new ComplaintLimiter()
  private out: MembershipAction[] = []
  private env: MembershipEnv = { wallSec: 0, loadavg: 'n/a' }
  private now = 0

  private running = false
  private startMs = 0
  private seqCounter = 0
  private localStatus = 'init'
  private advertisedDeadMs: number
  private deadtimeAdds = 0
  private flowControl = true
  private restartRequested = false

  private nextStatusMs: number | undefined
  private popDeadtimeMs: number | undefined
  private restartSelfMs: number | undefined

  private readonly counters: MembershipCounters = {
    received: 0,
    delivered: 0,
    duplicates: 0,
    dropped: { malformed: 0, 'unknown-node': 0, replay: 0, 'old-seq': 0, 'stale-status': 0, 'not-for-us': 0, 'dead-node': 0, 'stale-control': 0 },
    lostPackets: 0,
    recovered: 0,
    rexmitRequestsSent: 0,
    retransmissions: 0,
    naksSent: 0,
    naksReceived: 0,
    acksSent: 0,
    beforeCommUp: 0,
    statusCopiesSent: 0,
    lossSignals: 0,
  }

  constructor(config: MembershipConfig) {
    assertMembershipConfig(config)
    this.cfg = config
    this.advertisedDeadMs = config.deadtimeMs
    this.rexmits = new Retransmission({ maxRexmitDelayMs: config.maxRexmitDelayMs, random: config.random }, this.history)
    this.copies = new StatusCopies({ copies: config.statusCopies ?? 1, keepaliveMs: config.keepaliveMs, deadtimeMs: config.deadtimeMs })
    this.table = new NodeTable(config.localNode, config.linkNames, config.deadtimeMs, config.random)
    for (const name of config.nodes) {
      this.table.add(name, name === config.localNode ? config.uuid : config.knownUuids?.get(name))
    }
    const self = this.table.byName(config.localNode)
    if (!self) throw new Error('unreachable: local node missing from table')
    this.self = self
    this.id = {
      node: config.localNode,
      uuid: config.uuid,
      generation: config.generation,
      ttl: config.hopfudge + config.nodes.length + (config.pingNodeCount ?? 0),
    }
  }

  // ---------------------------------------------------------------- public API

  /** Start sending: status init (dt = deadtime+2 s), then up, up; keepalive and initdead timers begin now. */
  start(now: number, env: MembershipEnv): MembershipAction[] {
    return this.run(now, env, () => {
      if (this.running) return
      this.running = true
      this.startMs = now
      for (const n of this.table.nodes) n.lastStatusMs = now
      this.copies.start(now)
      this.addDeadtimeInner(STARTUP_EXTRA_DEADTIME_MS)
      this.popDeadtimeMs = now + STARTUP_POP_DEADTIME_AFTER_MS
      this.setLocalStatus('up')
      this.sendLocalStatus()
      this.nextStatusMs = now + this.cfg.keepaliveMs
    })
  }

  /** An authenticated, decoded message that arrived on medium `link`. */
  receive(msg: HaMessage, link: string, now: number, env: MembershipEnv): MembershipAction[] {
    return this.run(now, env, () => {
      if (!this.running) return
      this.counters.received++
      this.processClusterMessage(msg, link)
    })
  }

  /** An upper-layer message (resources, FIFO): stamped, sequenced, kept for retransmission, looped back. */
  send(msg: HaMessage, now: number, env: MembershipEnv): MembershipAction[] {
    return this.run(now, env, () => {
      if (!this.running) {
        this.log('error', `send_cluster_msg: not running, message ${JSON.stringify(getString(msg, 't') ?? '')} not sent`)
        return
      }
      if (getString(msg, 't') === undefined) {
        this.log('error', 'send_cluster_msg: message without t (type) field not sent')
        return
      }
      this.sendClusterMessage(msg)
    })
  }

  /** Timers due at `now`: deaths, link timeouts, keepalive, deadtime pop, reqnodes, rexmit requests, restart. */
  tick(now: number, env: MembershipEnv): MembershipAction[] {
    return this.run(now, env, () => {
      if (!this.running) return
      for (const l of this.complaints.flush(now)) this.log(l.level, l.text)
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
      this.sendDueStatusCopy()
      this.doJoinSteps(this.join.tick(this.table.nodes, now))
      for (const r of this.rexmits.takeDueRequests(now, (name) => this.isUp(name))) this.sendRexmitRequest(r.node, r.seq)
      if (this.restartSelfMs !== undefined && now >= this.restartSelfMs) {
        this.restartSelfMs = undefined
        this.requestRestart('healed-partition', 'A cluster partition healed: heartbeat 3.0.6 restarts here; deciding who keeps the resources.')
      }
    })
  }

  /** The exact time tick() must next run; undefined when nothing is scheduled (stopped). */
  nextDeadline(): number | undefined {
    if (!this.running) return undefined
    let min: number | undefined
    const take = (t: number | undefined): void => {
      if (t !== undefined && (min === undefined || t < min)) min = t
    }
    take(this.nextStatusMs)
    take(this.popDeadtimeMs)
    take(this.join.nextDueMs())
    take(this.restartSelfMs)
    take(this.copies.dueMs())
    take(this.rexmits.nextDueMs())
    take(this.complaints.nextDueMs())
    for (const n of this.table.nodes) take(this.nodeDeadline(n))
    const linkTimeout = this.linkTimeoutMs()
    for (const n of this.table.nodes) {
      if (n.isSelf) continue
      for (const l of n.links) if (l.status === 'up' && l.lastPacketMs !== undefined) take(l.lastPacketMs + linkTimeout)
    }
    return min
  }

  /** Send our status now (shutdown phases send one at each step). */
  sendStatus(now: number, env: MembershipEnv): MembershipAction[] {
    return this.run(now, env, () => {
      if (this.running) this.sendLocalStatus()
    })
  }

  /** hb_add_deadtime: advertise deadtime+increment (e.g. 30000 before a restart) until popDeadtime. */
  addDeadtime(incrementMs: number, now: number, env: MembershipEnv): MembershipAction[] {
    return this.run(now, env, () => {
      if (this.running) this.addDeadtimeInner(incrementMs)
    })
  }

  /** hb_pop_deadtime: back to the plain deadtime once every addDeadtime has been popped. */
  popDeadtime(now: number, env: MembershipEnv): MembershipAction[] {
    return this.run(now, env, () => {
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
    this.copies.stop()
  }

  snapshot(): MembershipSnapshot {
    return {
      localNode: this.cfg.localNode,
      localStatus: this.localStatus,
      generation: this.cfg.generation,
      commState: this.join.linksUp ? 'links-up' : 'starting',
      commUp: this.join.commUp,
      commPhase: this.join.phase.kind,
      flowControl: this.flowControl,
      advertisedDeadtimeMs: this.advertisedDeadMs,
      statusCopiesActive: this.copies.active(this.now),
      lastSentSeq: this.seqCounter,
      ackedSeq: this.history.ackSeq,
      nodes: this.table.nodes.map((n) => ({
        name: n.name,
        isSelf: n.isSelf,
        status: n.status,
        uuid: n.uuid?.toString('hex'),
        generation: n.track.generation,
        lastStatusMs: n.lastStatusMs,
        deadtimeMs: n.deadMs,
        deadlineMs: this.nodeDeadline(n),
        lastSeq: n.track.lastSeq,
        missing: [...n.track.missingSeqs()].sort((a, b) => a - b),
        ackedSeq: n.ackedSeq,
        links: n.links.map((l) => ({ ...l })),
      })),
      counters: structuredClone(this.counters),
    }
  }

  // ---------------------------------------------------------------- plumbing

  private run(now: number, env: MembershipEnv, body: () => void): MembershipAction[] {
    this.now = now
    this.env = env
    this.out = []
    body()
    const out = this.out
    this.out = []
    return out
  }

  private log(level: LogLevel, text: string): void {
    this.out.push(logAction(level, text))
  }

  /** A complaint about wire input: logged within its kind's budget, the rest summed up later. */
  private complain(kind: ComplaintKind, level: LogLevel, text: string): void {
    for (const l of this.complaints.complain(kind, level, text, this.now)) this.log(l.level, l.text)
  }

  // ---------------------------------------------------------------- outbound

  /** send_cluster_msg + process_outbound_packet: stamp, remember, loop back to ourselves, then transmit. */
  private sendClusterMessage(msg: HaMessage): HaMessage {
    const type = getString(msg, 't') ?? ''
    const seq = isUnsequencedType(type) ? undefined : ++this.seqCounter
    const dest = getString(msg, 'dest')
    const stamped = stampControlFields(msg, this.id, seq, this.env, dest === undefined ? undefined : this.table.uuidOf(dest))
    if (seq !== undefined) {
      this.history.add(seq, stamped)
      this.checkHistoryFill()
      // sendLocalStatus sets the copies of a new status
      if (type !== T_STATUS) this.copies.otherSequencedSent()
    }
    if (type === T_SHUTDONE) this.copies.shutdone()
    // heartbeat processes its own message before handing it to the media (so a self-ack precedes it)
    this.processClusterMessage(stamped, undefined)
    this.out.push({ type: 'transmit', msg: stamped, retransmission: false })
    return stamped
  }

  private checkHistoryFill(): void {
    if (!this.flowControl) return
    const live = this.table.liveCount()
    const queued = this.history.hiSeq - this.history.ackSeq
    if (live > 1) {
      if (queued > QUEUE_ERROR) this.log('error', `Message hist queue is filling up (${queued} messages in queue)`)
      else if (queued > QUEUE_WARN) this.log('warn', `Message hist queue is filling up (${queued} messages in queue)`)
    } else if (queued > FLOWCONTROL_LIMIT) {
      // alone: advance our own acknowledgement so history never "fills"
      this.history.ackSeq = this.history.hiSeq - (FLOWCONTROL_LIMIT - 1)
    }
  }

  private sendLocalStatus(): void {
    const stamped = this.sendClusterMessage(statusMessage(this.localStatus, this.advertisedDeadMs, this.flowControl))
    this.copies.statusSent(stamped, this.now)
  }

  /** A sign of loss (a gap from a peer, a request to us, a peer's copies arriving short): copies for ours. */
  private noteLoss(): void {
    this.counters.lossSignals++
    this.copies.noteLoss(this.now)
  }

  /** status_copies: the latest status again, verbatim, when its next copy is due. */
  private sendDueStatusCopy(): void {
    const copy = this.copies.takeDue(this.now)
    if (copy === undefined) return
    this.counters.statusCopiesSent++
    this.out.push({ type: 'transmit', msg: copy.msg, retransmission: false, statusCopy: copy.k })
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
    this.log('info', `Local status now set to: '${status}'`)
  }

  private addDeadtimeInner(incrementMs: number): void {
    const want = this.cfg.deadtimeMs + incrementMs
    if (this.advertisedDeadMs < want) {
      this.advertisedDeadMs = want
      this.sendLocalStatus()
    }
    this.deadtimeAdds++
  }

  private popDeadtimeInner(): void {
    this.deadtimeAdds--
    if (this.deadtimeAdds <= 0) {
      this.advertisedDeadMs = this.cfg.deadtimeMs
      this.sendLocalStatus()
      this.deadtimeAdds = 0
    }
  }

  private sendAck(node: NodeEntry, seq: number): void {
    this.counters.acksSent++
    this.sendClusterMessage(ackMessage(node.name, seq))
  }

  /** hb_rexmit.c: no point asking a node that is not up or active; the request lapses. */
  private isUp(name: string): boolean {
    const node = this.table.byName(name)
    return node !== undefined && (node.status === 'up' || node.status === 'active')
  }

  private sendRexmitRequest(nodeName: string, seq: number): void {
    // a gap still open after the re-request delay is loss, not reordering: copies for ours too
    this.noteLoss()
    this.counters.rexmitRequestsSent++
    this.sendClusterMessage(rexmitRequestMessage(nodeName, seq))
  }

  private checkLinksUp(): void {
    this.doJoinSteps(this.join.checkLinksUp(this.table.nodes, this.flowControl, this.now))
  }

  private doJoinSteps(steps: readonly JoinStep[]): void {
    for (const step of steps) {
      switch (step.kind) {
        case 'send':
          this.sendClusterMessage(step.msg)
          break
        case 'comm-up':
          // comm_now_up
          this.log('info', `Comm_now_up(): updating status to active`)
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
    this.log('info', text)
    this.out.push({ type: 'restart-self', reason })
  }

  // ---------------------------------------------------------------- timeouts

  private linkTimeoutMs(): number {
    // 3.0.6 quirk: every link times out after the dead time of the LAST node in the configuration
    const last = this.table.nodes[this.table.nodes.length - 1]
    return this.join.linksUp ? (last?.deadMs ?? this.cfg.deadtimeMs) : this.cfg.initdeadMs
  }

  /** A node is declared dead at lastStatus + its dead time (initdead for everyone until links are up). */
  private nodeDeadline(n: NodeEntry): number | undefined {
    if (!this.running || n.status === 'dead') return undefined
    if (n.isSelf && this.restartRequested) return undefined
    const deadMs = this.join.linksUp ? n.deadMs : this.cfg.initdeadMs
    return (n.lastStatusMs ?? this.startMs) + deadMs
  }

  private checkTimeouts(): void {
    for (const n of [...this.table.nodes]) {
      const deadline = this.nodeDeadline(n)
      if (deadline !== undefined && this.now >= deadline) this.markNodeDead(n)
    }
    const timeout = this.linkTimeoutMs()
    for (const n of this.table.nodes) {
      if (n.isSelf) continue
      for (const l of n.links) {
        if (l.status === 'up' && l.lastPacketMs !== undefined && this.now >= l.lastPacketMs + timeout) this.changeLinkStatus(n, l.name, 'dead')
      }
    }
  }

  private markNodeDead(n: NodeEntry): void {
    this.log('warn', `node ${n.name}: is dead`)
    if (n.isSelf) {
      this.log('error', 'No local heartbeat. Forcing restart.')
      this.requestRestart('no-local-heartbeat', 'Our own status was not seen for our deadtime (event loop stalled?): restarting as heartbeat does.')
      return
    }
    const previous = n.status
    n.status = 'dead'
    n.statusTs = 0
    n.anyPacketsYet = false
    n.track.reset()
    n.ackedSeq = 0
    this.rexmits.forgetNode(n.name)
    if (previous !== 'dead') this.out.push({ type: 'node-status', node: n.name, status: 'dead', previous })
  }

  private changeLinkStatus(n: NodeEntry, link: string, status: 'up' | 'dead'): void {
    const l = n.links.find((x) => x.name === link)
    if (!l) return
    l.status = status
    this.log('info', `Link ${n.name}:${link} ${status}.`)
    this.out.push({ type: 'link-status', node: n.name, link, status })
  }

  // ---------------------------------------------------------------- inbound

  /** process_clustermsg. `link` is undefined for our own messages looped back. */
  private processClusterMessage(msg: HaMessage, link: string | undefined): void {
    const type = getString(msg, 't')
    const src = getString(msg, 'src')
    const tsText = getString(msg, 'ts')
    const iface = link ?? '?'
    if (type === undefined || src === undefined || tsText === undefined) {
      this.counters.dropped.malformed++
      this.complain('bad packet', 'error', `process_clustermsg: missing from/ts/type: iface ${iface}, from ${src ?? '<?>'}`)
      return
    }
    const seqText = getString(msg, 'seq')
    let seq: number | undefined
    if (seqText !== undefined) {
      seq = scanHex(seqText)
      if (seq === undefined || seq <= 0) {
        this.counters.dropped.malformed++
        this.complain('bad packet', 'error', `process_clustermsg: has bad cseq: iface ${iface}, from ${src} (seq ${JSON.stringify(seqText)})`)
        return
      }
    } else if (!isUnsequencedType(type)) {
      this.counters.dropped.malformed++
      this.complain('bad packet', 'error', `process_clustermsg: missing seqno: iface ${iface}, from ${src} (t ${JSON.stringify(type)})`)
      return
    }
    const ts = scanHex(tsText)
    if (ts === undefined || ts === 0) {
      this.counters.dropped.malformed++
      return
    }
    const srcUuid = getBinary(msg, 'srcuuid')
    const node = this.table.lookup(src, srcUuid)
    if (!node) {
      this.counters.dropped['unknown-node']++
      this.complain('unknown node', 'error', `process_status_message: bad node [${src}] in message`)
      return
    }
    node.anyPacketsYet = true
    if (srcUuid !== undefined && srcUuid.length === 16 && (node.uuid === undefined || !node.uuid.equals(srcUuid))) {
      node.uuid = Buffer.from(srcUuid)
      this.out.push({ type: 'uuid-learned', node: node.name, uuid: node.uuid })
    }

    const checked: CheckedMessage = { msg, type, seq, ts }
    const outcome = filterMessage(node, checked, { localNode: this.cfg.localNode, localUuid: this.cfg.uuid, flowControl: this.flowControl })
    for (const e of outcome.effects) {
      switch (e.kind) {
        case 'log':
          if (e.complaint === undefined) this.log(e.level, e.text)
          else this.complain(e.complaint, e.level, e.text)
          break
        case 'tracking-reset':
          this.rexmits.forgetNode(node.name)
          break
        case 'gap':
          this.counters.lostPackets += e.lost
          this.rexmits.gap(node.name, e.from, e.to, e.forgotten, this.now)
          break
        case 'recovered':
          this.rexmits.recovered(node.name, e.seq)
          if (e.nak) this.counters.naksReceived++
          else this.counters.recovered++
          break
        case 'ack':
          this.sendAck(node, e.seq)
          break
        case 'restart':
          if (e.previousGeneration > 0) this.out.push({ type: 'node-restart', node: node.name, generation: e.generation })
          if (!node.isSelf && link !== undefined && this.join.commUp) this.greetJoiningPeer()
          break
        case 'healed-partition':
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
    if (link !== undefined && type === T_STATUS && seq !== undefined && !node.isSelf && this.copies.statusArrived(node, link, seq, this.now)) this.noteLoss()
    if (outcome.verdict === 'duplicate') {
      this.counters.duplicates++
      return
    }
    this.dispatch(node, checked, link)
  }

  private dispatch(node: NodeEntry, m: CheckedMessage, link: string | undefined): void {
    const handled = this.handle(node, m)
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

  /** The default callbacks (HBDoMsg_T_*); false when the message is for the upper layers. */
  private handle(node: NodeEntry, m: CheckedMessage): boolean {
    switch (m.type) {
      case T_STATUS:
        this.handleStatus(node, m)
        return true
      case T_REXMIT:
        if (!node.isSelf) this.handleRexmit(node, m.msg)
        return true
      case T_ACKMSG:
        // flow control off: heartbeat unregisters the ack handler
        if (this.flowControl) this.handleAck(node, m.msg)
        return this.flowControl
      case T_REQNODES:
        this.handleReqnodes(node)
        return true
      case T_REPNODES:
        this.handleRepnodes(node, m.msg)
        return true
      default:
        return IGNORED_TYPES.has(m.type)
    }
  }

  /** HBDoMsg_T_STATUS: liveness, late-heartbeat warnings, status changes, advertised dt. */
  private handleStatus(node: NodeEntry, m: CheckedMessage): void {
    const st = getString(m.msg, 'st')
    if (st === undefined) {
      this.complain('bad packet', 'error', 'HBDoMsg_T_STATUS: status update without st field')
      return
    }
    const seq = m.seq ?? 0
    if (m.ts < node.statusTs && seq < node.statusSeq) {
      this.counters.dropped['stale-status']++
      return
    }
    if (this.flowControl && !/^\s*[+-]?\d/.test(getString(m.msg, 'protocol') ?? '')) {
      this.log('info', 'flow control disabled due to different version heartbeat')
      this.flowControl = false
    }
    if (node.lastStatusMs !== undefined) {
      const interval = this.now - node.lastStatusMs
      if (interval > this.cfg.deadtimeMs) {
        this.log('crit', `Late heartbeat: Node ${node.name}: interval ${interval} ms (> deadtime)`)
        if (!node.isSelf) this.markNodeDead(node)
      } else if (interval > this.cfg.warntimeMs) {
        this.log('warn', `Late heartbeat: Node ${node.name}: interval ${interval} ms`)
      }
    }
    if (!node.isSelf && st.toLowerCase() !== node.status.toLowerCase()) {
      this.log('info', `Status update for node ${node.name}: status ${st}`)
      const previous = node.status
      node.status = clampStatus(st)
      this.out.push({ type: 'node-status', node: node.name, status: node.status, previous })
    }
    const dt = scanHex(getString(m.msg, 'dt'))
    if (dt !== undefined) node.deadMs = dt
    node.statusTs = m.ts
    node.lastStatusMs = this.now
    node.statusSeq = seq
  }

  /** process_rexmit: resend what the peer missed from our history, or NAK it. */
  private handleRexmit(from: NodeEntry, msg: HaMessage): void {
    // the peer lost some of ours: our statuses need copies too
    this.noteLoss()
    const firstText = getString(msg, 'firstseq')
    const lastText = getString(msg, 'lastseq')
    const answer = this.rexmits.answer(from.name, firstText, lastText, from.ackedSeq, this.now)
    if (answer.kind === 'invalid') {
      this.complain('rexmit request', 'error', `Invalid rexmit seqnos: firstseq ${JSON.stringify(firstText ?? '')} lastseq ${JSON.stringify(lastText ?? '')} from ${from.name}`)
      return
    }
    for (const step of answer.steps) {
      switch (step.kind) {
        case 'resend':
          this.counters.retransmissions++
          this.out.push({ type: 'transmit', msg: step.msg, retransmission: true })
          break
        case 'nak':
          this.complain('NAK', 'error', `Cannot rexmit pkt ${step.seq} for ${from.name}: ${step.reason}`)
          this.counters.naksSent++
          this.sendClusterMessage(nakRexmitMessage(step.seq, from.name, step.reason))
          break
        case 'too-high':
          this.complain('rexmit request', 'warn', `Rexmit of seq ${step.seq} requested. ${step.hiSeq} is max.`)
          break
        default:
          assertNever(step)
      }
    }
  }

  /** HBDoMsg_T_ACKMSG: advance the peer's ack and the cluster-wide acknowledged seq. */
  private handleAck(from: NodeEntry, msg: HaMessage): void {
    const dest = getString(msg, 'dest')
    if (dest === undefined || this.table.byName(dest) !== this.self) return
    const ackSeq = scanHex(getString(msg, 'ackseq'))
    if (ackSeq === undefined || ackSeq === from.ackedSeq || ackSeq <= this.history.ackSeq) return
    if (ackSeq > this.history.hiSeq) {
      this.complain('bad packet', 'error', `HBDoMsg_T_ACK: corrupted ackseq current hiseq = ${this.history.hiSeq} ackseq =${ackSeq} in this message`)
      return
    }
    if (ackSeq < from.ackedSeq) return
    from.ackedSeq = ackSeq
    const counted = this.table.nodes.filter((n) => n.status !== 'dead')
    if (counted.length === 0) return
    if (this.table.liveCount() < 2) {
      if (this.history.hiSeq - this.history.ackSeq >= FLOWCONTROL_LIMIT) this.history.ackSeq = this.history.hiSeq - (FLOWCONTROL_LIMIT - 1)
      return
    }
    const min = Math.min(...counted.map((n) => n.ackedSeq))
    if (min > this.history.ackSeq) this.history.ackSeq = min
  }

  /** HBDoMsg_T_REQNODES: answer with every normal node and our deleted-node list. */
  private handleReqnodes(from: NodeEntry): void {
    if (from.isSelf) {
      this.complain('bad packet', 'error', 'HBDoMsg_T_REQNODES: get reqnodes msg from myself!')
      return
    }
    this.doJoinSteps(this.join.onReqnodes(from, this.table.nodes))
  }

  /**
   * HBDoMsg_T_REPNODES: communication is up. The node table is ha.cf's and stays so: 3.0.6 adds every
   * name the list carries and removes dead or init nodes it lacks, so one packet could fill the table
   * with nodes that then all "die", or drop a configured peer for good.
   */
  private handleRepnodes(from: NodeEntry, msg: HaMessage): void {
    if (from.isSelf) return
    const answer = this.join.onRepnodes(msg)
    const strangers = (answer.names ?? []).filter((name) => this.table.byName(name) === undefined)
    if (strangers.length > 0) {
      const shown = strangers.slice(0, 5).map((n) => JSON.stringify(n)).join(' ')
      this.complain('repnodes', 'warn', `repnodes from ${from.name}: ${strangers.length} node(s) not in ha.cf ignored: ${shown}${strangers.length > 5 ? ' ...' : ''}`)
    }
    this.doJoinSteps(answer.steps)
  }
}

function assertNever(x: never): never {
  throw new Error(`unreachable: ${JSON.stringify(x)}`)
}
