// The membership core (sans-I/O): heartbeat 3.0.6's node table, liveness, reliable delivery and comm-up, driven by `now`.
import { getBinary, getString, type HaMessage } from '../wire/message.js'
import { logAction, type LogLevel, type MembershipAction, type MembershipEnv, type RestartReason } from './actions.js'
import { atoi, scanHex } from './c-numbers.js'
import { isUnsequencedType, stampControlFields, type SenderIdentity } from './control-fields.js'
import { assertMembershipConfig, type MembershipConfig } from './membership-config.js'
import { clampStatus, NodeTable, type NodeEntry } from './node-table.js'
import {
  ackMessage,
  IGNORED_TYPES,
  nakRexmitMessage,
  parseNodeList,
  repnodesMessage,
  reqnodesMessage,
  rexmitRequestMessage,
  statusMessage,
  T_ACKMSG,
  T_REPNODES,
  T_REQNODES,
  T_REXMIT,
  T_SHUTDONE,
  T_STATUS,
} from './protocol-messages.js'
import { filterMessage, type CheckedMessage, type DropReason } from './receive-filter.js'
import { firstRexmitDelayMs, RexmitSchedule } from './rexmit-schedule.js'
import { SendHistory } from './send-history.js'

/** hb_add_deadtime(2000) at start, popped after 5 s (master_control_process). */
const STARTUP_EXTRA_DEADTIME_MS = 2000
const STARTUP_POP_DEADTIME_AFTER_MS = 5000
/** send_reqnodes_msg retry period. */
const REQNODES_RETRY_MS = 1000
/** Release-1: CauseShutdownRestart 2 s after a healed partition. */
const HEALED_PARTITION_RESTART_MS = 2000
/**
 * status_copies are adaptive: copies go out only while loss is evident, i.e. for this long after the
 * last sign of it (a gap in a peer's seqs, a peer asking us to retransmit). Evidence is rarer while
 * copies hide losses, so the memory spans many keepalives: 30 s, or 4 dead times when longer.
 */
const LOSS_MEMORY_MS = 30_000
const LOSS_MEMORY_DEADTIMES = 4
/** Nothing is known at start: copies from the first status for 2 dead times, so peers hear us early. */
const STARTUP_COPIES_DEADTIMES = 2
/** FLOWCONTROL_LIMIT and the hist-queue warning thresholds (3/4 and 9/10 of MAXMSGHIST). */
const FLOWCONTROL_LIMIT = 250
const QUEUE_WARN = 375
const QUEUE_ERROR = 450

export type CommState = 'starting' | 'links-up'

export interface MembershipCounters {
  /** Messages handed to receive() (loopback of our own not included). */
  received: number
  delivered: number
  /** Same seq again (another medium, or a resend): dropped after refreshing the link. */
  duplicates: number
  dropped: Record<DropReason, number>
  /** Seqs found missing in gaps. */
  lostPackets: number
  /** Missing seqs that later arrived. */
  recovered: number
  rexmitRequestsSent: number
  /** Our messages resent on request. */
  retransmissions: number
  naksSent: number
  naksReceived: number
  acksSent: number
  /** Non-membership messages that arrived before comm-up (heartbeat has no handler for them yet). */
  beforeCommUp: number
  /** Redundant status copies sent (status_copies > 1); not part of `retransmissions`. */
  statusCopiesSent: number
  /** Signs of packet loss (gaps from peers, retransmission requests to us): each keeps copies on. */
  lossSignals: number
}

export interface LinkSnapshot {
  name: string
  status: 'up' | 'dead'
  lastPacketMs: number | undefined
}

export interface NodeSnapshot {
  name: string
  isSelf: boolean
  status: string
  uuid: string | undefined
  generation: number
  lastStatusMs: number | undefined
  /** The dead timer in force for this node: its advertised dt, or our deadtime before its first status. */
  deadtimeMs: number
  /** When it will be declared dead if nothing arrives (undefined when dead). */
  deadlineMs: number | undefined
  lastSeq: number | undefined
  missing: number[]
  ackedSeq: number
  links: LinkSnapshot[]
}

export interface MembershipSnapshot {
  localNode: string
  localStatus: string
  generation: number
  commState: CommState
  commUp: boolean
  flowControl: boolean
  /** Our advertised dt. */
  advertisedDeadtimeMs: number
  /** status_copies > 1 and loss was evident recently: each status goes out status_copies times. */
  statusCopiesActive: boolean
  lastSentSeq: number
  ackedSeq: number
  nodes: NodeSnapshot[]
  counters: MembershipCounters
}

