// Test kit: the daemon's two cores per node (Membership + ResourceManager) wired as lib/daemon/run.ts wires them, fake agents, a seeded lossy network, virtual time.
import { Membership } from '../../lib/cluster/membership.js'
import type { MembershipAction, MembershipEnv } from '../../lib/cluster/actions.js'
import { ResourceManager } from '../../lib/resources/resource-manager.js'
import type { AutoFailback } from '../../lib/resources/resource-manager.js'
import type { RmAction, RmEvent, RmSnapshot } from '../../lib/resources/rm-types.js'
import type { ResourceGroup } from '../../lib/config/haresources.js'
import { getString, type HaMessage } from '../../lib/wire/message.js'
import { describe, rng, seedGroups, T5, T6, VIP } from './rm-kit.js'

export { T5, T6, VIP, describe }

/** Unix time of virtual 0, so `ts` fields look like a real clock. */
const EPOCH_SEC = 1_795_627_040

export interface ClusterRmOptions {
  mode: AutoFailback
  groups?: ResourceGroup[]
  seed?: number
  /** The seed's ha.cf: keepalive 2, deadtime 5 (initdead 12 s). */
  keepaliveMs?: number
  deadtimeMs?: number
  /** One-way delay of one datagram, drawn per datagram and receiver. */
  minDelayMs?: number
  maxDelayMs?: number
  /** Probability that one datagram to one receiver is lost (seeded). */
  lossRate?: number
  /** ms one agent call takes. */
  agentDelayMs?: (node: string, op: string) => number
  statusCopies?: number
}

/** Lose datagrams `from` sends that `match` accepts (retransmissions included), at most `times` of them (default 1). */
export interface DropRule {
  from: string
  match: (m: HaMessage) => boolean
  times?: number
  /** When each loss happened. */
  lostAt?: number[]
}

interface Node {
  name: string
  alive: boolean
  generation: number
  uuid: Buffer
  membership: Membership
  rm: ResourceManager
  /** Resource texts currently up on this machine. */
  up: Set<string>
  /** Agent results not yet due: [at, id, op, text]. */
  agents: Array<{ at: number; id: number; op: string; text: string }>
  logs: Array<{ at: number; text: string }>
  /** Upper-layer messages this node sent (stamped), in send order. */
  sent: Array<{ at: number; msg: HaMessage }>
  /** Peer messages its resource manager was handed, in delivery order. */
  delivered: Array<{ at: number; msg: HaMessage }>
}

interface Datagram {
  at: number
  order: number
  from: string
  to: string
  msg: HaMessage
}

export class ClusterRm {
  now = 0
  readonly drops: DropRule[] = []
  /** Every datagram the network lost, with the rule or the loss rate that lost it. */
  readonly lost: Array<{ at: number; from: string; to: string; msg: HaMessage }> = []
  private readonly opts: Required<Omit<ClusterRmOptions, 'groups' | 'agentDelayMs' | 'statusCopies'>> & Pick<ClusterRmOptions, 'groups' | 'agentDelayMs' | 'statusCopies'>
  private readonly nodes = new Map<string, Node>()
  private readonly names: string[]
  private queue: Datagram[] = []
  private order = 0
  private readonly net: () => number

  constructor(opts: ClusterRmOptions, names: string[] = [T5, T6]) {
    this.opts = { seed: 1, keepaliveMs: 2000, deadtimeMs: 5000, minDelayMs: 1, maxDelayMs: 3, lossRate: 0, ...opts }
    this.names = names
    this.net = rng(this.opts.seed ^ 0x5eed)
    names.forEach((name, i) => {
      const uuid = Buffer.alloc(16, i + 1)
      const generation = 100 + i
      this.nodes.set(name, { name, alive: false, generation, uuid, membership: this.makeMembership(name, generation, uuid), rm: this.makeRm(name), up: new Set(), agents: [], logs: [], sent: [], delivered: [] })
    })
  }

  private makeMembership(name: string, generation: number, uuid: Buffer): Membership {
    const o = this.opts
    return new Membership({
      localNode: name,
      nodes: this.names,
      keepaliveMs: o.keepaliveMs,
      deadtimeMs: o.deadtimeMs,
      warntimeMs: o.deadtimeMs / 2,
      initdeadMs: 12_000,
      hopfudge: 1,
      maxRexmitDelayMs: 250,
      generation,
      uuid,
      linkNames: ['eth0'],
      random: rng(this.opts.seed * 31 + generation),
      ...(o.statusCopies !== undefined ? { statusCopies: o.statusCopies } : {}),
    })
  }

