// Test kit: whole nodes (lib/daemon/node-core.ts, the core run.ts drives) on a seeded lossy network,
// fake agents and virtual time. The kit plays run.ts's shell: it carries out the core's actions.
import { Membership } from '../../lib/cluster/membership.js'
import { ResourceManager } from '../../lib/resources/resource-manager.js'
import type { AutoFailback } from '../../lib/resources/resource-manager.js'
import type { RmSnapshot, StonithOutcome } from '../../lib/resources/rm-types.js'
import type { StonithDevice } from '../../lib/config/stonith.js'
import type { RscWord } from '../../lib/resources/resource-sets.js'
import type { ResourceGroup } from '../../lib/config/haresources.js'
import { NodeCore, type LifeEnd, type NodeAction, type NodeEvent, type NodeSnapshot, type ReloadOutcome, type HistoryEvent } from '../../lib/daemon/node-core.js'
import { getString, type HaMessage } from '../../lib/wire/message.js'
import { describe, rng, seedGroups, T5, T6, VIP } from './rm-kit.js'
import { PingNodes } from '../../lib/cluster/ping-nodes.js'
import { Ipfail } from '../../lib/resources/ipfail.js'
import { addressFirstGroups } from '../../lib/resources/group-ops.js'
import type { PingNode } from '../../lib/config/ha-cf.js'

export { T5, T6, VIP, describe }

