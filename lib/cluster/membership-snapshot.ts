// What the membership core shows of itself (hbctl status, cl_status, tests): counters and a snapshot of the node table, and the builder.
import type { CommPhase, JoinHandshake } from './join-handshake.js'
import type { NodeEntry } from './node-table.js'
import type { DropReason } from './receive-filter.js'

/** heartbeat's heartbeat_comm_state (COMM_STARTING, COMM_LINKSUP). */
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
  /** Where joining is: starting, asking-nodes (links up, reqnodes out), up (comm_now_up done). */
  commPhase: CommPhase['kind']
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

export function newCounters(): MembershipCounters {
  return {
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
}

/** The membership core's state at one moment, copied (nothing in it aliases the core's tables). */
export interface SnapshotParts {
  localNode: string
  localStatus: string
  generation: number
  join: JoinHandshake
  flowControl: boolean
  advertisedDeadtimeMs: number
  statusCopiesActive: boolean
  lastSentSeq: number
  ackedSeq: number
  nodes: readonly NodeEntry[]
  deadlineOf: (n: NodeEntry) => number | undefined
  counters: MembershipCounters
}

export function buildSnapshot(p: SnapshotParts): MembershipSnapshot {
  return {
    localNode: p.localNode,
    localStatus: p.localStatus,
    generation: p.generation,
    commState: p.join.linksUp ? 'links-up' : 'starting',
    commUp: p.join.commUp,
    commPhase: p.join.phase.kind,
    flowControl: p.flowControl,
    advertisedDeadtimeMs: p.advertisedDeadtimeMs,
    statusCopiesActive: p.statusCopiesActive,
    lastSentSeq: p.lastSentSeq,
    ackedSeq: p.ackedSeq,
    nodes: p.nodes.map((n) => ({
      name: n.name,
      isSelf: n.isSelf,
      status: n.status,
      uuid: n.uuid?.toString('hex'),
      generation: n.track.generation,
      lastStatusMs: n.lastStatusMs,
      deadtimeMs: n.deadMs,
      deadlineMs: p.deadlineOf(n),
      lastSeq: n.track.lastSeq,
      missing: [...n.track.missingSeqs()].sort((a, b) => a - b),
      ackedSeq: n.ackedSeq,
      links: n.links.map((l) => ({ ...l })),
    })),
    counters: structuredClone(p.counters),
  }
}
