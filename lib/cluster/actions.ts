// What the membership core asks the outside world to do: its output vocabulary, as data.
import type { HaMessage } from '../wire/message.js'

import type { LogLevel } from '../config/log-level.js'
export type { LogLevel }

/** Wall-clock facts the core cannot read itself: `ts` (time(2), seconds) and `ld` (/proc/loadavg). */
export interface MembershipEnv {
  wallSec: number
  loadavg: string
}

export type RestartReason = 'healed-partition' | 'no-local-heartbeat'

export type MembershipAction =
  /**
   * A fully stamped message, ready for encodePacket, to be sent on every medium. `statusCopy` k (1 ..
   * statusCopies-1) marks a redundant copy of a status already sent: the same object, so the same bytes.
   */
  | { type: 'transmit'; msg: HaMessage; retransmission: boolean; statusCopy?: number }
  /** A peer's status changed (`Status update for node X`, or it was declared dead). */
  | { type: 'node-status'; node: string; status: string; previous: string }
  /** A link (node, medium name) went up or dead. */
  | { type: 'link-status'; node: string; link: string; status: 'up' | 'dead' }
  /** A peer came back with a higher generation: fresh tracking, it may hold resources again. */
  | { type: 'node-restart'; node: string; generation: number }
  /** First time we learn a node's uuid (for the host cache). */
  | { type: 'uuid-learned'; node: string; uuid: Buffer }
  /** Communication is up: our status is now `active` (heartbeat's comm_now_up). */
  | { type: 'comm-up' }
  /** A message for the upper layers (resources, API), addressed to us or to everyone. */
  | { type: 'deliver'; msg: HaMessage; from: string; link: string | undefined }
  | { type: 'log'; level: LogLevel; text: string }
  /** heartbeat would now give up its resources and re-exec itself. */
  | { type: 'restart-self'; reason: RestartReason }
  /** A node we had declared dead is back in the same generation (a partition healed), as it is seen. */
  | { type: 'partition-healed'; node: string }

export function logAction(level: LogLevel, text: string): MembershipAction {
  return { type: 'log', level, text }
}
