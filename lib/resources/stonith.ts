// STONITH before takeover (hb_resource.c: Initiate_Reset, StonithProcessDied, StonithProc): a dead
// peer that may hold resources is reset with the configured device first; its groups are taken only
// once a reset succeeded, and a failed reset is retried every stonithRetryMs until one does.
import type { StonithDevice } from '../config/stonith.js'
import { stonithMsg } from './rm-messages.js'
import type { StonithOutcome } from './rm-types.js'
import { log, sendCluster } from './rsc-state.js'
import type { RscState } from './rsc-state.js'
import { takeoverFromNode } from './takeover.js'

/** One peer being fenced: a reset is running (answer `id` awaited), or the next try is due at `retryAtMs`. */
export type StonithRun = { phase: 'resetting'; id: number } | { phase: 'waiting'; retryAtMs: number }

export interface StonithState {
  readonly device: StonithDevice | undefined
  nextId: number
  /** By node name (lower case). */
  readonly runs: Map<string, StonithRun>
}

export function createStonithState(device: StonithDevice | undefined): StonithState {
  return { device, nextId: 1, runs: new Map() }
}

/** Initiate_Reset(config->stonith, node, TRUE): one reset at a time per peer. */
export function resetNode(s: RscState, node: string): void {
  const st = s.stonith
  if (st.device === undefined || st.runs.has(node)) return
  runReset(s, st.device, node)
}

function runReset(s: RscState, device: StonithDevice, node: string): void {
  const id = s.stonith.nextId++
  s.stonith.runs.set(node, { phase: 'resetting', id })
  log(s, 'info', `Resetting node ${node} with [${device.type}]`)
  s.out.push({ type: 'run-stonith', id, node, device })
}

/** The reset's child exited: Initiate_Reset's own report and message, then StonithProcessDied. */
export function onStonithResult(s: RscState, id: number, node: string, outcome: StonithOutcome): void {
  const run = s.stonith.runs.get(node)
  if (run?.phase !== 'resetting' || run.id !== id) {
    log(s, 'info', `STONITH of ${node} ${outcome === 'ok' ? 'succeeded' : 'failed'} after ${node} came back; its resources are not taken.`)
    return
  }
  const type = s.stonith.device?.type ?? '?'
  switch (outcome) {
    case 'ok':
      log(s, 'info', `node ${node} now reset.`)
      sendCluster(s, stonithMsg(node, 'OK'))
      break
    case 'badhost':
      log(s, 'error', `Device ${type} cannot reset host ${node}.`)
      sendCluster(s, stonithMsg(node, 'badhost'))
      break
    case 'bad':
      log(s, 'error', `Host ${node} not reset!`)
      sendCluster(s, stonithMsg(node, 'bad'))
      break
  }
  if (outcome !== 'ok') {
    log(s, 'error', `STONITH of ${node} failed.  Retrying...`)
    s.stonith.runs.set(node, { phase: 'waiting', retryAtMs: s.now + s.timers.stonithRetryMs })
    return
  }
  s.stonith.runs.delete(node)
  const peer = s.peers.get(node)
  if (peer !== undefined) takeoverFromNode(s, peer)
}

/**
 * The peer is heard again while we fence it. 3.0.6 keeps retrying until a reset succeeds and then
 * takes its groups; heartbeat-ts stops: a node that answers again holds its groups, and taking them
 * would run them twice.
 */
export function peerBack(s: RscState, node: string, status: string): void {
  const run = s.stonith.runs.get(node)
  if (run === undefined) return
  s.stonith.runs.delete(node)
  const what = run.phase === 'resetting' ? 'the running reset is no longer awaited' : 'no more resets are tried'
  log(s, 'warn', `Node ${node} is back (status ${status}) while being reset: ${what}; its resources are not taken.`)
}

/** StonithProc: the retries that are due. */
export function runDueResets(s: RscState): void {
  const device = s.stonith.device
  if (device === undefined) return
  for (const [node, run] of [...s.stonith.runs]) {
    if (run.phase === 'waiting' && run.retryAtMs <= s.now) runReset(s, device, node)
  }
}

export function stonithDeadline(st: StonithState): number | undefined {
  let at: number | undefined
  for (const run of st.runs.values()) if (run.phase === 'waiting' && (at === undefined || run.retryAtMs < at)) at = run.retryAtMs
  return at
}
