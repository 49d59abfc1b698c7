// The default callbacks (HBDoMsg_T_*) for membership's own message types: status (liveness, status
// changes, flow control), rexmit requests, acks, reqnodes and repnodes. Every other type is for the
// upper layers. Membership (membership.ts) filters a message first and hands it here.
import { getString, type HaMessage } from '../wire/message.js'
import { scanHex } from './c-numbers.js'
import type { CoreOutput } from './core-output.js'
import { takeAck } from './flow-control.js'
import type { JoinHandshake, JoinStep } from './join-handshake.js'
import { isStaleStatus, lateHeartbeat, recordStatus } from './liveness.js'
import type { MembershipConfig } from './membership-config.js'
import type { MembershipCounters } from './membership-snapshot.js'
import { speaksFlowControl } from './control-fields.js'
import { clampStatus, type NodeEntry, type NodeTable } from './node-table.js'
import type { Outbox } from './outbox.js'
import { IGNORED_TYPES, T_ACKMSG, T_REPNODES, T_REQNODES, T_REXMIT, T_STATUS } from './protocol-messages.js'
import type { CheckedMessage } from './receive-filter.js'

/** What the callbacks read and change in membership. */
export interface MessageHandlerHost {
  config: MembershipConfig
  table: NodeTable
  self: NodeEntry
  counters: MembershipCounters
  output: CoreOutput
  outbox: Outbox
  join: JoinHandshake
  flowControl(): boolean
  /** A peer of another protocol version: flow control off for good (heartbeat unregisters the ack handler). */
  flowControlOff(): void
  doJoinSteps(steps: readonly JoinStep[]): void
}

export class MessageHandlers {
  private readonly h: MessageHandlerHost

  constructor(host: MessageHandlerHost) {
    this.h = host
  }

  /** False when the message is for the upper layers (resources, API). */
  handle(node: NodeEntry, m: CheckedMessage): boolean {
    switch (m.type) {
      case T_STATUS:
        this.handleStatus(node, m)
        return true
      case T_REXMIT:
        if (!node.isSelf) this.h.outbox.answerRexmit(node, m.msg)
        return true
      case T_ACKMSG:
        // flow control off: heartbeat unregisters the ack handler
        if (this.h.flowControl()) this.handleAck(node, m.msg)
        return this.h.flowControl()
      case T_REQNODES:
        node.rejoinUnasked = false
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
      this.h.output.complain('bad packet', 'error', 'HBDoMsg_T_STATUS: status update without st field')
      return
    }
    const seq = m.seq ?? 0
    if (isStaleStatus(node, m.ts, seq)) {
      this.h.counters.dropped['stale-status']++
      return
    }
    if (this.h.flowControl() && !speaksFlowControl(m.msg)) {
      this.h.output.log('info', 'flow control disabled due to different version heartbeat')
      this.h.flowControlOff()
    }
    const late = lateHeartbeat(node, this.h.output.now, this.h.config)
    if (late !== undefined) {
      this.h.output.log(late.level, late.text)
      // 3.0.6 declares the node dead here and takes its resources while the node, alive (its status is
      // in our hands), keeps them: both directors hold the address. Only the deadline declares a death.
      if (late.pastDeadtime && !node.isSelf && node.status !== 'dead') {
        this.h.output.log('warn', `Node ${node.name} is alive: its heartbeat came past deadtime but before it was declared dead; not declaring it dead (heartbeat 3.0.6 would).`)
      }
    }
    if (!node.isSelf && st.toLowerCase() !== node.status.toLowerCase()) {
      this.h.output.log('info', `Status update for node ${node.name}: status ${st}`)
      const previous = node.status
      node.status = clampStatus(st)
      this.h.output.push({ type: 'node-status', node: node.name, status: node.status, previous })
    }
    recordStatus(node, m.ts, seq, scanHex(getString(m.msg, 'dt')), this.h.output.now)
  }

  /** HBDoMsg_T_ACKMSG: advance the peer's ack and the cluster-wide acknowledged seq. */
  private handleAck(from: NodeEntry, msg: HaMessage): void {
    const dest = getString(msg, 'dest')
    if (dest === undefined || this.h.table.byName(dest) !== this.h.self) return
    const ackSeq = scanHex(getString(msg, 'ackseq'))
    if (takeAck(this.h.outbox.history, from, ackSeq, this.h.table.nodes, this.h.table.liveCount()) === 'corrupt') {
      this.h.output.complain('bad packet', 'error', `HBDoMsg_T_ACK: corrupted ackseq current hiseq = ${this.h.outbox.history.hiSeq} ackseq =${ackSeq} in this message`)
    }
  }

  /** HBDoMsg_T_REQNODES: answer with every normal node and our deleted-node list. */
  private handleReqnodes(from: NodeEntry): void {
    if (from.isSelf) {
      this.h.output.complain('bad packet', 'error', 'HBDoMsg_T_REQNODES: get reqnodes msg from myself!')
      return
    }
    this.h.doJoinSteps(this.h.join.onReqnodes(from, this.h.table.nodes))
  }

  /**
   * HBDoMsg_T_REPNODES: communication is up. The node table is ha.cf's and stays so: 3.0.6 adds every
   * name the list carries and removes dead or init nodes it lacks, so one packet could fill the table
   * with nodes that then all "die", or drop a configured peer for good.
   */
  private handleRepnodes(from: NodeEntry, msg: HaMessage): void {
    if (from.isSelf) return
    const answer = this.h.join.onRepnodes(msg)
    const strangers = (answer.names ?? []).filter((name) => this.h.table.byName(name) === undefined)
    if (strangers.length > 0) {
      const shown = strangers.slice(0, 5).map((n) => JSON.stringify(n)).join(' ')
      this.h.output.complain('repnodes', 'warn', `repnodes from ${from.name}: ${strangers.length} node(s) not in ha.cf ignored: ${shown}${strangers.length > 5 ? ' ...' : ''}`)
    }
    this.h.doJoinSteps(answer.steps)
  }
}
