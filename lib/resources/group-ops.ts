// ResourceManager's takegroup/givegroup as resumable steps: start left to right, stop right to left.
import type { ResourceGroup, ResourceRef } from '../config/haresources.js'
import type { AgentOp, GroupRunState, GroupTransition, LogLevel } from './rm-types.js'

/** One step a job waits on: an agent call, or a pause (virtual time). */
export type JobStep =
  | { kind: 'agent'; group: GroupState; index: number; op: AgentOp }
  | { kind: 'wait'; ms: number }

export interface StepResult {
  ok: boolean
  running: boolean
  exitCode?: number
  detail?: string
}

export type JobGen<T = void> = Generator<JobStep, T, StepResult>

export interface GroupState {
  def: ResourceGroup
  /** The haresources line names us as preferred owner. */
  local: boolean
  state: GroupRunState
  /** True while any of its resources may be up here (starting, running, stopping, stuck). */
  held: boolean
  last: GroupTransition | null
}

export interface GroupOpsHost {
  log(level: LogLevel, text: string): void
  transition(g: GroupState, to: GroupRunState, reason: string, held: boolean): void
  stopFailed(g: GroupState, res: ResourceRef): void
  /** A start failed and the group was given back: heartbeat runs hb_standby 30 s later. */
  startFailed(g: GroupState, res: ResourceRef): void
  /** A shutdown waits for the running work (rsc_needs_shutdown): a take stops starting more. */
  shutdownWaiting(): boolean
  stopRetryMs: number
  stopRetryMax: number
  stuckStopRetryMs: number
}

function label(res: ResourceRef, op: AgentOp): string {
  return [res.agent, ...res.args, op].join(' ')
}

function groupLine(g: GroupState): string {
  // ResourceManager prints the line with the node lower-cased and blanks collapsed.
  return [g.def.node.toLowerCase(), ...g.def.resources.map((r) => r.text)].join(' ')
}

function* agent(g: GroupState, index: number, op: AgentOp): JobGen<StepResult> {
  return yield { kind: 'agent', group: g, index, op }
}

/**
 * acquireresourcegroup: for each resource left to right, skip it if its status says running,
 * else start it. On the first failure: "CRIT: Giving up resources due to failure of X" and
 * the group is given back (what started, right to left). Returns whether the group runs.
 * (heartbeat stops every resource of the group; we stop only those up to the failed one,
 * the later ones never ran.)
 */
export function* takeGroup(host: GroupOpsHost, g: GroupState, why: string): JobGen<boolean> {
  host.log('info', `Acquiring resource group: ${groupLine(g)}`)
  const resources = g.def.resources
  let starting = false
  for (let i = 0; i < resources.length; i++) {
    const res = resources[i]
    if (res === undefined) continue
    // Stronger than 3.0.6 (whose takeover child runs on beside the giveup): once a shutdown waits on us,
    // e.g. the yield after a healed partition, each further start only lengthens the time both directors
    // hold the address. The giveup then releases the whole group, the part never started included.
    const cutShort = (): boolean => {
      if (!starting || !host.shutdownWaiting()) return false
      host.log('warn', `Takeover of resource group ${g.def.key} cut short before ${res.text}: a shutdown is waiting; the group is released next.`)
      return true
    }
    if (cutShort()) return false
    const st = yield* agent(g, i, 'status')
    if (st.running) continue
    if (cutShort()) return false
    if (!starting) host.transition(g, 'starting', why, true)
    starting = true
    host.log('info', `Running ${label(res, 'start')}`)
    const r = yield* agent(g, i, 'start')
    if (!r.ok) {
      host.log('error', `Return code ${r.exitCode ?? 'unknown'} from ${res.agent}${r.detail ? `: ${r.detail}` : ''}`)
      host.log('crit', `Giving up resources due to failure of ${res.text}`)
      g.held = true
      yield* giveGroup(host, g, `start of ${res.text} failed`, i, 'failed')
      host.startFailed(g, res)
      return false
    }
  }
  host.transition(g, 'running', why, true)
  return true
}

