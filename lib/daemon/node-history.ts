// What the node tells `hbctl events`, `hbctl status` (each group's cause) and `hbctl metrics`: the
// cause in force while an event is handled, each group's changes with that cause, deaths with how
// long the peer was silent, agent runs with their durations, and the counters. Pure bookkeeping
// beside the core (node-core.ts): it never changes what the node does.

import type { MembershipSnapshot } from '../cluster/membership.js'
import type { RmSnapshot } from '../resources/rm-types.js'
import { getString, type HaMessage } from '../wire/message.js'
import type { AgentResultEvent, CauseKind, CoreCounters, HistoryEvent, NodeEvent, StonithResultEvent } from './node-core-types.js'

interface Cause {
  kind: CauseKind
  text: string
}

interface AgentRun {
  startMs: number
  group: string
  resource: string
  op: string
}

export class NodeHistory {
  /** Why whatever happens while this event is handled happens: carried by group events. */
  private cause: Cause = { kind: 'start-up', text: 'start-up' }
  /** Each group's state as last reported, to see changes (and the cause of the last one per group). */
  private readonly groupStates = new Map<string, string>()
  private readonly groupCauses = new Map<string, Cause>()
  /** What each running agent is, for the agent event and its duration. */
  private readonly agentRuns = new Map<number, AgentRun>()
  /** Each running reset by id, and per node the attempts since its last successful reset. */
  private readonly resets = new Map<number, { node: string; device: string; attempt: number; startMs: number }>()
  private readonly resetAttempts = new Map<string, number>()
  readonly counters: CoreCounters = { nodeDeaths: 0, linkDown: 0, linkUp: 0, takeovers: 0, releases: 0, agentRuns: {}, agentDurationMs: {} }

  /** `emit` hands an event to the shell (the journal); `initial`: groups already running (kept across a restart). */
  private readonly emit: (event: HistoryEvent) => void

  constructor(emit: (event: HistoryEvent) => void, initial?: RmSnapshot) {
    this.emit = emit
    for (const g of initial?.groups ?? []) this.groupStates.set(g.key, g.state)
  }

  setCause(kind: CauseKind, text: string): void {
    this.cause = { kind, text }
  }

  /** The cause an outside event brings (a request, a shutdown); other events keep the one in force. */
  eventCause(ev: NodeEvent): void {
    switch (ev.type) {
      case 'start':
        this.setCause('start-up', 'start-up')
        break
      case 'fifo': {
        const t = getString(ev.msg, 't')
        this.setCause(t === 'hb_takeover' ? 'takeover-request' : 'standby-request', `${t ?? '?'} written to the FIFO`)
        break
      }
      case 'control':
        this.setCause(ev.request === 'standby' ? 'standby-request' : 'takeover-request', `hbctl ${ev.request}`)
        break
      case 'signal':
        if (ev.signal === 'TERM') this.setCause('shutdown', 'shutdown (SIGTERM)')
        break
      case 'stonith-result':
        if (ev.outcome === 'ok') this.setCause('peer-dead', `${ev.node} dead and reset by STONITH`)
        break
      default:
        break
    }
  }

  /** Each group's last cause, in words (hbctl status). */
  causes(): Record<string, string> {
    return Object.fromEntries([...this.groupCauses].map(([k, c]) => [k, c.text]))
  }

  countersCopy(): CoreCounters {
    return { ...this.counters, agentRuns: { ...this.counters.agentRuns }, agentDurationMs: { ...this.counters.agentDurationMs } }
  }

  /** A group event for every group whose state changed since last looked at, with the cause in force. */
  groupChanges(s: RmSnapshot): void {
    for (const g of s.groups) {
      const before = this.groupStates.get(g.key) ?? 'stopped'
      if (before === g.state) continue
      this.groupStates.set(g.key, g.state)
      const reason = g.lastTransition?.reason ?? ''
      // A start or stop finishing keeps the cause that began it.
      let cause = this.cause
      if (g.state !== 'starting' && g.state !== 'stopping') cause = this.groupCauses.get(g.key) ?? cause
      // auto_failback on: a home node back makes us give its group up by a standby of our own.
      if (reason === 'auto_failback' || (cause.kind === 'peer-back' && g.state === 'stopping' && s.mode === 'on')) cause = { kind: 'auto_failback', text: `auto_failback (${cause.text})` }
      this.groupCauses.set(g.key, cause)
      if (g.state === 'starting') this.counters.takeovers++
      if (g.state === 'stopping') this.counters.releases++
      this.emit({ kind: 'group', group: g.key, from: before, to: g.state, cause: cause.kind, text: reason !== '' && reason !== cause.text ? `${cause.text}: ${reason}` : cause.text })
    }
  }

