// A simulated cluster for membership tests: N Membership cores on a fake broadcast network, all in virtual time.
import { Membership } from '../../lib/cluster/membership.js'
import type { MembershipConfig } from '../../lib/cluster/membership-config.js'
import type { MembershipAction, MembershipEnv } from '../../lib/cluster/actions.js'
import { getString, type HaMessage } from '../../lib/wire/message.js'

import { seededRandom } from '../support/seeded-random.js'

export { seededRandom }

export interface NetworkOptions {
  seed: number
  /** Probability that one copy of a datagram to one receiver is lost. */
  lossRate: number
  /** Probability that a delivered datagram arrives twice. */
  duplicateRate: number
  minDelayMs: number
  maxDelayMs: number
  /** Media every node has; a message is sent on each (so receivers see it once per medium). */
  linkNames: readonly string[]
  /** Does a node hear its own broadcasts (bcast does)? */
  hearsItself: boolean
}

export interface TraceEntry {
  at: number
  node: string
  action: MembershipAction
}

export interface Delivery {
  at: number
  from: string
  to: string
  link: string
  msg: HaMessage
}

export type Timing = Omit<MembershipConfig, 'localNode' | 'nodes' | 'generation' | 'uuid' | 'linkNames' | 'random'>

interface SimNode {
  name: string
  membership: Membership
  alive: boolean
  generation: number
  uuid: Buffer
}

/** Unix time of virtual 0, so `ts` fields look like a real clock (hex seconds). */
const EPOCH_SEC = 1_795_627_040

export class SimCluster {
  now = 0
  readonly trace: TraceEntry[] = []
  /** Every datagram that reached a live receiver, in order. */
  readonly deliveries: Delivery[] = []
  /** Every copy the network lost (to another node). */
  readonly lost: Delivery[] = []
  private queue: Array<Delivery & { order: number }> = []
  private order = 0
  private readonly net: NetworkOptions
  private readonly netRandom: () => number
  private readonly nodes = new Map<string, SimNode>()
  private readonly cut = new Set<string>()
  /** Drop exactly these (from, seq) datagrams once, to every receiver. */
  readonly dropOnce: Array<{ from: string; match: (m: HaMessage) => boolean }> = []

  readonly names: readonly string[]
  readonly timing: Timing

  constructor(names: readonly string[], timing: Timing, net: Partial<NetworkOptions> = {}) {
    this.names = names
    this.timing = timing
    this.net = { seed: 1, lossRate: 0, duplicateRate: 0, minDelayMs: 1, maxDelayMs: 1, linkNames: ['eth0'], hearsItself: true, ...net }
    this.netRandom = seededRandom(this.net.seed ^ 0x5eed)
    names.forEach((name, i) => {
      const uuid = Buffer.alloc(16, i + 1)
      this.nodes.set(name, { name, membership: this.makeCore(name, 100 + i, uuid), alive: false, generation: 100 + i, uuid })
    })
  }

  private makeCore(name: string, generation: number, uuid: Buffer): Membership {
    return new Membership({
      ...this.timing,
      localNode: name,
      nodes: this.names,
      generation,
      uuid,
      linkNames: this.net.linkNames,
      random: seededRandom(this.net.seed * 31 + generation * 7 + name.length),
    })
  }

  env(): MembershipEnv {
    return { wallSec: EPOCH_SEC + Math.floor(this.now / 1000), loadavg: '0.01 0.02 0.00 1/100 4242' }
  }

  core(name: string): Membership {
    const n = this.nodes.get(name)
    if (!n) throw new Error(`no sim node ${name}`)
    return n.membership
  }

  start(name: string): void {
    const n = this.node(name)
    n.alive = true
    this.handle(name, n.membership.start(this.now, this.env()))
  }

  /** kill -9: the node stops sending and hearing at once (packets already in flight still arrive elsewhere). */
  kill(name: string): void {
    const n = this.node(name)
    n.alive = false
    n.membership.stop()
  }

  /** Start again as a new process: persisted generation + 1, same uuid. */
  restart(name: string): void {
    const n = this.node(name)
    if (n.alive) this.kill(name)
    n.generation++
    n.membership = this.makeCore(name, n.generation, n.uuid)
    this.start(name)
  }

  /** Change the independent loss rate from now on (loss that starts or stops mid-run). */
  setLossRate(rate: number): void {
    this.net.lossRate = rate
  }

  partition(a: string, b: string, on: boolean): void {
    this.cutOneWay(a, b, on)
    this.cutOneWay(b, a, on)
  }

