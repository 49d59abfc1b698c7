// ResourceManager's takegroup/givegroup as resumable steps: start left to right, stop right to left.
import type { ResourceGroup, ResourceRef } from '../config/haresources.js'
import type { AgentOp, GroupRunState, GroupTransition, LogLevel } from './rm-types.js'

/** One step a job waits on: an agent call, or a pause (virtual time). */
export type JobStep =
  /** `yields`: the call is cancelled (answered as failed) when a group start queues behind it. */
  | { kind: 'agent'; group: GroupState; index: number; op: AgentOp; yields?: boolean }
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
  /**
   * Its resources are built-in IPaddr and lvs only: a release may take the addresses down first and
   * tell the peer before the IPVS table goes (see releaseAddressesFirst).
   */
  addressFirst: boolean
}

export interface GroupOpsHost {
  log(level: LogLevel, text: string): void
  transition(g: GroupState, to: GroupRunState, reason: string, held: boolean): void
  stopFailed(g: GroupState, res: ResourceRef): void
  /** A start failed and the group was given back: heartbeat runs hb_standby 30 s later. */
  startFailed(g: GroupState, res: ResourceRef): void
  /** A shutdown waits for the running work (rsc_needs_shutdown): a take stops starting more. */
  shutdownWaiting(): boolean
  /** A group start (takeover, acquire) is queued behind the running job: a release's tail gives way to it. */
  groupStartWaiting(): boolean
  /** The resource's start checks its own status (RmOptions.selfCheckingAgents): no status call before it. */
  startChecksItself(res: ResourceRef): boolean
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

function* agent(g: GroupState, index: number, op: AgentOp, yields = false): JobGen<StepResult> {
  return yield { kind: 'agent', group: g, index, op, yields }
}

/**
 * acquireresourcegroup: for each resource left to right, skip it if its status says running,
 * else start it (an agent whose start checks that itself is started at once). On the first failure: "CRIT: Giving up resources due to failure of X" and
 * the group is given back (what started, right to left). Returns whether the group runs.
 * (heartbeat stops every resource of the group; we stop only those up to the failed one,
 * the later ones never ran.)
 */
export function* takeGroup(host: GroupOpsHost, g: GroupState, why: string): JobGen<boolean> {
  host.log('info', `Acquiring resource group: ${groupLine(g)}`)
  const resources = g.def.resources
  let starting = false
  // A group that may be up here already (a reload's restart re-taking what it kept, an `all` standby
  // re-taking our own) keeps 3.0.6's status-first check: a start there could only do harm (a start
  // that fails gives up a working address; an lvs start re-adds servers the monitor took out).
  const wasHeld = g.held
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
    // The built-ins' start checks for itself (an address already up is only announced again, an IPVS
    // table is brought to what it should be and its monitor started if gone): for a group not held
    // here, one helper process less on every takeover's path, and a table a cut-short stop or an exit
    // left behind without its monitor is never taken for running.
    if (wasHeld || !host.startChecksItself(res)) {
      const st = yield* agent(g, i, 'status')
      if (st.running) continue
    }
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
 *
 *   A group of built-in IPaddr and lvs only is reported released once its addresses are down
 *   (releaseAddressesFirst): its address is then the peer's, and its lvs stop after that is
 *   bounded instead (stopTailResource).
 */
export function* giveGroup(
  host: GroupOpsHost,
  g: GroupState,
  why: string,
  upTo: number = g.def.resources.length - 1,
  finalState: 'stopped' | 'failed' = 'stopped',
): JobGen<void> {
  const wasHeld = beginRelease(host, g, why)
  for (let i = upTo; i >= 0; i--) yield* stopResource(host, g, i, why)
  if (wasHeld || finalState === 'failed') host.transition(g, finalState, why, false)
}

function beginRelease(host: GroupOpsHost, g: GroupState, why: string): boolean {
  host.log('info', `Releasing resource group: ${groupLine(g)}`)
  // heartbeat stops every group on shutdown, held or not; only a held one changes state here.
  const wasHeld = g.held
  if (wasHeld) host.transition(g, 'stopping', why, true)
  return wasHeld
}

/** The built-in address agent: what `addressFirst` groups take down before the rest. */
function isAddress(res: ResourceRef): boolean {
  return res.agent === 'IPaddr'
}

/**
 * The groups a release may take down address first: every resource runs the built-in IPaddr or lvs
 * (a site script keeps 3.0.6's order, whatever it does), and there is an lvs to stop after the address.
 */
export function addressFirstGroups(groups: readonly ResourceGroup[], runsBuiltin: (agent: string) => boolean): Set<string> {
  const keys = new Set<string>()
  for (const g of groups) {
    const all = g.resources.every((r) => (r.agent === 'IPaddr' || r.agent === 'lvs') && runsBuiltin(r.agent))
    if (all && g.resources.some(isAddress) && g.resources.some((r) => r.agent === 'lvs')) keys.add(g.key)
  }
  return keys
}

/**
 * Release `groups` and call `released` once no service address of theirs is up here any more, which
 * may be before the whole release ends (the standby's `done`, the shutdown's `shutdone`).
 *
 * Stronger than 3.0.6 on the hand-over's time, never weaker on the address: a group whose resources
 * are all built-in IPaddr and lvs (GroupState.addressFirst) has its addresses taken down first, then
 * `released` runs, then its lvs stops (monitor, IPVS services). The peer's start no longer waits for
 * the IPVS table's deletion, which the address never needed: no packet for the address reaches us
 * once it is gone, and a connection a new director sends a real server whose table still lives is
 * scheduled there once more, and keeps working when that table goes (IPVS keeps a deleted service's
 * connections). Every other group is released whole, right to left, before `released`, as 3.0.6 does.
 * A group whose address stop sticks is never reported released (the stop failure policy above).
 */
export function* releaseAddressesFirst(host: GroupOpsHost, groups: readonly GroupState[], why: string, released: () => void): JobGen<void> {
  const rest: Array<{ g: GroupState; wasHeld: boolean; indexes: number[] }> = []
  for (const g of groups) {
    if (!g.addressFirst) {
      yield* giveGroup(host, g, why)
      continue
    }
    const wasHeld = beginRelease(host, g, why)
    const indexes: number[] = []
    for (let i = g.def.resources.length - 1; i >= 0; i--) {
      const res = g.def.resources[i]
      if (res === undefined) continue
      if (isAddress(res)) yield* stopResource(host, g, i, why)
      else indexes.push(i)
    }
    rest.push({ g, wasHeld, indexes })
  }
  if (rest.length > 0) host.log('info', `Service addresses released (${rest.map((r) => r.g.def.key).join(', ')}); the peer is told before the rest of the stop.`)
  released()
  for (const { g, wasHeld, indexes } of rest) {
    for (const i of indexes) {
      if (!(yield* stopTailResource(host, g, i))) break
    }
    if (wasHeld) host.transition(g, 'stopped', why, false)
  }
}

/**
 * An lvs stop after the address went (the tail of releaseAddressesFirst). Bounded, unlike a stop
 * before the peer is told: its group's address is the peer's, so nothing here may block the queue
 * for good. 3.0.6's retries, but a group start queued behind us (a takeover after the peer died, an
 * acquire) cuts them short and cancels a call still running; a stop still failing after them is
 * logged and left. The group is stopped here, its IPVS table perhaps not: its next start here runs
 * the built-in lvs start whatever the table holds (RmOptions.selfCheckingAgents), which re-applies the
 * table and its monitor, in this life or a later one. False when the stop was left unfinished.
 */
function* stopTailResource(host: GroupOpsHost, g: GroupState, i: number): JobGen<boolean> {
  const res = g.def.resources[i]
  if (res === undefined) return true
  const { ok, tries } = yield* stopWithRetries(host, g, i, () => host.groupStartWaiting(), true)
  if (ok) return true
  const tail = 'its address is already released; the IPVS table may remain on this node until the group starts here again.'
  if (host.groupStartWaiting()) {
    host.log('warn', `Stop of ${res.text} in group ${g.def.key} left unfinished for the group start waiting behind it: ${tail}`)
    return false
  }
  host.log('crit', `Stop of ${res.text} in group ${g.def.key} left unfinished (it failed ${tries} times): ${tail}`)
  host.stopFailed(g, res)
  return false
}

/**
 * A stop with 3.0.6's retries (stopRetryMax more tries, stopRetryMs apart); `cutShort` ends them
 * early, checked before each call and after each pause. With `yields`, a call still running when a
 * group start queues behind it is cancelled (a hung ipvsadm must not hold a takeover until its 60 s
 * timeout).
 */
function* stopWithRetries(host: GroupOpsHost, g: GroupState, i: number, cutShort: () => boolean, yields: boolean): JobGen<{ ok: boolean; tries: number }> {
  const res = g.def.resources[i]
  if (res === undefined) return { ok: true, tries: 0 }
  if (cutShort()) return { ok: false, tries: 0 } // not started only to be cancelled
  host.log('info', `Running ${label(res, 'stop')}`)
  let r = yield* agent(g, i, 'stop', yields)
  let tries = 1
  while (!r.ok && tries <= host.stopRetryMax && !cutShort()) {
    yield { kind: 'wait', ms: host.stopRetryMs }
    if (cutShort()) break
    tries++
    host.log('info', `Retrying failed stop operation [${res.text}]`)
    r = yield* agent(g, i, 'stop', yields)
  }
  return { ok: r.ok, tries }
}

/** One resource's stop, with 3.0.6's retries and our stuck-stop policy. */
function* stopResource(host: GroupOpsHost, g: GroupState, i: number, why: string): JobGen<void> {
  const res = g.def.resources[i]
  if (res === undefined) return
  const first = yield* stopWithRetries(host, g, i, () => false, false)
  if (first.ok) return
  let st = yield* agent(g, i, 'status')
  if (!st.running) {
    host.log('error', `Resource script for ${res.text} probably not LSB-compliant.`)
    host.log('warn', `it (${res.text}) MUST succeed on a stop when already stopped`)
    host.log('warn', 'Machine reboot narrowly avoided!')
    return
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
    const r = yield* agent(g, i, 'stop')
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