  private makeRm(name: string): ResourceManager {
    return new ResourceManager({ me: name, nodes: this.names, groups: this.opts.groups ?? seedGroups(), autoFailback: this.opts.mode, pid: 4242 })
  }

  private env(): MembershipEnv {
    return { wallSec: EPOCH_SEC + Math.floor(this.now / 1000), loadavg: '0.01 0.02 0.00 1/100 4242' }
  }

  node(name: string): Node {
    const n = this.nodes.get(name)
    if (n === undefined) throw new Error(`no node ${name}`)
    return n
  }

  /** Start heartbeat on `name` now; a node that ran before comes back as a new process (generation + 1). */
  start(name: string): void {
    const n = this.node(name)
    if (n.alive) this.crash(name)
    if (n.sent.length > 0 || n.logs.length > 0) {
      n.generation++
      n.membership = this.makeMembership(name, n.generation, n.uuid)
      n.rm = this.makeRm(name)
    }
    n.alive = true
    this.membershipDo(n, n.membership.start(this.now, this.env()))
  }

  /** kill -9 with the machine: no more packets, its addresses are gone. */
  crash(name: string): void {
    const n = this.node(name)
    n.alive = false
    n.membership.stop()
    n.agents = []
    n.up.clear()
  }

  /** Feed an event to one node's resource manager now (hbctl standby, FIFO messages …). */
  event(name: string, ev: RmEvent): void {
    const n = this.node(name)
    if (n.alive) this.rmDo(n, n.rm.handle(ev, this.now))
  }

  /** A line written into the node's FIFO (Debian's hb_standby): stamped and sent, then acted on as our own (run.ts). */
  fifo(name: string, msg: HaMessage): void {
    const n = this.node(name)
    if (!n.alive) return
    this.membershipDo(n, n.membership.send(msg, this.now, this.env()))
    this.rmDo(n, n.rm.handle({ type: 'own-message', msg }, this.now))
  }

  /** Has `name` had a status from `peer` since `sinceMs` (so gaps in the peer's stream are asked for again)? */
  heardStatus(name: string, peer: string, sinceMs: number): boolean {
    const p = this.node(name).membership.snapshot().nodes.find((x) => x.name === peer)
    return p?.lastStatusMs !== undefined && p.lastStatusMs > sinceMs
  }

  rm(name: string): RmSnapshot {
    return this.node(name).rm.snapshot()
  }

  owners(key = VIP): string[] {
    return [...this.nodes.values()].filter((n) => n.alive && n.up.has(key)).map((n) => n.name)
  }

  logText(name: string): string {
    return this.node(name).logs.map((l) => l.text).join('\n')
  }

  /** Upper-layer traffic a node sent since `since`, as `t rsc_hold info …` words with the seq. */
  traffic(name: string, since = 0): string[] {
    return this.node(name)
      .sent.filter((s) => s.at >= since)
      .map((s) => `${describe(s.msg)} seq=${getString(s.msg, 'seq') ?? '?'}`)
  }

  /** Peer messages handed to `name`'s resource manager since `since`, as `traffic` words. */
  deliveries(name: string, since = 0): string[] {
    return this.node(name)
      .delivered.filter((s) => s.at >= since)
      .map((s) => `${describe(s.msg)} seq=${getString(s.msg, 'seq') ?? '?'}`)
  }

  /** Run everything due up to `until` (deliveries, agent results, both cores' timers) in time order. */
  runUntil(until: number): void {
    for (;;) {
      const next = this.nextDue()
      if (next === undefined || next > until) break
      this.now = Math.max(this.now, next)
      this.stepAt()
    }
    this.now = Math.max(this.now, until)
  }

  /** Advance in `stepMs` steps until `pred` holds (or `limit`); returns whether it held. */
  runUntilTrue(pred: () => boolean, limit: number, stepMs = 10): boolean {
    while (this.now < limit) {
      if (pred()) return true
      this.runUntil(this.now + stepMs)
    }
    return pred()
  }

  private nextDue(): number | undefined {
    let min = this.queue[0]?.at
    const take = (t: number | undefined): void => {
      if (t !== undefined && (min === undefined || t < min)) min = t
    }
    for (const n of this.nodes.values()) {
      if (!n.alive) continue
      take(n.membership.nextDeadline())
      take(n.rm.nextDeadline())
      for (const a of n.agents) take(a.at)
    }
    return min
  }

