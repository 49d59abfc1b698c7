// Events fed into the release-1 ResourceManager and the actions it hands back (sans-I/O contract).
import type { HaMessage } from '../wire/message.js'
import type { ResourceRef } from '../config/haresources.js'
import type { RscWord, StandbyArg } from './resource-sets.js'
import type { LogLevel } from '../config/log-level.js'
import type { StonithDevice } from '../config/stonith.js'

/** How a reset ended (cluster-glue's S_OK, S_BADHOST, anything else), as 3.0.6 reports it on the wire. */
export type StonithOutcome = 'ok' | 'badhost' | 'bad'

export type AgentOp = 'start' | 'stop' | 'status'

export type RmEvent =
  /** Membership reached comm-up (reqnodes/repnodes done, our status now `active`, §5.3 step 5). */
  | { type: 'comm-up' }
  /** A node's status as the membership layer sees it; `dead` runs the dead-node recovery (§6.2). */
  | { type: 'node-status'; node: string; status: string }
  /** A node came back with a higher generation: it may hold resources again (§3.3). */
  | { type: 'node-restarted'; node: string }
  /** A cluster message from another node, already accepted by membership; needs `t` and `src`. */
  | { type: 'message'; msg: HaMessage }
  /**
   * A message this node sent, handed back as heartbeat hears its own broadcast: every `send` of the
   * manager and every FIFO message (hb_standby, hb_takeover, mach_down, ha_clustermsg), exactly once,
   * after the batch of actions that sent it. The manager does not loop its own sends back itself.
   */
  | { type: 'own-message'; msg: HaMessage }
  /** `hbctl standby [set]` / hb_standby: ask the peer to take `set` from us. */
  | { type: 'standby'; arg?: StandbyArg }
  /** `hbctl takeover [set]` / hb_takeover: ask the peer to hand `set` to us. */
  | { type: 'takeover'; arg?: StandbyArg }
  /** The answer to a `run-agent` action. For `status`, `running` is the §9.2 reading of stdout. */
  | { type: 'agent-result'; id: number; ok: boolean; running?: boolean; exitCode?: number; detail?: string }
  /**
   * Graceful shutdown (SIGTERM, `heartbeat -k`): release everything, then send `shutdone`.
   * `yielding`: we give a contested group up after a heal or a split brain; release once our own
   * work is done, without waiting for the start-up arbitration (ours or the peer's) to settle.
   */
  | { type: 'shutdown'; yielding?: boolean }
  /**
   * We keep our groups through a healed partition: say what we hold (hb_send_resources_held), and ask
   * the peer to give up each of our own groups we run (ip-request). A peer that started apart from us,
   * or never saw the partition, may run the same groups and knows nothing of ours until told.
   */
  | { type: 'kept-after-heal' }
  /** The answer to a `run-stonith` action; `detail` is what the shell saw (exit code, timeout). */
  | { type: 'stonith-result'; id: number; node: string; outcome: StonithOutcome; detail?: string }

export type { LogLevel }

export type RmAction =
  /** Message fields only; membership appends src, srcuuid, seq, hg, ts, ld, ttl, auth. */
  | { type: 'send'; msg: HaMessage }
  /** Run `<agent> [args…] <op>`; answer with an `agent-result` event carrying the same id. */
  | { type: 'run-agent'; id: number; group: string; index: number; resource: ResourceRef; op: AgentOp }
  /** End that call now (its process group killed, a built-in aborted); it still answers, as failed. */
  | { type: 'cancel-agent'; id: number }
  | { type: 'log'; level: LogLevel; text: string }
  /** A resource would not stop (after retries); the group stays held and is not reported released. */
  | { type: 'stop-failed'; group: string; resource: string }
  /** Our own `shutdone` went out: the daemon runs its final phases (§5.5 step 4) and exits. */
  | { type: 'shutdown-complete' }
  /** Reset `node` with the device (cluster-glue `stonith -T reset`); answer with a `stonith-result` event carrying the same id. */
  | { type: 'run-stonith'; id: number; node: string; device: StonithDevice }
  /** The peer gave up a group we kept after a heal (its answer to our ip-request): re-announce our addresses. */
  | { type: 'peer-gave-up' }

export type GroupRunState = 'stopped' | 'starting' | 'running' | 'stopping' | 'failed'

export interface GroupTransition {
  from: GroupRunState
  to: GroupRunState
  atMs: number
  reason: string
}

export interface GroupSnapshot {
  key: string
  node: string
  resources: string[]
  /** Node holding the group as far as we know: us, the peer (nice_failback reports), or null. */
  holder: string | null
  state: GroupRunState
  lastTransition: GroupTransition | null
}

export type ResourceState = 'init' | 'starting' | 'bothstarting' | 'rscrcvd' | 'stable' | 'shutdown'
export type StandbyPhase = 'not' | 'me' | 'other' | 'done'

export interface RmSnapshot {
  mode: 'legacy' | 'on' | 'off'
  /** `cl_status rscstatus`: none/local/foreign/all, or transition while not stable; legacy: none. */
  rscstatus: RscWord | 'transition'
  resourceState: ResourceState
  standby: StandbyPhase
  iHold: RscWord
  otherHolds: RscWord
  otherIsStable: boolean
  busy: boolean
  groups: GroupSnapshot[]
}
