// Liveness: when a node or a link is declared dead, what a status proves, and what a node's death forgets.
import type { LinkEntry, NodeEntry } from './node-table.js'

/** What the deadlines depend on besides the node table. */
export interface LivenessView {
  running: boolean
  /** Comm state links-up: before it, everyone (and every link) gets initdead. */
  linksUp: boolean
  /** Our own restart is under way: our own silence no longer counts. */
  restartRequested: boolean
  startMs: number
  deadtimeMs: number
  initdeadMs: number
}

/** A node is declared dead at lastStatus + its dead time (initdead for everyone until links are up). */
export function nodeDeadlineMs(n: NodeEntry, v: LivenessView): number | undefined {
  if (!v.running || n.status === 'dead') return undefined
  if (n.isSelf && v.restartRequested) return undefined
  const deadMs = v.linksUp ? n.deadMs : v.initdeadMs
  return (n.lastStatusMs ?? v.startMs) + deadMs
}

export function linkTimeoutMs(nodes: readonly NodeEntry[], v: LivenessView): number {
  // 3.0.6 quirk: every link times out after the dead time of the LAST node in the configuration
  const last = nodes[nodes.length - 1]
  return v.linksUp ? (last?.deadMs ?? v.deadtimeMs) : v.initdeadMs
}

/** Every peer link that is up, with the time it times out. */
export function upLinkDeadlines(nodes: readonly NodeEntry[], timeoutMs: number): { node: NodeEntry; link: LinkEntry; atMs: number }[] {
  const out: { node: NodeEntry; link: LinkEntry; atMs: number }[] = []
  for (const node of nodes) {
    if (node.isSelf) continue
    for (const link of node.links) if (link.status === 'up' && link.lastPacketMs !== undefined) out.push({ node, link, atMs: link.lastPacketMs + timeoutMs })
  }
  return out
}

/** A status older, by both its ts and its seq, than the one we hold (a late retransmission): no sign of life. */
export function isStaleStatus(n: NodeEntry, ts: number, seq: number): boolean {
  return ts < n.statusTs && seq < n.statusSeq
}

/** HBDoMsg_T_STATUS's lateness check: past the deadtime heartbeat logs crit (and a peer is dead), past warntime a warning. */
export function lateHeartbeat(n: NodeEntry, nowMs: number, t: { deadtimeMs: number; warntimeMs: number }): { level: 'crit' | 'warn'; text: string; pastDeadtime: boolean } | undefined {
  if (n.lastStatusMs === undefined) return undefined
  const interval = nowMs - n.lastStatusMs
  if (interval > t.deadtimeMs) return { level: 'crit', text: `Late heartbeat: Node ${n.name}: interval ${interval} ms (> deadtime)`, pastDeadtime: true }
  if (interval > t.warntimeMs) return { level: 'warn', text: `Late heartbeat: Node ${n.name}: interval ${interval} ms`, pastDeadtime: false }
  return undefined
}

/** An accepted status is the node's latest sign of life: its advertised dt (when it sent one), ts, seq, and when we heard it. */
export function recordStatus(n: NodeEntry, ts: number, seq: number, dtMs: number | undefined, nowMs: number): void {
  if (dtMs !== undefined) n.deadMs = dtMs
  n.statusTs = ts
  n.lastStatusMs = nowMs
  n.statusSeq = seq
}

/** A peer declared dead: its status, packets-seen flag, seq tracking and acks start over. Returns its previous status. */
export function forgetDeadNode(n: NodeEntry): string {
  const previous = n.status
  n.status = 'dead'
  n.statusTs = 0
  n.anyPacketsYet = false
  n.track.reset()
  n.ackedSeq = 0
  return previous
}

/** The earliest of some deadlines; undefined when none is set. */
export function earliest(deadlines: readonly (number | undefined)[]): number | undefined {
  let min: number | undefined
  for (const t of deadlines) if (t !== undefined && (min === undefined || t < min)) min = t
  return min
}