  private stepAt(): void {
    while (this.queue.length > 0 && (this.queue[0]?.at ?? Infinity) <= this.now) {
      const d = this.queue.shift()
      if (d === undefined) break
      const to = this.node(d.to)
      if (to.alive) this.membershipDo(to, to.membership.receive(d.msg, 'eth0', this.now, this.env()))
    }
    for (const n of this.nodes.values()) {
      if (!n.alive) continue
      const due = n.agents.filter((a) => a.at <= this.now)
      n.agents = n.agents.filter((a) => a.at > this.now)
      for (const a of due) this.agentDone(n, a)
      const md = n.membership.nextDeadline()
      if (md !== undefined && md <= this.now) this.membershipDo(n, n.membership.tick(this.now, this.env()))
      const rd = n.rm.nextDeadline()
      if (n.alive && rd !== undefined && rd <= this.now) this.rmDo(n, n.rm.tick(this.now))
    }
  }

  private agentDone(n: Node, a: { id: number; op: string; text: string }): void {
    if (a.op === 'start') n.up.add(a.text)
    else if (a.op === 'stop') n.up.delete(a.text)
    this.rmDo(n, n.rm.handle({ type: 'agent-result', id: a.id, ok: true, running: n.up.has(a.text), exitCode: 0 }, this.now))
  }

  // lib/daemon/run.ts: membershipDo
  private membershipDo(n: Node, actions: readonly MembershipAction[]): void {
    for (const a of actions) {
      switch (a.type) {
        case 'transmit':
          this.broadcast(n.name, a.msg)
          break
        case 'log':
          n.logs.push({ at: this.now, text: `${a.level}: ${a.text}` })
          break
        case 'node-status':
          this.rmDo(n, n.rm.handle({ type: 'node-status', node: a.node, status: a.status }, this.now))
          break
        case 'node-restart':
          this.rmDo(n, n.rm.handle({ type: 'node-restarted', node: a.node }, this.now))
          break
        case 'comm-up':
          this.rmDo(n, n.rm.handle({ type: 'comm-up' }, this.now))
          break
        case 'deliver':
          if (a.from === n.name) break
          n.delivered.push({ at: this.now, msg: a.msg })
          this.rmDo(n, n.rm.handle({ type: 'message', msg: a.msg }, this.now))
          break
        default:
          break
      }
    }
  }

  // lib/daemon/run.ts: rmDo
  private rmDo(n: Node, actions: readonly RmAction[]): void {
    for (const a of actions) {
      switch (a.type) {
        case 'send': {
          const out = n.membership.send(a.msg, this.now, this.env())
          const t = getString(a.msg, 't')
          const stamped = out.find((x) => x.type === 'transmit' && getString(x.msg, 't') === t)
          if (stamped?.type === 'transmit') n.sent.push({ at: this.now, msg: stamped.msg })
          this.membershipDo(n, out)
          break
        }
        case 'log':
          n.logs.push({ at: this.now, text: `${a.level}: ${a.text}` })
          break
        case 'run-agent':
          n.agents.push({ at: this.now + (this.opts.agentDelayMs?.(n.name, a.op) ?? 50), id: a.id, op: a.op, text: a.resource.text })
          break
        default:
          break
      }
    }
  }

  private broadcast(from: string, msg: HaMessage): void {
    for (const to of this.names) {
      if (to === from) continue
      const rule = this.drops.find((d) => (d.lostAt?.length ?? 0) < (d.times ?? 1) && d.from === from && d.match(msg))
      if (rule !== undefined) {
        rule.lostAt = [...(rule.lostAt ?? []), this.now]
        this.lost.push({ at: this.now, from, to, msg })
        continue
      }
      if (this.opts.lossRate > 0 && this.net() < this.opts.lossRate) {
        this.lost.push({ at: this.now, from, to, msg })
        continue
      }
      const span = this.opts.maxDelayMs - this.opts.minDelayMs
      const d: Datagram = { at: this.now + this.opts.minDelayMs + Math.round(this.net() * span), order: this.order++, from, to, msg }
      let i = this.queue.length
      while (i > 0 && (this.queue[i - 1]?.at ?? 0) > d.at) i--
      this.queue.splice(i, 0, d)
    }
  }
}