export class Membership {
  private readonly cfg: MembershipConfig
  private readonly table: NodeTable
  private readonly self: NodeEntry
  private readonly id: SenderIdentity
  private readonly history = new SendHistory()
  private readonly rexmits = new RexmitSchedule()
  private out: MembershipAction[] = []
  private env: MembershipEnv = { wallSec: 0, loadavg: 'n/a' }
  private now = 0

  private running = false
  private startMs = 0
  private seqCounter = 0
  private localStatus = 'init'
  private advertisedDeadMs: number
  private deadtimeAdds = 0
  private commState: CommState = 'starting'
  private commUp = false
  private gotReqnodesReply = false
  private flowControl = true
  private deletedNodes: string[] = []
  private restartRequested = false

  private nextStatusMs: number | undefined
  private popDeadtimeMs: number | undefined
  private reqnodesMs: number | undefined
  private reqnodesIndex = 0
  private restartSelfMs: number | undefined
  /** The latest status while its redundant copies are due: copy k goes out at sentMs + k*keepalive/copies. */
  private statusCopy: { msg: HaMessage; sentMs: number; k: number } | undefined
  /** Our `shutdone` went out: from then on statuses go out once each, as 3.0.6 sends them. */
  private shutdoneSent = false
  /** The latest status we sent, so copies can start for it as soon as loss shows. */
  private lastStatus: { msg: HaMessage; sentMs: number } | undefined
  /** Copies are sent until then: start-up, then LOSS_MEMORY after the last sign of loss. */
  private copiesUntilMs = -Infinity
  private startupLossSigns = 0
  /** Per peer and medium: how many times its latest statuses arrived (their copies included). */
  private readonly statusArrivals = new WeakMap<NodeEntry, Map<string, StatusArrivals>>()

