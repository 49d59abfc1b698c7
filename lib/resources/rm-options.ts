// What the release-1 resource manager is built from: ha.cf's nodes and auto_failback, haresources, its timers.
import type { ResourceGroup } from '../config/haresources.js'
import type { RscWord } from './resource-sets.js'

import type { AutoFailback } from '../config/ha-cf.js'
import type { StonithDevice } from '../config/stonith.js'
export type { AutoFailback, StonithDevice }

export interface ResourceTimers {
  /** RQSTDELAY: take our local groups anyway this long after the first `resource` message. */
  rqstDelayMs: number
  /** STANDBY_INIT_TO_MS: wait for the peer's `other` reply. */
  standbyReplyMs: number
  /** HB_STANDBY_RSC_TO_MS: how long a standby may spend moving resources. */
  standbyRscMs: number
  /** ResourceManager: pause between stop retries, and how many (HA_STOPRETRYMAX). */
  stopRetryMs: number
  stopRetryMax: number
  /** Ours: pause between retries of a stop that is stuck (see the policy in group-ops.ts). */
  stuckStopRetryMs: number
  /** ResourceManager: `(sleep 30; hb_standby local|foreign) &` after a failed start. */
  failedStartStandbyMs: number
  /** PerformAutoFailback: "Auto failback delayed." retry period. */
  autoFailbackRetryMs: number
  /** StonithProcessDied: "STONITH of X failed.  Retrying..." after this long. */
  stonithRetryMs: number
}

export const DEFAULT_RESOURCE_TIMERS: ResourceTimers = {
  rqstDelayMs: 10_000,
  standbyReplyMs: 10_000,
  standbyRscMs: 3_600_000,
  stopRetryMs: 1_000,
  stopRetryMax: 10,
  stuckStopRetryMs: 30_000,
  failedStartStandbyMs: 30_000,
  autoFailbackRetryMs: 1_000,
  stonithRetryMs: 5_000,
}

export interface ResourceManagerOptions {
  /** Our node name as on the wire (uname -n, lower case). */
  me: string
  /** Normal (non-ping) nodes from ha.cf, ourselves included. */
  nodes: readonly string[]
  groups: readonly ResourceGroup[]
  autoFailback: AutoFailback
  timers?: Partial<ResourceTimers>
  /** Shown in "Heartbeat shutdown in progress. (pid)". */
  pid?: number
  /** `heartbeat -R -C <held>`: restarting while keeping resources (WeAreRestarting). */
  restartHeld?: RscWord
  /** ha.cf's `stonith`/`stonith_host` device for this node: a dead peer is reset before its groups are taken. */
  stonith?: StonithDevice
  /**
   * Keys of the groups whose resources all run the built-in IPaddr or lvs: a release takes their
   * addresses down first and tells the peer before their lvs stop (group-ops.ts releaseAddressesFirst).
   */
  addressFirstGroups?: ReadonlySet<string>
  /**
   * Agents whose start finds out itself whether the resource already runs (the built-in IPaddr: an
   * address already up here is only announced again; the built-in lvs: the table is brought to what it
   * should be, its monitor started if gone): a take of a group not held here runs their start
   * without a status call first.
   */
  selfCheckingAgents?: ReadonlySet<string>
}
