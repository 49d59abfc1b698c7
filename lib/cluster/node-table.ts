// The node table: every configured node with its status, liveness, advertised deadtime, links and seq tracking.
import { SeqTracker, ACK_DIV } from './seq-tracker.js'

/** heartbeat's statuses; a peer may send any string up to 31 chars and it is stored as received. */
export type NodeStatus = 'init' | 'up' | 'active' | 'dead' | (string & {})
/** heartbeat STATUSLENG - 1 */
const MAX_STATUS_CHARS = 31

export interface LinkEntry {
  name: string
  status: 'up' | 'dead'
  /** Monotonic ms of the last packet (duplicates count) on this medium; undefined before the first. */
  lastPacketMs: number | undefined
}

export interface NodeEntry {
  name: string
  isSelf: boolean
  uuid: Buffer | undefined
  status: NodeStatus
  /** dead_ticks: the node's advertised `dt`, or our deadtime before its first status. */
  deadMs: number
  /** local_lastupdate: monotonic ms of its last accepted status (or of our start). */
  lastStatusMs: number | undefined
  /** rmt_lastupdate: the sender's `ts` of that status (0 = none). */
  statusTs: number
  /** status_seqno: seq of that status. */
  statusSeq: number
  /** anypacketsyet: heard anything since start or since declared dead ("links up" needs every node). */
  anyPacketsYet: boolean
  /**
   * Its current generation was first heard while it was dead to us, and it has not asked us for the
   * node list since: in a pair, if it goes `active` so, it ended its start-up without hearing us.
   */
  rejoinUnasked: boolean
  /** We ack its messages whose seq % 10 equals this (random 0..9, fixed at configuration). */
  ackTrigger: number
  /** The highest of OUR seqs this node has acked (track.ackseq). */
  ackedSeq: number
  links: LinkEntry[]
  track: SeqTracker
}

export class NodeTable {
  readonly nodes: NodeEntry[] = []

  private readonly localNode: string
  private readonly linkNames: readonly string[]
  private readonly localDeadtimeMs: number
  private readonly random: () => number

  constructor(localNode: string, linkNames: readonly string[], localDeadtimeMs: number, random: () => number) {
    this.localNode = localNode
    this.linkNames = linkNames
    this.localDeadtimeMs = localDeadtimeMs
    this.random = random
  }

  /** add_node: config order is kept; each node gets its own random ack trigger. */
  add(name: string, uuid: Buffer | undefined): NodeEntry {
    const entry: NodeEntry = {
      name,
      isSelf: name === this.localNode,
      uuid,
      status: 'init',
      deadMs: this.localDeadtimeMs,
      lastStatusMs: undefined,
      statusTs: 0,
      statusSeq: 0,
      anyPacketsYet: false,
      rejoinUnasked: false,
      ackTrigger: Math.min(ACK_DIV - 1, Math.floor(this.random() * ACK_DIV)),
      ackedSeq: 0,
      links: this.linkNames.map((l) => ({ name: l, status: 'dead', lastPacketMs: undefined })),
      track: new SeqTracker(),
    }
    this.nodes.push(entry)
    return entry
  }

  remove(name: string): boolean {
    const i = this.nodes.findIndex((n) => n.name === name && !n.isSelf)
    if (i < 0) return false
    this.nodes.splice(i, 1)
    return true
  }

  byName(name: string): NodeEntry | undefined {
    return this.nodes.find((n) => n.name === name)
  }

  /** lookup_tables: by srcuuid first, then by exact (case-sensitive, lowercase-stored) name. */
  lookup(name: string, uuid: Buffer | undefined): NodeEntry | undefined {
    if (uuid !== undefined && uuid.length === 16) {
      const byUuid = this.nodes.find((n) => n.uuid !== undefined && n.uuid.equals(uuid))
      if (byUuid) return byUuid
    }
    return this.byName(name)
  }

  uuidOf(name: string): Buffer | undefined {
    return this.byName(name)?.uuid
  }

  /** live_node_count: us plus every normal peer that is up or active. */
  liveCount(): number {
    return this.nodes.filter((n) => n.isSelf || n.status === 'up' || n.status === 'active').length
  }
}

export function clampStatus(st: string): string {
  return st.length > MAX_STATUS_CHARS ? st.slice(0, MAX_STATUS_CHARS) : st
}
