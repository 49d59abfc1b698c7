// The node core's vocabulary: the events the shell feeds in, the actions it carries out, and how a
// life ends. Data only (lib/daemon/node-core.ts holds the logic).

import type { Membership, MembershipSnapshot } from '../cluster/membership.js'
import type { RmAction, RmEvent, RmSnapshot } from '../resources/rm-types.js'
import type { ResourceManager } from '../resources/resource-manager.js'
import type { RscWord, StandbyArg } from '../resources/resource-sets.js'
import type { ResourceGroup, ResourceRef } from '../config/haresources.js'
import type { HaMessage } from '../wire/message.js'
import type { LogLevel } from '../config/log-level.js'
import type { PingNodes, PingNodeSnapshot } from '../cluster/ping-nodes.js'
import type { Ipfail } from '../resources/ipfail.js'

export type { LogLevel }

/** §5.5 step 4: one more status 1 s after `shutdone`, then 1 s later the I/O stops. */
export const FINAL_PHASE_STEP_MS = 1000
/** hb_mcp_final_shutdown before a restart: peers wait this much longer for our new generation. */
export const RESTART_EXTRA_DEADTIME_MS = 30_000
/** How long past an agent's own timeout we still wait for its result (the runner's kill and reap). */
export const AGENT_RESULT_GRACE_MS = 2000

export type NodeSignal = 'TERM' | 'HUP' | 'USR1' | 'USR2'

/** The state files the core asks the shell to write (lib/io/state-files.ts writeStateFile). */
export type StateFile = 'hostcache'

export type AgentResultEvent = Extract<RmEvent, { type: 'agent-result' }>
export type RunAgentAction = Extract<RmAction, { type: 'run-agent' }>
export type StonithResultEvent = Extract<RmEvent, { type: 'stonith-result' }>
export type RunStonithAction = Extract<RmAction, { type: 'run-stonith' }>

/** What the shell found when it prepared a reload (files read, media opened, membership built). */
export type ReloadOutcome =
  /** Nothing to do, or only something the shell applied itself (authkeys, a reopened log). */
  | { kind: 'applied'; message: string }
  /** A step failed: nothing changed; `reason` says which. */
  | { kind: 'refused'; reason: string }
  /** The next life is prepared and checked; the running one may now end. */
  | { kind: 'restart'; reason: string; haresourcesChanged: boolean }

export type NodeEvent =
  /** Begin sending (membership start). */
  /** `warm`: this life follows a reload's in-process restart (see Membership.start). */
  | { type: 'start'; warm?: boolean }
  /** An authenticated, decoded message (or our own, recognised by its bytes) on medium `link`. */
  | { type: 'datagram'; msg: HaMessage; link: string }
  /** The shell's timer fired: run whatever is due at `now`. */
  | { type: 'timer' }
  | AgentResultEvent
  /** The answer to a `run-stonith` action. */
  | StonithResultEvent
  /** A message a local script wrote into the FIFO (hb_standby, mach_down …). */
  | { type: 'fifo'; msg: HaMessage }
  /** hbctl standby/takeover (the control side has already applied the legacy refusal). */
  | { type: 'control'; request: 'standby' | 'takeover'; arg?: StandbyArg }
  | { type: 'signal'; signal: NodeSignal }
  /** hbctl reload; `replyTo` comes back on the `reply` action. */
  | { type: 'reload'; replyTo: number }
  /** The shell's answer to `check-reload`. */
  | { type: 'reload-checked'; replyTo?: number; outcome: ReloadOutcome }
  /** /proc/loadavg as the shell last read it (the `ld` field). */
  | { type: 'loadavg'; value: string }
  /** An ICMP echo reply for ping node `node` (a ping_group's name for any of its addresses). */
  | { type: 'ping-reply'; node: string }

/** How one life of the daemon ends; `restart` runs a new life (new generation) in the same process. */
export type LifeEnd =
  | { kind: 'exit'; code: number }
  /**
   * `held`: what the new life starts holding (heartbeat -R -C); undefined after a restart that gave
   * everything up. `prepared`: the new life was prepared by a reload check (else the shell builds it
   * from the current configuration).
   */
  | { kind: 'restart'; held: RscWord | undefined; reason: string; prepared: boolean }