  /** A peer died (with how long it was silent, per link) or came back. */
  nodeStatus(node: string, status: string, previous: string, m: MembershipSnapshot, nowMs: number): void {
    if (status === 'dead') {
      this.counters.nodeDeaths++
      this.setCause('peer-dead', `${node} dead`)
      const n = m.nodes.find((x) => x.name === node)
      const since = (t: number | undefined): number | undefined => (t === undefined ? undefined : Math.round(nowMs - t))
      this.emit({
        kind: 'node-dead',
        node,
        silentMs: since(n?.lastStatusMs),
        deadtimeMs: n?.deadtimeMs ?? 0,
        links: (n?.links ?? []).map((l) => ({ link: l.name, silentMs: since(l.lastPacketMs) })),
      })
    } else if (previous === 'dead') {
      this.resetAttempts.delete(node)
      this.setCause('peer-back', `${node} ${status}`)
      this.emit({ kind: 'node-back', node, status })
    }
  }

  /** A peer's standby/takeover request (ask_resources, hb_takeover), so the history says who asked. */
  peerRequest(from: string, msg: HaMessage): void {
    const t = getString(msg, 't')
    if (t === 'ask_resources' && getString(msg, 'info') === 'me') {
      this.setCause('standby-request', `standby request from ${from}`)
      this.emit({ kind: 'request', request: 'standby', by: from })
    } else if (t === 'hb_takeover') {
      this.setCause('takeover-request', `takeover request from ${from}`)
      this.emit({ kind: 'request', request: 'takeover', by: from })
    }
  }

  link(node: string, link: string, status: 'up' | 'dead'): void {
    if (status === 'dead') this.counters.linkDown++
    else this.counters.linkUp++
    this.emit({ kind: 'link', node, link, status })
  }

  stonithStarted(id: number, node: string, device: string, nowMs: number): void {
    const attempt = (this.resetAttempts.get(node) ?? 0) + 1
    this.resetAttempts.set(node, attempt)
    this.resets.set(id, { node, device, attempt, startMs: nowMs })
    this.emit({ kind: 'stonith', node, device, attempt, outcome: 'started' })
  }

  stonithFinished(ev: StonithResultEvent, nowMs: number): void {
    const run = this.resets.get(ev.id)
    if (run === undefined) return
    this.resets.delete(ev.id)
    if (ev.outcome === 'ok') this.resetAttempts.delete(run.node)
    this.emit({
      kind: 'stonith',
      node: run.node,
      device: run.device,
      attempt: run.attempt,
      outcome: ev.outcome,
      durationMs: nowMs - run.startMs,
      ...(ev.detail !== undefined ? { detail: ev.detail.slice(-400) } : {}),
    })
  }

  agentStarted(id: number, run: AgentRun): void {
    this.agentRuns.set(id, run)
  }

  agentFinished(ev: AgentResultEvent, nowMs: number): void {
    const run = this.agentRuns.get(ev.id)
    if (run === undefined) return
    this.agentRuns.delete(ev.id)
    const durationMs = nowMs - run.startMs
    const key = `${run.op} ${ev.ok ? 'ok' : 'failed'}`
    this.counters.agentRuns[key] = (this.counters.agentRuns[key] ?? 0) + 1
    this.counters.agentDurationMs[run.op] = (this.counters.agentDurationMs[run.op] ?? 0) + durationMs
    this.emit({
      kind: 'agent',
      group: run.group,
      resource: run.resource,
      op: run.op,
      ok: ev.ok,
      ...(ev.exitCode !== undefined ? { exitCode: ev.exitCode } : {}),
      durationMs,
      ...(ev.detail !== undefined ? { detail: ev.detail.slice(-400) } : {}),
    })
  }
}

/**
 * Debug only (ms precision the log stamps lack): how far past its deadline (last status + its dt) a node
 * was declared dead; `npm run bench` reads these lines for detection lateness.
 */
export function deathTimingText(m: MembershipSnapshot, node: string, nowMs: number): string {
  const n = m.nodes.find((x) => x.name === node)
  if (n?.lastStatusMs === undefined) return `node ${node}: declared dead (never heard)`
  const lateMs = nowMs - (n.lastStatusMs + n.deadtimeMs)
  return `node ${node}: declared dead ${lateMs.toFixed(1)} ms past its deadline (last status ${(nowMs - n.lastStatusMs).toFixed(1)} ms ago, dead time ${n.deadtimeMs} ms)`
}