  private readonly counters: MembershipCounters = {
    received: 0,
    delivered: 0,
    duplicates: 0,
    dropped: { malformed: 0, 'unknown-node': 0, replay: 0, 'old-seq': 0, 'stale-status': 0, 'not-for-us': 0 },
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
      this.copiesUntilMs = now + STARTUP_COPIES_DEADTIMES * this.cfg.deadtimeMs
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
      this.checkTimeouts()
      if (this.commState !== 'links-up') this.checkCommIsUp()
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
      if (this.reqnodesMs !== undefined && now >= this.reqnodesMs) {
        this.reqnodesMs = undefined
        this.sendReqnodes(this.reqnodesIndex)
      }
      for (const due of this.rexmits.takeDue(now)) this.sendRexmitRequest(due.node, due.seq)
      if (this.restartSelfMs !== undefined && now >= this.restartSelfMs) {
        this.restartSelfMs = undefined
        this.requestRestart('healed-partition', 'Restarting heartbeat: a cluster partition healed (heartbeat 3.0.6 release-1 rule).')
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
    take(this.reqnodesMs)
    take(this.restartSelfMs)
    take(this.statusCopyDueMs())
    take(this.rexmits.nextDueMs())
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

  /** Stop everything (last shutdown phase): no more timers, sends or receives. */
  stop(): void {
    this.running = false
    this.nextStatusMs = this.popDeadtimeMs = this.reqnodesMs = this.restartSelfMs = undefined
    this.statusCopy = undefined
    this.lastStatus = undefined
  }

  snapshot(): MembershipSnapshot {
    return {
      localNode: this.cfg.localNode,
      localStatus: this.localStatus,
      generation: this.cfg.generation,
      commState: this.commState,
      commUp: this.commUp,
      flowControl: this.flowControl,
      advertisedDeadtimeMs: this.advertisedDeadMs,
      statusCopiesActive: this.copiesActive(),
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
      // A copy goes out only while its status is our newest sequenced message: sent after a newer
      // one, it would reach a peer that has just started listening as an old seq, and that peer
      // would log (and re-request) a gap that loss never made. sendLocalStatus sets a new copy.
      if (type !== T_STATUS) this.statusCopy = undefined
    }
    if (type === T_SHUTDONE) {
      // We are leaving: peers take our groups now and should declare us dead one deadtime after our
      // last status, exactly as with a 3.0.6 node (§5.5). Copies would only push that back.
      this.shutdoneSent = true
      this.statusCopy = undefined
      this.lastStatus = undefined
    }
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
    // A newer status supersedes the pending copies of the previous one: peers need the latest st/dt.
    this.lastStatus = this.shutdoneSent ? undefined : { msg: stamped, sentMs: this.now }
    this.statusCopy = this.copiesActive() && this.lastStatus !== undefined ? { ...this.lastStatus, k: 1 } : undefined
  }

  private copies(): number {
    return this.cfg.statusCopies ?? 1
  }

  /** Copies only while loss is evident: a loss-free cluster sends one status per keepalive, as 3.0.6. */
  private copiesActive(): boolean {
    return this.copies() > 1 && !this.shutdoneSent && this.now < this.copiesUntilMs
  }

  /** A sign of loss: keep copies on, and start them for the status already sent if none are pending. */
  private noteLoss(): void {
    this.counters.lossSignals++
    // One start-up gap (a peer's packet sent before we listened) is no sign: it takes a second one.
    // Copies are on during start-up anyway; this only decides whether they go on afterwards.
    if (this.now < this.startMs + STARTUP_COPIES_DEADTIMES * this.cfg.deadtimeMs && ++this.startupLossSigns < 2) return
    this.copiesUntilMs = Math.max(this.copiesUntilMs, this.now + Math.max(LOSS_MEMORY_MS, LOSS_MEMORY_DEADTIMES * this.cfg.deadtimeMs))
    const last = this.lastStatus
    if (this.statusCopy !== undefined || last === undefined || !this.copiesActive()) return
    // the next copy slot of the current status still ahead of us (none left: the keepalive is next)
    const c = { ...last, k: 1 }
    this.statusCopy = c
    for (let due = this.statusCopyDueMs(); due !== undefined && due <= this.now; due = this.statusCopyDueMs()) c.k++
    if (c.k >= this.copies()) this.statusCopy = undefined
  }

  private statusCopyDueMs(): number | undefined {
    const c = this.statusCopy
    return c === undefined ? undefined : c.sentMs + Math.floor((c.k * this.cfg.keepaliveMs) / this.copies())
  }

  /**
   * status_copies: re-send the latest status verbatim (same seq, ts, and so the same auth). A peer that
   * got the original counts the copy as a duplicate (it still refreshes the link); one that lost it
   * takes the copy as the in-order status, or as the missing seq if later traffic made a gap (§3.3).
   * Nothing is added to the history or looped back: the seq is the original's.
   */
  private sendDueStatusCopy(): void {
    const c = this.statusCopy
    let due = this.statusCopyDueMs()
    if (c === undefined || due === undefined || due > this.now) return
    this.counters.statusCopiesSent++
    this.out.push({ type: 'transmit', msg: c.msg, retransmission: false, statusCopy: c.k })
    // a late tick sends one copy, not a burst: skip any others that are already due
    while (due !== undefined && due <= this.now) {
      c.k++
      due = c.k < this.copies() ? this.statusCopyDueMs() : undefined
    }
    if (due === undefined) this.statusCopy = undefined
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

  private sendRexmitRequest(nodeName: string, seq: number): void {
    const node = this.table.byName(nodeName)
    // hb_rexmit.c: no point asking a node that is not up or active; the request lapses
    if (!node || (node.status !== 'up' && node.status !== 'active')) return
    // a gap still open after the re-request delay is loss, not reordering: copies for ours too
    this.noteLoss()
    this.counters.rexmitRequestsSent++
    this.sendClusterMessage(rexmitRequestMessage(node.name, seq))
    this.rexmits.schedule(node.name, seq, this.now + this.cfg.maxRexmitDelayMs)
  }

  /** send_reqnodes_msg: ask the first live normal peer (from index `start`) for the node list, every 1 s. */
  private sendReqnodes(start: number): void {
    if (this.gotReqnodesReply) return
    const nodes = this.table.nodes
    let i = start >= nodes.length ? 0 : start
    let dest: NodeEntry | undefined
    for (; i < nodes.length; i++) {
      const n = nodes[i]
      if (n !== undefined && n.status !== 'dead' && !n.isSelf) {
        dest = n
        break
      }
    }
    if (dest === undefined) {
      this.gotReqnodesReply = true
      this.commNowUp()
      return
    }
    this.sendClusterMessage(reqnodesMessage(dest.name))
    this.reqnodesIndex = i
    this.reqnodesMs = this.now + REQNODES_RETRY_MS
  }

  private commNowUp(): void {
    if (this.commUp) return
    this.commUp = true
    this.reqnodesMs = undefined
    this.log('info', `Comm_now_up(): updating status to active`)
    this.setLocalStatus('active')
    this.out.push({ type: 'comm-up' })
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
    return this.commState === 'links-up' ? (last?.deadMs ?? this.cfg.deadtimeMs) : this.cfg.initdeadMs
  }

  /** A node is declared dead at lastStatus + its dead time (initdead for everyone until links are up). */
  private nodeDeadline(n: NodeEntry): number | undefined {
    if (!this.running || n.status === 'dead') return undefined
    if (n.isSelf && this.restartRequested) return undefined
    const deadMs = this.commState === 'links-up' ? n.deadMs : this.cfg.initdeadMs
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
    this.rexmits.cancelNode(n.name)
    if (previous !== 'dead') this.out.push({ type: 'node-status', node: n.name, status: 'dead', previous })
  }

  private changeLinkStatus(n: NodeEntry, link: string, status: 'up' | 'dead'): void {
    const l = n.links.find((x) => x.name === link)
    if (!l) return
    l.status = status
    this.log('info', `Link ${n.name}:${link} ${status}.`)
    this.out.push({ type: 'link-status', node: n.name, link, status })
  }

  /**
   * check_comm_isup: "links up" once every node has been heard from or declared dead. Heard from means
   * a status from it (3.0.6 takes any packet): a running peer's ack to our first statuses, or its repnodes,
   * can come before its own status, and comm-up would then find it "init" (not active). A legacy
   * req_our_resources counts it out (HA_DONTASK) and takes the group the peer holds: both hold the VIP.
   * A peer's first sequenced message is always a status (§3.3): this waits about one keepalive at most.
   */
  private checkCommIsUp(): void {
    if (this.commState === 'links-up') return
    if (!this.table.nodes.every((n) => (n.anyPacketsYet && n.statusTs !== 0) || n.status === 'dead')) return
    this.commState = 'links-up'
    if (this.flowControl) this.sendReqnodes(0)
    else this.commNowUp()
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
      this.log('error', `process_clustermsg: missing from/ts/type: iface ${iface}, from ${src ?? '<?>'}`)
      return
    }
    const seqText = getString(msg, 'seq')
    let seq: number | undefined
    if (seqText !== undefined) {
      seq = scanHex(seqText)
      if (seq === undefined || seq <= 0) {
        this.counters.dropped.malformed++
        this.log('error', `process_clustermsg: has bad cseq: iface ${iface}, from ${src} (seq ${JSON.stringify(seqText)})`)
        return
      }
    } else if (!isUnsequencedType(type)) {
      this.counters.dropped.malformed++
      this.log('error', `process_clustermsg: missing seqno: iface ${iface}, from ${src} (t ${JSON.stringify(type)})`)
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
      this.log('error', `process_status_message: bad node [${src}] in message`)
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
          this.log(e.level, e.text)
          break
        case 'tracking-reset':
          this.rexmits.cancelNode(node.name)
          break
        case 'gap':
          this.counters.lostPackets += e.lost
          for (let s = e.from; s <= e.to; s++) this.rexmits.schedule(node.name, s, this.now + firstRexmitDelayMs(this.cfg.maxRexmitDelayMs, this.cfg.random))
          break
        case 'recovered':
          this.rexmits.cancel(node.name, e.seq)
          if (e.nak) this.counters.naksReceived++
          else this.counters.recovered++
          break
        case 'ack':
          this.sendAck(node, e.seq)
          break
        case 'restart':
          if (e.previousGeneration > 0) this.out.push({ type: 'node-restart', node: node.name, generation: e.generation })
          if (!node.isSelf && link !== undefined && this.commUp) this.greetJoiningPeer()
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
    if (link !== undefined && type === T_STATUS && seq !== undefined && !node.isSelf) this.countStatusArrival(node, link, seq)
    if (outcome.verdict === 'duplicate') {
      this.counters.duplicates++
      return
    }
    this.dispatch(node, checked, link)
  }

  /**
   * A peer that sends copies sees loss; if its copies reach us short too, the medium is lossy both ways
   * and ours need copies as well (gaps alone rarely show it: the peer's copies fill most of them). Short
   * means a dip on one medium: a status that arrived fewer times than both the one before and the one
   * after it. A peer that simply stops copying (3, 1, 1 …) is no dip, so two peers cannot keep each
   * other copying on a clean network; nor is a status superseded within half a keepalive (a status
   * change sends the next one at once, cutting the copies short), which is left out of the count.
   */
  private countStatusArrival(node: NodeEntry, link: string, seq: number): void {
    let links = this.statusArrivals.get(node)
    if (links === undefined) this.statusArrivals.set(node, (links = new Map()))
    const a = links.get(link)
    if (a === undefined || seq < a.seq) {
      links.set(link, { seq, firstMs: this.now, count: 1, previous: 0, before: 0 })
    } else if (seq === a.seq) {
      a.count++
    } else {
      if (this.now - a.firstMs >= this.cfg.keepaliveMs / 2) {
        if (a.previous < a.before && a.previous < a.count) this.noteLoss()
        a.before = a.previous
        a.previous = a.count
      }
      a.seq = seq
      a.firstMs = this.now
      a.count = 1
    }
  }

  private dispatch(node: NodeEntry, m: CheckedMessage, link: string | undefined): void {
    const handled = this.handle(node, m)
    if (!handled) {
      if (this.commState !== 'links-up') this.checkCommIsUp()
      if (this.commUp) {
        this.counters.delivered++
        this.out.push({ type: 'deliver', msg: m.msg, from: node.name, link })
      } else {
        // heartbeat registers the release-1 handlers at comm-up only
        this.counters.beforeCommUp++
      }
      return
    }
    if (this.commState !== 'links-up') this.checkCommIsUp()
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
      this.log('error', 'HBDoMsg_T_STATUS: status update without st field')
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
    const first = atoi(getString(msg, 'firstseq'))
    const last = atoi(getString(msg, 'lastseq'))
    if (first <= 0 || last <= 0 || first > last) {
      this.log('error', `Invalid rexmit seqnos: firstseq ${JSON.stringify(getString(msg, 'firstseq') ?? '')} lastseq ${JSON.stringify(getString(msg, 'lastseq') ?? '')} from ${from.name}`)
      return
    }
    for (const step of this.history.planRexmit(first, last, from.ackedSeq, this.now, this.cfg.maxRexmitDelayMs - 10)) {
      switch (step.kind) {
        case 'resend':
          this.counters.retransmissions++
          this.out.push({ type: 'transmit', msg: step.msg, retransmission: true })
          break
        case 'nak':
          this.log('error', `Cannot rexmit pkt ${step.seq} for ${from.name}: ${step.reason}`)
          this.counters.naksSent++
          this.sendClusterMessage(nakRexmitMessage(step.seq, from.name, step.reason))
          break
        case 'too-high':
          this.log('warn', `Rexmit of seq ${step.seq} requested. ${step.hiSeq} is max.`)
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
      this.log('error', `HBDoMsg_T_ACK: corrupted ackseq current hiseq = ${this.history.hiSeq} ackseq =${ackSeq} in this message`)
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
      this.log('error', 'HBDoMsg_T_REQNODES: get reqnodes msg from myself!')
      return
    }
    this.sendClusterMessage(repnodesMessage(from.name, this.table.nodes.map((n) => n.name), this.deletedNodes))
  }

  /** HBDoMsg_T_REPNODES: adopt the peer's node list, then communication is up. */
  private handleRepnodes(from: NodeEntry, msg: HaMessage): void {
    if (from.isSelf) return
    const nodelist = getString(msg, 'nodelist')
    const delnodelist = getString(msg, 'delnodelist')
    if (nodelist !== undefined) {
      const names = parseNodeList(nodelist)
      for (const name of names) {
        if (this.table.byName(name) === undefined) {
          this.log('info', `hb_add_one_node: Adding new node[${name}] to configuration.`)
          this.table.add(name, undefined).lastStatusMs = this.now
        }
      }
      for (const n of [...this.table.nodes]) {
        // only nodes that are not alive are dropped: a live configured peer stays whatever the list says
        if (!names.includes(n.name) && !n.isSelf && (n.status === 'dead' || n.status === 'init')) {
          this.log('info', `Removing node [${n.name}] from configuration.`)
          this.rexmits.cancelNode(n.name)
          this.table.remove(n.name)
        }
      }
      this.gotReqnodesReply = true
    }
    if (delnodelist !== undefined) {
      this.deletedNodes = parseNodeList(delnodelist)
      this.gotReqnodesReply = true
    }
    this.commNowUp()
  }
}

interface StatusArrivals {
  seq: number
  /** When `seq` first arrived on this medium. */
  firstMs: number
  count: number
  /** Arrivals of the two statuses before `seq` (0 until known). */
  previous: number
  before: number
}

function assertNever(x: never): never {
  throw new Error(`unreachable: ${JSON.stringify(x)}`)
}
