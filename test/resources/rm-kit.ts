// Test kit: ResourceManager nodes on a fake message bus with fake agents and a virtual clock.
import { ResourceManager } from '../../lib/resources/resource-manager.js'
import type { AutoFailback, ResourceTimers } from '../../lib/resources/resource-manager.js'
import type { RmAction, RmEvent } from '../../lib/resources/rm-types.js'
import type { ResourceGroup } from '../../lib/config/haresources.js'
import { getString, stringField } from '../../lib/wire/message.js'
import type { HaMessage } from '../../lib/wire/message.js'
import { hearOwn } from './hear-own.js'

export const T5 = 'titanic5.etri.re.kr'
export const T6 = 'titanic6.etri.re.kr'
export const VIP = '10.99.0.149'

/** The seed's haresources line: `titanic5.etri.re.kr 10.99.0.149 lvs`. */
export function seedGroups(): ResourceGroup[] {
  return [
    {
      node: T5,
      key: VIP,
      line: 2,
      resources: [
        { agent: 'IPaddr', args: [VIP], text: VIP },
        { agent: 'lvs', args: [], text: 'lvs' },
      ],
    },
  ]
}

export { seededRandom as rng } from '../support/seeded-random.js'

export interface FakeAgents {
  /** Resource texts currently up on this node. */
  up: Set<string>
  /** Starting these fails (exit 1). */
  failStart: Set<string>
  /** Stopping these fails this many more times (Infinity = always); status still says running. */
  failStop: Map<string, number>
  /** Stopping these exits non-zero although the resource does go away (not LSB-compliant). */
  sloppyStop: Set<string>
  calls: Array<{ at: number; op: string; text: string }>
}

export interface SimNode {
  name: string
  rm: ResourceManager
  alive: boolean
  commUp: boolean
  /** Bumped on every boot/crash so events of an earlier life are dropped. */
  life: number
  agents: FakeAgents
  sent: Array<{ at: number; msg: HaMessage }>
  logs: Array<{ at: number; line: string }>
  actions: Array<{ at: number; action: RmAction }>
  shutdownCompleteAt?: number
}

interface Ev {
  at: number
  seq: number
  fn: () => void
}

export interface SimOptions {
  mode: AutoFailback
  groups?: ResourceGroup[]
  timers?: Partial<ResourceTimers>
  deadtimeMs?: number
  initdeadMs?: number
  /** ms a message takes from sender to receiver. */
  msgDelay?: (from: string, to: string) => number
  /** ms an agent call takes. */
  agentDelay?: (node: string, op: string) => number
  /** ms from boot to comm-up when the peer is alive. */
  commUpDelay?: (node: string) => number
}

export class Sim {
  now = 0
  readonly nodes = new Map<string, SimNode>()
  private queue: Ev[] = []
  private seq = 0
  readonly opts: SimOptions
  /** Largest number of nodes that held the VIP at the same moment. */
  maxOwners = 0
  /** Set when two nodes held the VIP at once. */
  doubleOwnerAt: number | undefined

  private readonly names: string[]

  constructor(opts: SimOptions, names: string[] = [T5, T6]) {
    this.opts = opts
    this.names = names
    for (const name of names) {
      this.nodes.set(name, {
        name,
        rm: this.newRm(name),
        alive: false,
        commUp: false,
        life: 0,
        agents: { up: new Set(), failStart: new Set(), failStop: new Map(), sloppyStop: new Set(), calls: [] },
        sent: [],
        logs: [],
        actions: [],
      })
    }
  }

  private newRm(name: string): ResourceManager {
    return new ResourceManager({
      me: name,
      nodes: this.names,
      groups: this.opts.groups ?? seedGroups(),
      autoFailback: this.opts.mode,
      ...(this.opts.timers ? { timers: this.opts.timers } : {}),
      pid: 4242,
    })
  }

  node(name: string): SimNode {
    const n = this.nodes.get(name)
    if (n === undefined) throw new Error(`no node ${name}`)
    return n
  }

  at(time: number, fn: () => void): void {
    this.queue.push({ at: Math.max(time, this.now), seq: this.seq++, fn })
  }

  /** Run events in time order until `until` (inclusive). */
  runUntil(until: number): void {
    for (;;) {
      this.queue.sort((a, b) => a.at - b.at || a.seq - b.seq)
      const ev = this.queue[0]
      if (ev === undefined || ev.at > until) break
      this.queue.shift()
      this.now = ev.at
      ev.fn()
      this.checkOwners()
    }
    this.now = until
  }

  owners(key = VIP): string[] {
    return [...this.nodes.values()].filter((n) => n.alive && n.agents.up.has(key)).map((n) => n.name)
  }

  private checkOwners(): void {
    const count = this.owners().length
    if (count > this.maxOwners) this.maxOwners = count
    if (count > 1 && this.doubleOwnerAt === undefined) this.doubleOwnerAt = this.now
  }

  feed(n: SimNode, ev: RmEvent): void {
    if (!n.alive) return
    this.apply(n, hearOwn(n.rm, n.rm.handle(ev, this.now), this.now))
  }

