// Test kit: one ResourceManager (titanic5) whose peer is played by hand, with instant fake agents.
import { ResourceManager } from '../../lib/resources/resource-manager.js'
import type { AutoFailback, ResourceTimers } from '../../lib/resources/resource-manager.js'
import type { RmAction, RmEvent } from '../../lib/resources/rm-types.js'
import { messageOf } from '../../lib/wire/message.js'
import { T5, T6, describe, seedGroups } from './rm-kit.js'
import { hearOwn } from './hear-own.js'

export { T5, T6, VIP } from './rm-kit.js'

export class LoneRm {
  readonly rm: ResourceManager
  now = 0
  /** Resource texts up here. */
  readonly up = new Set<string>()
  /** Agents answer at once unless held (then `release()` answers them). */
  holdAgents = false
  private held: Array<Extract<RmAction, { type: 'run-agent' }>> = []
  readonly sent: string[] = []
  /** Every agent call as `op resource`, in the order asked. */
  readonly calls: string[] = []
  readonly logs: string[] = []
  shutdownComplete = false

  /** `nodes`: ha.cf's node list (both seed directors unless a test says otherwise). */
  constructor(mode: AutoFailback = 'on', timers?: Partial<ResourceTimers>, nodes: readonly string[] = [T5, T6]) {
    this.rm = new ResourceManager({ me: T5, nodes, groups: seedGroups(), autoFailback: mode, pid: 1, ...(timers ? { timers } : {}) })
  }

  feed(ev: RmEvent, at = this.now): void {
    this.now = at
    this.apply(hearOwn(this.rm, this.rm.handle(ev, this.now), this.now))
  }

  /** A message from titanic6. */
  peer(pairs: Array<[string, string]>, at = this.now): void {
    this.feed({ type: 'message', msg: messageOf([...pairs, ['src', T6]]) }, at)
  }

  tickAt(at: number): void {
    this.now = at
    this.apply(hearOwn(this.rm, this.rm.tick(at), at))
  }

  /** Answer the agent calls held back so far (and those they lead to). */
  release(): void {
    this.holdAgents = false
    const calls = this.held
    this.held = []
    for (const a of calls) this.answer(a)
  }

  /** Answer the oldest held call only (what it leads to is held again); its `op resource`. */
  answerOne(): string | undefined {
    const a = this.held.shift()
    if (a === undefined) return undefined
    this.answer(a)
    return `${a.op} ${a.resource.text}`
  }

  get pendingAgents(): number {
    return this.held.length
  }

  /** Both sides up, titanic6 holding nothing and stable: titanic5 takes its group and is stable. */
  startStable(): void {
    this.feed({ type: 'node-status', node: T6, status: 'active' })
    this.feed({ type: 'comm-up' })
    this.peer([['t', 'starting']])
    this.peer([['t', 'resource'], ['rsc_hold', 'none'], ['rtype', 'full'], ['isstable', '1']])
  }

  sentSince(n: number): string[] {
    return this.sent.slice(n)
  }

  private apply(actions: RmAction[]): void {
    for (const a of actions) {
      switch (a.type) {
        case 'send':
          this.sent.push(describe(a.msg))
          break
        case 'log':
          this.logs.push(`${a.level}: ${a.text}`)
          break
        case 'run-agent':
          this.calls.push(`${a.op} ${a.resource.text}`)
          if (this.holdAgents) this.held.push(a)
          else this.answer(a)
          break
        case 'shutdown-complete':
          this.shutdownComplete = true
          break
        case 'stop-failed':
          break
      }
    }
  }

  private answer(a: Extract<RmAction, { type: 'run-agent' }>): void {
    if (a.op === 'start') this.up.add(a.resource.text)
    if (a.op === 'stop') this.up.delete(a.resource.text)
    this.feed({ type: 'agent-result', id: a.id, ok: true, running: this.up.has(a.resource.text), exitCode: 0 })
  }
}