export type NodeAction =
  /** A stamped message for every medium. */
  | { type: 'transmit'; msg: HaMessage }
  /** Run an agent; answer with an `agent-result` event carrying the same id. */
  | RunAgentAction
  /** End a running agent call now (run.ts aborts it); it still answers, as failed. */
  | { type: 'cancel-agent'; id: number }
  /** Reset a dead peer with the STONITH device; answer with a `stonith-result` event carrying the same id. */
  | RunStonithAction
  | { type: 'log'; level: LogLevel; text: string }
  /** Reopen the log, look at the configuration files and prepare (not start) the next life; answer with `reload-checked`. */
  | { type: 'check-reload'; replyTo?: number }
  | { type: 'reply'; replyTo: number; ok: boolean; message: string }
  | { type: 'set-debug'; level: number }
  /**
   * After a yield, our copies gone: announce these addresses with the MAC of whoever holds them now (a
   * 3.0.6 survivor never re-announces an address it already held). Fire and forget.
   */
  | { type: 'announce-for-holder'; resources: ResourceRef[] }
  /** This life is over: close its I/O and exit or start the next one. */
  | { type: 'end'; end: LifeEnd }
  /** A state file changed (the host cache, when a node's uuid is learned): replace it in the state directory. */
  | { type: 'write-state'; file: StateFile; text: string }
  /** Communication is up (comm_now_up): the shell starts the ha.cf respawn clients. */
  | { type: 'comm-up' }
  /** Something an admin asks about afterwards ("why did it fail over?"): the shell journals it. */
  | { type: 'event'; event: HistoryEvent }

/** Why a group changed hands, as a word a script can test; `text` in the event says more. */
export type CauseKind = 'start-up' | 'peer-dead' | 'peer-back' | 'standby-request' | 'takeover-request' | 'auto_failback' | 'healed-partition' | 'shutdown' | 'peer-message' | 'agent-result' | 'timer'

/** One entry of the event history (hbctl events); times are the core's monotonic ms. */
export type HistoryEvent =
  /** `silentMs`: since its last status; `links`: each link and ms since a packet last came on it. */
  | { kind: 'node-dead'; node: string; silentMs: number | undefined; deadtimeMs: number; links: Array<{ link: string; silentMs: number | undefined }> }
  | { kind: 'node-back'; node: string; status: string }
  | { kind: 'link'; node: string; link: string; status: 'up' | 'dead' }
  /** A group changed state here: a takeover (starting/running) or a release (stopping/stopped), and why. */
  | { kind: 'group'; group: string; from: string; to: string; cause: CauseKind; text: string }
  | { kind: 'agent'; group: string; resource: string; op: string; ok: boolean; exitCode?: number; durationMs: number; detail?: string }
  /** `by`: who asked (hbctl, the FIFO, or the peer's name). */
  | { kind: 'request'; request: 'standby' | 'takeover'; by: string }
  | { kind: 'reload'; outcome: ReloadOutcome['kind']; text: string }
  | { kind: 'shutdown'; text: string }
  /** A STONITH reset of `node` with the cluster-glue `device` type: begun, then its outcome; `attempt` counts from 1 until one succeeds. */
  | { kind: 'stonith'; node: string; device: string; attempt: number; outcome: 'started' | StonithResultEvent['outcome']; durationMs?: number; detail?: string }

/** Counters the core keeps for hbctl metrics (membership keeps its own); one shape, defined with the exposition format. */
export type { CoreCounters } from '../control/metrics-format.js'

/** Test observer: upper-layer messages as stamped when sent, and peer messages handed to the resource manager. */
export interface NodeObserver {
  sent?(msg: HaMessage, atMs: number): void
  delivered?(msg: HaMessage, atMs: number): void
}

export interface NodeCoreOptions {
  membership: Membership
  /** Absent with heartbeat -M or pacemaker on. */
  resources?: ResourceManager
  pid: number
  debugLevel: number
  /** The longest an agent may run (heartbeat-ts.conf [agents] timeout): bounds the wait at a restart or exit. */
  agentTimeoutMs: number
  loadavg?: string
  /** haresources, for re-announcing the addresses we keep after a healed partition. */
  groups?: readonly ResourceGroup[]
  observer?: NodeObserver
  /** ha.cf ping, ping6 and ping_group nodes; absent when there are none. */
  pingNodes?: PingNodes
  /** The built-in ipfail (ha.cf `respawn … ipfail`); needs pingNodes. */
  ipfail?: Ipfail
}

/**
 * Where this life is. `releasing`: the resource manager gives everything up; `final`: the two steps
 * of §5.5 step 4 after our `shutdone`; `draining`: the end is decided, agents still running are
 * awaited (each bounded by its timeout) so their results are not lost.
 */
export type Phase =
  | { kind: 'running' }
  | { kind: 'releasing'; then: Then }
  | { kind: 'final'; step: 1 | 2; atMs: number; then: Then }
  | { kind: 'draining'; end: LifeEnd; feedResults: boolean }
  | { kind: 'ended' }

/** After a graceful release: exit, or restart holding nothing (a healed partition, as 3.0.6). */
export type Then = { kind: 'exit' } | { kind: 'restart'; reason: string }

export interface NodeSnapshot {
  membership: MembershipSnapshot
  resources: RmSnapshot | undefined
  phase: Phase['kind']
  runningAgents: number
  debugLevel: number
  /** Why each group last changed state here (its last group event's cause, in words). */
  groupCauses: Record<string, string>
  /** The ping nodes and what their echo replies say. */
  pingNodes: PingNodeSnapshot[]
}
