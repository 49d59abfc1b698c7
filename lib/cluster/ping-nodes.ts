// Ping nodes (ha.cf ping, ping6, ping_group) as members of type `ping`: 3.0.6's ping plugins add each
// one to the node table, an echo reply counts as a status from it (status "ping"), and the usual
// dead-node check declares it "dead" after deadping of silence. Pure: replies and `now` come in,
// status changes come out; the shell runs the pinger (lib/io/pinger.ts).

import type { PingNode } from '../config/ha-cf.js'

/** 3.0.6's words: INITSTATUS until the first reply or deadping, PINGSTATUS while replies come, DEADSTATUS after. */
export type PingStatus = 'init' | 'ping' | 'dead'

export interface PingNodeSnapshot {
  name: string
  status: PingStatus
  /** Monotonic ms of the last echo reply; undefined before the first. */
  lastReplyMs: number | undefined
  /** The addresses pinged for it (one, or a ping_group's list). */
  addresses: readonly string[]
}

export interface PingStatusChange {
  node: string
  status: PingStatus
  previous: PingStatus
}

interface Entry {
  name: string
  addresses: readonly string[]
  status: PingStatus
  lastReplyMs: number | undefined
  /** When the node started (or restarted) being watched: deadping counts from here before any reply. */
  sinceMs: number
}

/** One ping target the shell pings, and the ping node a reply from it counts for. */
export interface PingTarget {
  node: string
  address: string
  family: 4 | 6
}

/** Every address the shell pings, in ha.cf order (a ping_group's addresses each count for the group). */
export function pingTargets(nodes: readonly PingNode[]): PingTarget[] {
  const out: PingTarget[] = []
  for (const n of nodes) {
    if (n.kind === 'ping_group') for (const a of n.addresses) out.push({ node: n.name, address: a, family: 4 })
    else out.push({ node: n.name, address: n.name, family: n.kind === 'ping6' ? 6 : 4 })
  }
  return out
}

export class PingNodes {
  private readonly entries: Entry[] = []
  private readonly deadpingMs: number

  constructor(nodes: readonly PingNode[], deadpingMs: number, startMs: number) {
    this.deadpingMs = deadpingMs
    for (const n of nodes) {
      // The same host named twice is one node (3.0.6's add_node refuses the second).
      if (this.entries.some((e) => e.name === n.name)) continue
      const addresses = n.kind === 'ping_group' ? [...n.addresses] : [n.name]
      this.entries.push({ name: n.name, addresses, status: 'init', lastReplyMs: undefined, sinceMs: startMs })
    }
  }

  /** An echo reply for ping node `node` (a ping_group's name for any of its addresses) at `nowMs`. */
  reply(node: string, nowMs: number): PingStatusChange[] {
    const e = this.entries.find((x) => x.name === node)
    if (e === undefined) return []
    e.lastReplyMs = nowMs
    return this.set(e, 'ping')
  }

  /** Declare dead every ping node silent for deadping. */
  tick(nowMs: number): PingStatusChange[] {
    const out: PingStatusChange[] = []
    for (const e of this.entries) {
      if (e.status === 'dead') continue
      if (nowMs >= this.deadlineOf(e)) out.push(...this.set(e, 'dead'))
    }
    return out
  }

  nextDeadline(): number | undefined {
    let min: number | undefined
    for (const e of this.entries) {
      if (e.status === 'dead') continue
      const d = this.deadlineOf(e)
      if (min === undefined || d < min) min = d
    }
    return min
  }

  /** How many ping nodes answer now (ipfail's count). */
  upCount(): number {
    return this.entries.filter((e) => e.status === 'ping').length
  }

  /** ha.cf deadping (deadtime when not given): the silence after which a ping node is dead. */
  get deadMs(): number {
    return this.deadpingMs
  }

  get size(): number {
    return this.entries.length
  }

  snapshot(): PingNodeSnapshot[] {
    return this.entries.map((e) => ({ name: e.name, status: e.status, lastReplyMs: e.lastReplyMs, addresses: e.addresses }))
  }

  private deadlineOf(e: Entry): number {
    return (e.lastReplyMs ?? e.sinceMs) + this.deadpingMs
  }

  private set(e: Entry, status: PingStatus): PingStatusChange[] {
    if (e.status === status) return []
    const previous = e.status
    e.status = status
    return [{ node: e.name, status, previous }]
  }
}