/** Unix time of virtual 0, so `ts` fields look like a real clock. */
const EPOCH_SEC = 1_795_627_040
/** The kit's agent timeout (heartbeat-ts.conf [agents] timeout). */
export const KIT_AGENT_TIMEOUT_MS = 20_000
/** Steps at one instant before runUntil calls it a spin: far more than any burst of same-time events. */
const SPIN_LIMIT_STEPS = 10_000

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
  agentDelayMs?: (node: string, op: string, resource: string) => number
  /** Whether one agent call fails (exit 1): e.g. a stop that cannot stop. */
  agentFails?: (node: string, op: string, resource: string) => boolean
  statusCopies?: number
  /** ms the shell takes to check a reload (read files, open sockets). */
  reloadCheckMs?: number
  /** ha.cf's STONITH device on every node; resets take 1 s and end as `stonithOutcome` says (default ok). */
  stonith?: StonithDevice
  /** The outcome of the `attempt`th reset (1-based) `node` runs against `target`. */
  stonithOutcome?: (node: string, target: string, attempt: number) => StonithOutcome
  /** ha.cf ping nodes on every node (replies are fed by the test as `ping-reply` events), deadping in ms. */
  pingNodes?: PingNode[]
  deadpingMs?: number
  /** ha.cf `respawn hacluster /usr/lib/heartbeat/ipfail` on every node. */
  ipfail?: boolean
  /**
   * Whether IPaddr and lvs run the built-ins, as run.ts finds by default: a release then takes an
   * IPaddr+lvs group's address down first (default true); false is a site's scripts, 3.0.6's order.
   */
  builtinAgents?: boolean
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
  core: NodeCore
  /** Resource texts currently up on this machine. */
  up: Set<string>
  /** Agent results not yet due: [at, id, op, text]. */
  /** Agent calls running; `cancelled` ones answer now, as failed, having changed nothing. */
  agents: Array<{ at: number; id: number; op: string; text: string; cancelled?: boolean }>
  /** Agent calls the core cancelled (`cancel-agent`), with what they were. */
  cancels: Array<{ at: number; op: string; text: string }>
  /** Reload checks not yet answered. */
  checks: Array<{ at: number; replyTo: number | undefined }>
  /** STONITH resets not yet answered, and every reset as started. */
  resets: Array<{ at: number; id: number; node: string }>
  resetCalls: Array<{ at: number; node: string }>
  logs: Array<{ at: number; text: string }>
  /** Upper-layer messages this node sent (stamped), in send order. */
  sent: Array<{ at: number; msg: HaMessage }>
  /** Peer messages its resource manager was handed, in delivery order. */
  delivered: Array<{ at: number; msg: HaMessage }>
  /** How each life ended, and when. */
  ends: Array<{ at: number; end: LifeEnd }>
  /** Answers to `reload` requests. */
  replies: Array<{ at: number; replyTo: number; ok: boolean; message: string }>
  /** Addresses announced for their holder after a yield, and when. */
  holderAnnounces: Array<{ at: number; texts: string[] }>
  /** Every agent call as started: `op resource` at a time (re-announcements are starts of an up address). */
  calls: Array<{ at: number; op: string; text: string }>
  /** The event history the core emitted (what run.ts journals for hbctl events). */
  events: Array<{ at: number; event: HistoryEvent }>
  /** When the core said communication is up (run.ts starts the respawn clients then). */
  commUps: number[]
  /** State files the core asked to have written, in order (what run.ts writes into the state directory). */
  stateWrites: Array<{ at: number; file: string; text: string }>
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
  /** What the next reload check on a node finds (default: ha.cf unchanged). */
  readonly reloadOutcome = new Map<string, ReloadOutcome>()
  /** Pairs of nodes that cannot hear each other (both ways). */
  private readonly cuts = new Set<string>()
  private readonly muted = new Set<string>()
  private readonly opts: Required<Omit<ClusterRmOptions, 'groups' | 'agentDelayMs' | 'agentFails' | 'statusCopies' | 'stonith' | 'stonithOutcome' | 'pingNodes' | 'deadpingMs' | 'ipfail' | 'builtinAgents'>> & Pick<ClusterRmOptions, 'groups' | 'agentDelayMs' | 'agentFails' | 'statusCopies' | 'stonith' | 'stonithOutcome' | 'pingNodes' | 'deadpingMs' | 'ipfail' | 'builtinAgents'>
  private readonly nodes = new Map<string, Node>()
  private readonly names: string[]
  private queue: Datagram[] = []
  private order = 0
  private nextReply = 1
  private readonly net: () => number

  constructor(opts: ClusterRmOptions, names: string[] = [T5, T6]) {
    this.opts = { seed: 1, keepaliveMs: 2000, deadtimeMs: 5000, minDelayMs: 1, maxDelayMs: 3, lossRate: 0, reloadCheckMs: 30, ...opts }
    this.names = names
    this.net = rng(this.opts.seed ^ 0x5eed)
    names.forEach((name, i) => {
      const uuid = Buffer.alloc(16, i + 1)
      const generation = 100 + i
      const n: Node = { name, alive: false, generation, uuid, core: undefined as unknown as NodeCore, up: new Set(), agents: [], checks: [], resets: [], resetCalls: [], cancels: [], holderAnnounces: [], logs: [], sent: [], delivered: [], ends: [], replies: [], calls: [], events: [], stateWrites: [], commUps: [] }
      n.core = this.makeCore(n, undefined)
      this.nodes.set(name, n)
    })
  }

  /** One life of a node: what run.ts's prepareLife + runLife build. */
  private makeCore(n: Node, restartHeld: RscWord | undefined): NodeCore {
    const o = this.opts
    const membership = new Membership({
      localNode: n.name,
      nodes: this.names,
      keepaliveMs: o.keepaliveMs,
      deadtimeMs: o.deadtimeMs,
      warntimeMs: o.deadtimeMs / 2,
      initdeadMs: 12_000,
      hopfudge: 1,
      maxRexmitDelayMs: 250,
      generation: n.generation,
      uuid: n.uuid,
      linkNames: ['eth0'],
      random: rng(this.opts.seed * 31 + n.generation),
      ...(o.statusCopies !== undefined ? { statusCopies: o.statusCopies } : {}),
    })
    const groups = this.opts.groups ?? seedGroups()
    const builtin = o.builtinAgents ?? true
    const resources = new ResourceManager({ me: n.name, nodes: this.names, groups, autoFailback: this.opts.mode, pid: 4242, addressFirstGroups: addressFirstGroups(groups, () => builtin), selfCheckingAgents: new Set(builtin ? ['IPaddr', 'lvs'] : []), ...(restartHeld !== undefined ? { restartHeld } : {}), ...(this.opts.stonith !== undefined ? { stonith: this.opts.stonith } : {}) })
    const pingNodes = o.pingNodes !== undefined ? new PingNodes(o.pingNodes, o.deadpingMs ?? o.deadtimeMs, this.now) : undefined
    const peer = this.names.find((x) => x !== n.name)
    const ipfail = o.ipfail === true ? new Ipfail({ me: n.name, peer, keepaliveMs: o.keepaliveMs, autoFailback: o.mode === 'on' }) : undefined
    return new NodeCore({
      ...(pingNodes !== undefined ? { pingNodes } : {}),
      ...(ipfail !== undefined ? { ipfail } : {}),
      membership,
      resources,
      pid: 4242,
      debugLevel: 0,
      agentTimeoutMs: KIT_AGENT_TIMEOUT_MS,
      loadavg: '0.01 0.02 0.00 1/100 4242',
      groups: this.opts.groups ?? seedGroups(),
      observer: {
        sent: (msg, at) => n.sent.push({ at, msg }),
        delivered: (msg, at) => n.delivered.push({ at, msg }),
      },
    })
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
      n.core = this.makeCore(n, undefined)
    }
    n.alive = true
    this.feed(n, { type: 'start' })
  }

  /** kill -9 with the machine: no more packets, its addresses are gone. */
  crash(name: string): void {
    const n = this.node(name)
    n.alive = false
    n.agents = []
    n.checks = []
    n.resets = []
    n.up.clear()
  }

  /** Feed one event to a node's core now (signals, hbctl requests …). */
  event(name: string, ev: NodeEvent): void {
    const n = this.node(name)
    if (n.alive) this.feed(n, ev)
  }

  signal(name: string, signal: 'TERM' | 'HUP' | 'USR1' | 'USR2'): void {
    this.event(name, { type: 'signal', signal })
  }

  /** hbctl reload; the answer lands in node(name).replies under the returned id. */
  reload(name: string): number {
    const id = this.nextReply++
    this.event(name, { type: 'reload', replyTo: id })
    return id
  }

  /** A line written into the node's FIFO (Debian's hb_standby). */
  fifo(name: string, msg: HaMessage): void {
    this.event(name, { type: 'fifo', msg })
  }

  /** Cut (or restore) the network between two nodes, both ways. */
  partition(a: string, b: string, cut: boolean): void {
    const key = [a, b].sort().join('|')
    if (cut) this.cuts.add(key)
    else this.cuts.delete(key)
  }

  /** Lose (or stop losing) everything `from` sends, to everyone: one-way loss (its own nft rule in the soak). */
  mute(from: string, cut: boolean): void {
    if (cut) this.muted.add(from)
    else this.muted.delete(from)
  }

  /** Has `name` had a status from `peer` since `sinceMs` (so gaps in the peer's stream are asked for again)? */
  heardStatus(name: string, peer: string, sinceMs: number): boolean {
    const p = this.node(name).core.snapshot().membership.nodes.find((x) => x.name === peer)
    return p?.lastStatusMs !== undefined && p.lastStatusMs > sinceMs
  }

  rm(name: string): RmSnapshot {
    const r = this.node(name).core.snapshot().resources
    if (r === undefined) throw new Error(`${name}: no resource manager`)
    return r
  }

  snapshot(name: string): NodeSnapshot {
    return this.node(name).core.snapshot()
  }

  /** Machines where the resource is up (a node that exited keeps what it failed to stop). */
  owners(key = VIP): string[] {
    return [...this.nodes.values()].filter((n) => n.up.has(key)).map((n) => n.name)
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

  /** Run everything due up to `until` (deliveries, agent results, the cores' timers) in time order. */
  runUntil(until: number): void {
    // A deadline that stays at or before `now` after its timer ran would spin the daemon's loop (run.ts
    // re-arms at once); here it would never end, so it fails the test instead.
    let stepsAtNow = 0
    for (;;) {
      const next = this.nextDue()
      if (next === undefined || next > until) break
      stepsAtNow = next <= this.now ? stepsAtNow + 1 : 0
      if (stepsAtNow > SPIN_LIMIT_STEPS) throw new Error(`spin: something stays due at ${this.now} ms after ${SPIN_LIMIT_STEPS} steps (${this.spinSuspects()})`)
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

  private spinSuspects(): string {
    const due: string[] = []
    for (const n of this.nodes.values()) {
      const d = n.alive ? n.core.nextDeadline() : undefined
      if (d !== undefined && d <= this.now) due.push(`${n.name} core deadline ${d}`)
    }
    return due.join(', ') || 'deliveries or agent results'
  }

  private nextDue(): number | undefined {
    let min = this.queue[0]?.at
    const take = (t: number | undefined): void => {
      if (t !== undefined && (min === undefined || t < min)) min = t
    }
    for (const n of this.nodes.values()) {
      if (!n.alive) continue
      take(n.core.nextDeadline())
      for (const a of n.agents) take(a.at)
      for (const c of n.checks) take(c.at)
      for (const r of n.resets) take(r.at)
    }
    return min
  }

  private stepAt(): void {
    while (this.queue.length > 0 && (this.queue[0]?.at ?? Infinity) <= this.now) {
      const d = this.queue.shift()
      if (d === undefined) break
      const to = this.node(d.to)
      if (to.alive) this.feed(to, { type: 'datagram', msg: d.msg, link: 'eth0' })
    }
    for (const n of this.nodes.values()) {
      if (!n.alive) continue
      const due = n.agents.filter((a) => a.at <= this.now)
      n.agents = n.agents.filter((a) => a.at > this.now)
      for (const a of due) this.agentDone(n, a)
      const resets = n.resets.filter((r) => r.at <= this.now)
      n.resets = n.resets.filter((r) => r.at > this.now)
      for (const r of resets) {
        const attempt = n.resetCalls.filter((x) => x.node === r.node && x.at <= this.now).length
        this.feed(n, { type: 'stonith-result', id: r.id, node: r.node, outcome: this.opts.stonithOutcome?.(n.name, r.node, attempt) ?? 'ok' })
      }
      const checks = n.checks.filter((c) => c.at <= this.now)
      n.checks = n.checks.filter((c) => c.at > this.now)
      for (const c of checks) {
        const outcome = this.reloadOutcome.get(n.name) ?? { kind: 'applied', message: 'Configuration unchanged.' }
        this.reloadOutcome.delete(n.name)
        this.feed(n, { type: 'reload-checked', ...(c.replyTo !== undefined ? { replyTo: c.replyTo } : {}), outcome })
      }
      const d = n.core.nextDeadline()
      if (n.alive && d !== undefined && d <= this.now) this.feed(n, { type: 'timer' })
    }
  }

  private agentDone(n: Node, a: { id: number; op: string; text: string; cancelled?: boolean }): void {
    const ok = a.cancelled !== true && !(this.opts.agentFails?.(n.name, a.op, a.text) ?? false)
    if (ok && a.op === 'start') n.up.add(a.text)
    else if (ok && a.op === 'stop') n.up.delete(a.text)
    this.feed(n, { type: 'agent-result', id: a.id, ok, running: n.up.has(a.text), exitCode: ok ? 0 : 1 })
  }

  /** run.ts's act(): carry out what the core asks for. */
  private feed(n: Node, ev: NodeEvent): void {
    this.act(n, n.core.handle(ev, this.now, EPOCH_SEC + Math.floor(this.now / 1000)))
  }

  private act(n: Node, actions: readonly NodeAction[]): void {
    for (const a of actions) {
      switch (a.type) {
        case 'transmit':
          this.broadcast(n.name, a.msg)
          break
        case 'log':
          n.logs.push({ at: this.now, text: `${a.level}: ${a.text}` })
          break
        case 'run-agent':
          n.calls.push({ at: this.now, op: a.op, text: a.resource.text })
          n.agents.push({ at: this.now + (this.opts.agentDelayMs?.(n.name, a.op, a.resource.text) ?? 50), id: a.id, op: a.op, text: a.resource.text })
          break
        case 'cancel-agent': {
          const call = n.agents.find((x) => x.id === a.id)
          if (call !== undefined) {
            n.cancels.push({ at: this.now, op: call.op, text: call.text })
            call.cancelled = true
            call.at = this.now
          }
          break
        }
        case 'run-stonith':
          n.resetCalls.push({ at: this.now, node: a.node })
          n.resets.push({ at: this.now + 1000, id: a.id, node: a.node })
          break
        case 'check-reload':
          n.checks.push({ at: this.now + this.opts.reloadCheckMs, replyTo: a.replyTo })
          break
        case 'reply':
          n.replies.push({ at: this.now, replyTo: a.replyTo, ok: a.ok, message: a.message })
          break
        case 'set-debug':
          break
        case 'event':
          n.events.push({ at: this.now, event: a.event })
          break
        case 'write-state':
          n.stateWrites.push({ at: this.now, file: a.file, text: a.text })
          break
        case 'announce-for-holder':
          n.holderAnnounces.push({ at: this.now, texts: a.resources.map((r) => r.text) })
          break
        case 'comm-up':
          n.commUps.push(this.now)
          break
        case 'end':
          this.endLife(n, a.end)
          break
      }
    }
  }

  private endLife(n: Node, end: LifeEnd): void {
    n.ends.push({ at: this.now, end })
    n.logs.push({ at: this.now, text: end.kind === 'exit' ? 'info: Heartbeat shutdown complete.' : `info: new life (${end.reason})` })
    // results still out belong to the life that ended (run.ts drops them with it)
    n.agents = []
    n.checks = []
    n.resets = []
    if (end.kind === 'exit') {
      n.alive = false
      return
    }
    // in-process restart: the machine keeps its addresses; a new generation starts at once
    n.generation++
    n.core = this.makeCore(n, end.held)
    // a reload's restart (a prepared life) starts warm, as run.ts does
    this.feed(n, { type: 'start', warm: end.prepared })
  }

  private broadcast(from: string, msg: HaMessage): void {
    for (const to of this.names) {
      if (to === from) continue
      if (this.cuts.has([from, to].sort().join('|')) || this.muted.has(from)) {
        this.lost.push({ at: this.now, from, to, msg })
        continue
      }
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

/** A pair at keepalive 200 ms / deadtime 1 s, both started and settled (titanic5 holds the VIP). */
export function fastPair(mode: ClusterRmOptions['mode'], opts: Partial<ClusterRmOptions> = {}): ClusterRm {
  const c = new ClusterRm({ mode, keepaliveMs: 200, deadtimeMs: 1000, ...opts })
  c.start(T5)
  c.start(T6)
  c.runUntil(20_000)
  return c
}