/*
 * STOP FAILURE POLICY (quotable for haresources(5)/heartbeat(8)):
 *
 *   heartbeat 3.0.6 retries a failed `stop` once a second, HA_STOPRETRYMAX (10) times. If it
 *   still fails and `status` says the resource is stopped, it only warns ("probably not
 *   LSB-compliant"). If `status` says it is still running, ResourceManager logs "Resource
 *   STOP failure. Reboot required!", kills heartbeat with SIGKILL and reboots the machine.
 *
 *   heartbeat-ts keeps the retries and the "probably not LSB-compliant" case, but does not
 *   reboot. When a stop keeps failing and the resource still reports running, it logs the
 *   same CRIT line, marks the group `failed` (held here), and never reports the group as
 *   released: no `ask_resources info=done`, no `shutdone`, no `ip-request-resp` goes out for
 *   it, so a peer never starts a second copy of the service address. The node keeps sending
 *   heartbeats (so the peer does not declare it dead) and retries the stop every 30 s,
 *   logging each failure, until it succeeds or status reports stopped; then the interrupted
 *   standby, shutdown or hand-over continues where it stopped. While a stop is stuck no
 *   other resource operation runs on this node; `hbctl status` shows the group `failed`.
 *   An admin who wants heartbeat's behaviour reboots the node: the peer then takes over
 *   after deadtime.
 */
export function* giveGroup(
  host: GroupOpsHost,
  g: GroupState,
  why: string,
  upTo: number = g.def.resources.length - 1,
  finalState: 'stopped' | 'failed' = 'stopped',
): JobGen<void> {
  host.log('info', `Releasing resource group: ${groupLine(g)}`)
  // heartbeat stops every group on shutdown, held or not; only a held one changes state here.
  const wasHeld = g.held
  if (wasHeld) host.transition(g, 'stopping', why, true)
  for (let i = upTo; i >= 0; i--) {
    const res = g.def.resources[i]
    if (res === undefined) continue
    host.log('info', `Running ${label(res, 'stop')}`)
    let r = yield* agent(g, i, 'stop')
    let retries = 0
    while (!r.ok && retries < host.stopRetryMax) {
      yield { kind: 'wait', ms: host.stopRetryMs }
      retries++
      host.log('info', `Retrying failed stop operation [${res.text}]`)
      r = yield* agent(g, i, 'stop')
    }
    if (r.ok) continue
    let st = yield* agent(g, i, 'status')
    if (!st.running) {
      host.log('error', `Resource script for ${res.text} probably not LSB-compliant.`)
      host.log('warn', `it (${res.text}) MUST succeed on a stop when already stopped`)
      host.log('warn', 'Machine reboot narrowly avoided!')
      continue
    }
    host.log('crit', 'Resource STOP failure. Reboot required!')
    host.log(
      'crit',
      `heartbeat-ts does not reboot: group ${g.def.key} stays held here and is not reported released;` +
        ` retrying the stop of ${res.text} every ${Math.round(host.stuckStopRetryMs / 1000)} s`,
    )
    host.transition(g, 'failed', `stop of ${res.text} failed`, true)
    host.stopFailed(g, res)
    for (;;) {
      yield { kind: 'wait', ms: host.stuckStopRetryMs }
      r = yield* agent(g, i, 'stop')
      if (r.ok) {
        host.log('info', `Stop of ${res.text} succeeded; continuing the release of group ${g.def.key}`)
        break
      }
      st = yield* agent(g, i, 'status')
      if (!st.running) {
        host.log('warn', `Stop of ${res.text} still fails but its status says stopped; continuing`)
        break
      }
      host.log('crit', `Resource STOP failure persists for ${res.text}: group ${g.def.key} still held here`)
    }
    host.transition(g, 'stopping', why, true)
  }
  if (wasHeld || finalState === 'failed') host.transition(g, finalState, why, false)
}
