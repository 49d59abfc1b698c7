// Joining the cluster (heartbeat's check_comm_isup, send_reqnodes_msg, comm_now_up): hear every node, ask a live peer for the node list, then communication is up.
import { getString, type HaMessage } from '../wire/message.js'
import type { NodeEntry } from './node-table.js'
import { parseNodeList, repnodesMessage, reqnodesMessage } from './protocol-messages.js'

/** send_reqnodes_msg retry period. */
const REQNODES_RETRY_MS = 1000

/**
 * Where this node is in joining (heartbeat's heartbeat_comm_state and its comm-up flag, as one value):
 * - `starting`: not every node heard from (a status) or declared dead yet; dead timers are initdead;
 * - `asking-nodes`: links are up, `reqnodes` went to the node at `destIndex`, repeated at `retryMs`;
 * - `up`: comm_now_up ran: our status is `active`, upper-layer messages are delivered.
 */
export type CommPhase =
  | { kind: 'starting' }
  | { kind: 'asking-nodes'; destIndex: number; retryMs: number }
  | { kind: 'up' }

/** What joining asks the membership core to do. */
export type JoinStep =
  /** Send this (sequenced, stamped by the core). */
  | { kind: 'send'; msg: HaMessage }
  /** comm_now_up: status `active`, the comm-up action. */
  | { kind: 'comm-up' }

export class JoinHandshake {
  private phaseNow: CommPhase = { kind: 'starting' }

  get phase(): CommPhase {
    return this.phaseNow
  }

  /** Every node heard from or declared dead (heartbeat COMM_LINKSUP): dead timers are each node's dt. */
  get linksUp(): boolean {
    return this.phaseNow.kind !== 'starting'
  }

  get commUp(): boolean {
    return this.phaseNow.kind === 'up'
  }

  /** When the next reqnodes is due (undefined unless we are asking). */
  nextDueMs(): number | undefined {
    return this.phaseNow.kind === 'asking-nodes' ? this.phaseNow.retryMs : undefined
  }

  /**
   * check_comm_isup: "links up" once every node has been heard from or declared dead. Heard from means
   * a status from it (3.0.6 takes any packet): a running peer's ack to our first statuses, or its repnodes,
   * can come before its own status, and comm-up would then find it "init" (not active). A legacy
   * req_our_resources counts it out (HA_DONTASK) and takes the group the peer holds: both hold the VIP.
   * A peer's first sequenced message is always a status (§3.3): this waits about one keepalive at most.
   */
  checkLinksUp(nodes: readonly NodeEntry[], flowControl: boolean, now: number): JoinStep[] {
    if (this.phaseNow.kind !== 'starting') return []
    if (!nodes.every((n) => (n.anyPacketsYet && n.statusTs !== 0) || n.status === 'dead')) return []
    return flowControl ? this.askNodes(nodes, 0, now) : this.commNowUp()
  }

  /** The reqnodes retry timer. */
  tick(nodes: readonly NodeEntry[], now: number): JoinStep[] {
    const p = this.phaseNow
    if (p.kind !== 'asking-nodes' || now < p.retryMs) return []
    return this.askNodes(nodes, p.destIndex, now)
  }

  /** HBDoMsg_T_REQNODES: answer with every node of the table; no node is ever deleted (release 1, ha.cf). */
  onReqnodes(from: NodeEntry, nodes: readonly NodeEntry[]): JoinStep[] {
    return [{ kind: 'send', msg: repnodesMessage(from.name, nodes.map((n) => n.name), []) }]
  }

  /**
   * HBDoMsg_T_REPNODES: the answer we waited for brings communication up. A repnodes before links are up
   * was not asked for (a stray answer to an earlier incarnation of us, or a replay): joining still waits
   * for a status from every node.
   */
  onRepnodes(msg: HaMessage): { steps: JoinStep[]; names: string[] | undefined } {
    if (this.phaseNow.kind === 'starting') return { steps: [], names: undefined }
    const nodelist = getString(msg, 'nodelist')
    return { steps: this.commNowUp(), names: nodelist === undefined ? undefined : parseNodeList(nodelist) }
  }

  /** send_reqnodes_msg: ask the first live normal peer (from index `start`) for the node list, every 1 s. */
  private askNodes(nodes: readonly NodeEntry[], start: number, now: number): JoinStep[] {
    let i = start >= nodes.length ? 0 : start
    let dest: NodeEntry | undefined
    for (; i < nodes.length; i++) {
      const n = nodes[i]
      if (n !== undefined && n.status !== 'dead' && !n.isSelf) {
        dest = n
        break
      }
    }
    if (dest === undefined) return this.commNowUp()
    this.phaseNow = { kind: 'asking-nodes', destIndex: i, retryMs: now + REQNODES_RETRY_MS }
    return [{ kind: 'send', msg: reqnodesMessage(dest.name) }]
  }

  private commNowUp(): JoinStep[] {
    if (this.phaseNow.kind === 'up') return []
    this.phaseNow = { kind: 'up' }
    return [{ kind: 'comm-up' }]
  }
}
