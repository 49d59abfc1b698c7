// What the membership core shows of itself (hbctl status, cl_status, tests): counters and a snapshot of the node table.
import type { CommPhase } from './join-handshake.js'
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
