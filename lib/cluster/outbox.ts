// What we send (send_cluster_msg, process_outbound_packet, hb_rexmit.c, process_rexmit): stamped and sequenced, kept for
// retransmission, statuses copied while loss is evident; peers' requests for what they missed answered, ours for what we missed sent.
import { getString, type HaMessage } from '../wire/message.js'
import { stampControlFields, isUnsequencedType, type SenderIdentity } from './control-fields.js'
import type { CoreOutput } from './core-output.js'
import { checkHistoryFill } from './flow-control.js'
import { earliest } from './liveness.js'
import type { MembershipConfig } from './membership-config.js'
import type { MembershipCounters } from './membership-snapshot.js'
import type { NodeEntry, NodeTable } from './node-table.js'
import { ackMessage, nakRexmitMessage, rexmitRequestMessage, T_SHUTDONE, T_STATUS } from './protocol-messages.js'
import { Retransmission } from './retransmission.js'
import { SendHistory } from './send-history.js'
import { StatusCopies } from './status-copies.js'

export interface OutboxDeps {
  config: MembershipConfig
  id: SenderIdentity
  table: NodeTable
  counters: MembershipCounters
  output: CoreOutput
  /** Flow control is on (the membership turns it off for a peer of another protocol version). */
  flowControl: () => boolean
  /** heartbeat processes its own message before handing it to the media (so a self-ack precedes it). */
  loopback: (stamped: HaMessage) => void
}

export class Outbox {
  readonly history = new SendHistory()
  readonly rexmits: Retransmission
  readonly copies: StatusCopies
  private readonly d: OutboxDeps
  private seqCounter = 0

  constructor(deps: OutboxDeps) {
    const c = deps.config
    this.d = deps
    this.rexmits = new Retransmission({ maxRexmitDelayMs: c.maxRexmitDelayMs, random: c.random }, this.history)
    this.copies = new StatusCopies({ copies: c.statusCopies ?? 1, keepaliveMs: c.keepaliveMs, deadtimeMs: c.deadtimeMs })
  }

  /** Our highest seq so far. */
  get lastSentSeq(): number {
    return this.seqCounter
  }

  /** send_cluster_msg + process_outbound_packet: stamp, remember, loop back to ourselves, then transmit. */
  send(msg: HaMessage): HaMessage {
    const type = getString(msg, 't') ?? ''
    const seq = isUnsequencedType(type) ? undefined : ++this.seqCounter
    const dest = getString(msg, 'dest')
    const stamped = stampControlFields(msg, this.d.id, seq, this.d.output.env, dest === undefined ? undefined : this.d.table.uuidOf(dest))
    if (seq !== undefined) {
      this.history.add(seq, stamped)
      this.checkHistoryFill()
      // sendStatus sets the copies of a new status
      if (type !== T_STATUS) this.copies.otherSequencedSent()
    }
    if (type === T_SHUTDONE) this.copies.shutdone()
    this.d.loopback(stamped)
    this.d.output.push({ type: 'transmit', msg: stamped, retransmission: false })
    return stamped
  }

  /** A status message: sent, and its copies planned. */
  sendStatus(msg: HaMessage): void {
    const stamped = this.send(msg)
    this.copies.statusSent(stamped, this.d.output.now)
  }

  /** A sign of loss (a gap from a peer, a request to us, a peer's copies arriving short): copies for ours. */
  noteLoss(): void {
    this.d.counters.lossSignals++
    this.copies.noteLoss(this.d.output.now)
  }

  /** status_copies: the latest status again, verbatim, when its next copy is due. */
  sendDueStatusCopy(): void {
    const copy = this.copies.takeDue(this.d.output.now)
    if (copy === undefined) return
    this.d.counters.statusCopiesSent++
    this.d.output.push({ type: 'transmit', msg: copy.msg, retransmission: false, statusCopy: copy.k })
  }

  sendAck(node: NodeEntry, seq: number): void {
    this.d.counters.acksSent++
    this.send(ackMessage(node.name, seq))
  }

  /** Our requests for what we missed that are due now. */
  sendDueRexmitRequests(): void {
    for (const r of this.rexmits.takeDueRequests(this.d.output.now, (name) => this.isUp(name))) {
      // a gap still open after the re-request delay is loss, not reordering: copies for ours too
      this.noteLoss()
      this.d.counters.rexmitRequestsSent++
      this.send(rexmitRequestMessage(r.node, r.seq))
    }
  }

  /** process_rexmit: resend what the peer missed from our history, or NAK it. */
  answerRexmit(from: NodeEntry, msg: HaMessage): void {
    const out = this.d.output
    // the peer lost some of ours: our statuses need copies too
    this.noteLoss()
    const firstText = getString(msg, 'firstseq')
    const lastText = getString(msg, 'lastseq')
    const answer = this.rexmits.answer(from.name, firstText, lastText, from.ackedSeq, out.now)
    if (answer.kind === 'invalid') {
      out.complain('rexmit request', 'error', `Invalid rexmit seqnos: firstseq ${JSON.stringify(firstText ?? '')} lastseq ${JSON.stringify(lastText ?? '')} from ${from.name}`)
      return
    }
    for (const step of answer.steps) {
      switch (step.kind) {
        case 'resend':
          this.d.counters.retransmissions++
          out.push({ type: 'transmit', msg: step.msg, retransmission: true })
          break
        case 'nak':
          out.complain('NAK', 'error', `Cannot rexmit pkt ${step.seq} for ${from.name}: ${step.reason}`)
          this.d.counters.naksSent++
          this.send(nakRexmitMessage(step.seq, from.name, step.reason))
          break
        case 'too-high':
          out.complain('rexmit request', 'warn', `Rexmit of seq ${step.seq} requested. ${step.hiSeq} is max.`)
          break
        default:
          assertNever(step)
      }
    }
  }

  /** The next status copy or retransmission request due. */
  nextDueMs(): number | undefined {
    return earliest([this.copies.dueMs(), this.rexmits.nextDueMs()])
  }

  private checkHistoryFill(): void {
    if (!this.d.flowControl()) return
    const warning = checkHistoryFill(this.history, this.d.table.liveCount())
    if (warning !== undefined) this.d.output.log(warning.level, warning.text)
  }

  /** hb_rexmit.c: no point asking a node that is not up or active; the request lapses. */
  private isUp(name: string): boolean {
    const node = this.d.table.byName(name)
    return node !== undefined && (node.status === 'up' || node.status === 'active')
  }
}

function assertNever(x: never): never {
  throw new Error(`unreachable: ${JSON.stringify(x)}`)
}