  /** Lose everything `from` sends to `to` (not the other way) while on. */
  cutOneWay(from: string, to: string, on: boolean): void {
    if (on) this.cut.add(`${from}>${to}`)
    else this.cut.delete(`${from}>${to}`)
  }

  /** Hand a message to one node as if it arrived on `link` now (replays, forgeries). */
  inject(to: string, msg: HaMessage, link = this.net.linkNames[0] ?? 'eth0'): MembershipAction[] {
    const actions = this.node(to).membership.receive(msg, link, this.now, this.env())
    this.handle(to, actions)
    return actions
  }

  send(from: string, msg: HaMessage): void {
    this.handle(from, this.node(from).membership.send(msg, this.now, this.env()))
  }

  /** Jump to the earliest pending delivery or deadline and process everything due then. */
  step(limit = Number.POSITIVE_INFINITY): boolean {
    let next = this.queue[0]?.at ?? Number.POSITIVE_INFINITY
    for (const n of this.nodes.values()) {
      if (!n.alive) continue
      const d = n.membership.nextDeadline()
      if (d !== undefined && d < next) next = d
    }
    if (next === Number.POSITIVE_INFINITY || next > limit) return false
    if (next < this.now) throw new Error(`time went backwards: ${next} < ${this.now}`)
    this.now = next
    // deliveries first: a status arriving exactly at a deadline still counts
    while (this.queue.length > 0 && (this.queue[0]?.at ?? Infinity) <= this.now) {
      const d = this.queue.shift()
      if (!d) break
      const target = this.nodes.get(d.to)
      if (!target?.alive) continue
      this.deliveries.push(d)
      this.handle(d.to, target.membership.receive(d.msg, d.link, this.now, this.env()))
    }
    for (const n of this.nodes.values()) {
      if (!n.alive) continue
      const d = n.membership.nextDeadline()
      if (d !== undefined && d <= this.now) {
        this.handle(n.name, n.membership.tick(this.now, this.env()))
        const after = n.membership.nextDeadline()
        if (after !== undefined && after <= this.now) throw new Error(`${n.name}: nextDeadline ${after} not after tick at ${this.now}`)
      }
    }
    return true
  }

  runUntil(t: number): void {
    while (this.step(t)) {
      /* keep going */
    }
    this.now = Math.max(this.now, t)
  }

  /** Actions of one node (optionally one type), with their times. */
  actions<T extends MembershipAction['type']>(node: string, type?: T): Array<{ at: number; action: Extract<MembershipAction, { type: T }> }> {
    return this.trace
      .filter((e) => e.node === node && (type === undefined || e.action.type === type))
      .map((e) => ({ at: e.at, action: e.action as Extract<MembershipAction, { type: T }> }))
  }

  logs(node: string): string[] {
    return this.actions(node, 'log').map((e) => e.action.text)
  }

  private node(name: string): SimNode {
    const n = this.nodes.get(name)
    if (!n) throw new Error(`no sim node ${name}`)
    return n
  }

  private handle(from: string, actions: MembershipAction[]): void {
    for (const action of actions) {
      this.trace.push({ at: this.now, node: from, action })
      if (action.type === 'transmit') this.broadcast(from, action.msg)
    }
  }

  private broadcast(from: string, msg: HaMessage): void {
    const drop = this.dropOnce.findIndex((d) => d.from === from && d.match(msg))
    if (drop >= 0) {
      this.dropOnce.splice(drop, 1)
      return
    }
    for (const to of this.nodes.keys()) {
      if (to === from && !this.net.hearsItself) continue
      if (to !== from && this.cut.has(`${from}>${to}`)) continue
      for (const link of this.net.linkNames) {
        if (to !== from && this.netRandom() < this.net.lossRate) {
          this.lost.push({ at: this.now, from, to, link, msg })
          continue
        }
        const copies = to !== from && this.netRandom() < this.net.duplicateRate ? 2 : 1
        for (let c = 0; c < copies; c++) {
          const span = this.net.maxDelayMs - this.net.minDelayMs
          const delay = to === from ? 0 : this.net.minDelayMs + Math.round(this.netRandom() * span)
          this.enqueue({ at: this.now + delay, from, to, link, msg })
        }
      }
    }
  }

  private enqueue(d: Delivery): void {
    const item = { ...d, order: this.order++ }
    let i = this.queue.length
    while (i > 0 && ((this.queue[i - 1]?.at ?? 0) > item.at)) i--
    this.queue.splice(i, 0, item)
  }
}

export function typeOf(m: HaMessage): string {
  return getString(m, 't') ?? ''
}
