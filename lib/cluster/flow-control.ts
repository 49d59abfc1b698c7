// Flow control (3.0.6 with a peer of the same protocol): how full our send history is, and the cluster-wide ack.
import type { LogLevel } from './actions.js'
import type { NodeEntry } from './node-table.js'
import type { SendHistory } from './send-history.js'

/** FLOWCONTROL_LIMIT and the hist-queue warning thresholds (3/4 and 9/10 of MAXMSGHIST). */
const FLOWCONTROL_LIMIT = 250
const QUEUE_WARN = 375
const QUEUE_ERROR = 450

/** After a sequenced send: the warning to log when the history fills up; alone, our own ack advances instead. */
export function checkHistoryFill(history: SendHistory, liveCount: number): { level: LogLevel; text: string } | undefined {
  const queued = history.hiSeq - history.ackSeq
  if (liveCount > 1) {
    if (queued > QUEUE_ERROR) return { level: 'error', text: `Message hist queue is filling up (${queued} messages in queue)` }
    if (queued > QUEUE_WARN) return { level: 'warn', text: `Message hist queue is filling up (${queued} messages in queue)` }
  } else if (queued > FLOWCONTROL_LIMIT) {
    // alone: advance our own acknowledgement so history never "fills"
    history.ackSeq = history.hiSeq - (FLOWCONTROL_LIMIT - 1)
  }
  return undefined
}

/**
 * HBDoMsg_T_ACKMSG addressed to us: advance the peer's ack and the cluster-wide acknowledged seq.
 * 'corrupt' when the peer acks a seq we never sent.
 */
export function takeAck(history: SendHistory, from: NodeEntry, ackSeq: number | undefined, nodes: readonly NodeEntry[], liveCount: number): 'corrupt' | undefined {
  if (ackSeq === undefined || ackSeq === from.ackedSeq || ackSeq <= history.ackSeq) return undefined
  if (ackSeq > history.hiSeq) return 'corrupt'
  if (ackSeq < from.ackedSeq) return undefined
  from.ackedSeq = ackSeq
  const counted = nodes.filter((n) => n.status !== 'dead')
  if (counted.length === 0) return undefined
  if (liveCount < 2) {
    if (history.hiSeq - history.ackSeq >= FLOWCONTROL_LIMIT) history.ackSeq = history.hiSeq - (FLOWCONTROL_LIMIT - 1)
    return undefined
  }
  const min = Math.min(...counted.map((n) => n.ackedSeq))
  if (min > history.ackSeq) history.ackSeq = min
  return undefined
}