  private apply(n: SimNode, actions: RmAction[]): void {
    const life = n.life
    for (const a of actions) {
      n.actions.push({ at: this.now, action: a })
      switch (a.type) {
        case 'log':
          n.logs.push({ at: this.now, line: `${a.level}: ${a.text}` })
          break
        case 'send':
          n.sent.push({ at: this.now, msg: a.msg })
          for (const peer of this.nodes.values()) {
            if (peer === n) continue
            const delay = this.opts.msgDelay?.(n.name, peer.name) ?? 1
            const msg: HaMessage = { fields: [...a.msg.fields, stringField('src', n.name)] }
            this.at(this.now + delay, () => {
              if (n.life !== life && !n.alive) return // a crashed sender's packets in flight are lost
              if (peer.alive) this.feed(peer, { type: 'message', msg })
            })
          }
          break
        case 'run-agent': {
          const delay = this.opts.agentDelay?.(n.name, a.op) ?? 2
          this.at(this.now + delay, () => {
            if (n.life !== life || !n.alive) return
            const ag = n.agents
            ag.calls.push({ at: this.now, op: a.op, text: a.resource.text })
            let ok = true
            if (a.op === 'start') {
              if (ag.failStart.has(a.resource.text)) ok = false
              else ag.up.add(a.resource.text)
            } else if (a.op === 'stop') {
              const left = ag.failStop.get(a.resource.text) ?? 0
              if (ag.sloppyStop.has(a.resource.text)) {
                ok = false
                ag.up.delete(a.resource.text)
              } else if (left > 0) {
                ok = false
                ag.failStop.set(a.resource.text, left - 1)
              } else {
                ag.up.delete(a.resource.text)
              }
            }
            this.feed(n, {
              type: 'agent-result',
              id: a.id,
              ok,
              running: ag.up.has(a.resource.text),
              exitCode: ok ? 0 : 1,
            })
          })
          break
        }
        case 'shutdown-complete':
          n.shutdownCompleteAt = this.now
          // §5.5: two more 1 s phases, then the process is gone; peers notice after deadtime.
          this.at(this.now + 2000, () => this.stopProcess(n))
          break
        case 'stop-failed':
          break
      }
    }
    const next = n.rm.nextDeadline()
    if (next !== undefined) {
      this.at(next, () => {
        if (n.life === life && n.alive) this.apply(n, hearOwn(n.rm, n.rm.tick(this.now), this.now))
      })
    }
  }

  /** Start heartbeat on `name` at `time` (a fresh process: new manager, new generation). */
  boot(name: string, time: number): void {
    this.at(time, () => {
      const n = this.node(name)
      n.life++
      n.alive = true
      n.commUp = false
      n.shutdownCompleteAt = undefined
      n.rm = this.newRm(name)
      for (const p of this.nodes.values()) {
        if (p === n || !p.alive) continue
        this.at(this.now + (this.opts.msgDelay?.(n.name, p.name) ?? 1), () => {
          this.feed(p, { type: 'node-restarted', node: n.name })
          this.feed(p, { type: 'node-status', node: n.name, status: 'up' })
        })
        // a peer still waiting for its links hears us and comes up too
        if (!p.commUp) this.scheduleCommUp(p, this.now + (this.opts.commUpDelay?.(p.name) ?? 100))
      }
      const peerAlive = [...this.nodes.values()].some((p) => p !== n && p.alive)
      this.scheduleCommUp(n, peerAlive ? this.now + (this.opts.commUpDelay?.(name) ?? 100) : this.now + (this.opts.initdeadMs ?? 12_000))
    })
  }

  private scheduleCommUp(n: SimNode, at: number): void {
    const life = n.life
    this.at(at, () => {
      if (n.life !== life || !n.alive || n.commUp) return
      const peers = [...this.nodes.values()].filter((p) => p !== n)
      // heartbeat: peers not heard by initdead are marked dead, then comm comes up
      for (const p of peers) {
        if (!p.alive) this.feed(n, { type: 'node-status', node: p.name, status: 'dead' })
        else this.feed(n, { type: 'node-status', node: p.name, status: p.commUp ? 'active' : 'up' })
      }
      n.commUp = true
      this.feed(n, { type: 'comm-up' })
      for (const p of peers) {
        if (!p.alive) continue
        this.at(this.now + (this.opts.msgDelay?.(n.name, p.name) ?? 1), () => {
          if (n.alive && n.life === life) this.feed(p, { type: 'node-status', node: n.name, status: 'active' })
        })
      }
    })
  }

  /** kill -9 plus link down: everything stops; peers declare it dead after deadtime. */
  crash(name: string, time: number): void {
    this.at(time, () => {
      const n = this.node(name)
      this.stopProcess(n)
      n.agents.up.clear() // the machine goes down with its addresses
    })
  }

  private stopProcess(n: SimNode): void {
    if (!n.alive) return
    n.alive = false
    n.commUp = false
    n.life++
    // a crashed or stopped node's addresses no longer answer (machine down / released)
    const deadtime = this.opts.deadtimeMs ?? 5000
    for (const p of this.nodes.values()) {
      if (p === n) continue
      this.at(this.now + deadtime, () => {
        if (!n.alive) this.feed(p, { type: 'node-status', node: n.name, status: 'dead' })
      })
    }
  }

  shutdown(name: string, time: number): void {
    this.at(time, () => this.feed(this.node(name), { type: 'shutdown' }))
  }

  event(name: string, time: number, ev: RmEvent): void {
    this.at(time, () => this.feed(this.node(name), ev))
  }

  /** Non-status resource traffic a node sent, as `t rsc_hold info` words. */
  traffic(name: string, since = 0): string[] {
    return this.node(name)
      .sent.filter((s) => s.at >= since)
      .map((s) => describe(s.msg))
  }

  logText(name: string): string {
    return this.node(name)
      .logs.map((l) => l.line)
      .join('\n')
  }
}

/** `t` plus the resource fields that matter, e.g. `resource local isstable=1 info=req_our_resources()`. */
export function describe(msg: HaMessage): string {
  const t = getString(msg, 't') ?? '?'
  const parts = [t]
  for (const name of ['rsc_hold', 'isstable', 'info', 'ipaddr', 'dest', 'weown', 'node', 'result', 'st']) {
    const v = getString(msg, name)
    if (v === undefined) continue
    parts.push(name === 'rsc_hold' ? v : `${name}=${v}`)
  }
  return parts.join(' ')
}
