// After a healed partition or a split brain, exactly one node keeps each contested group: the
// decision (split-brain.ts: a rule both sides share) and what follows it. The yielder gives
// everything up and restarts; the keeper stays in this generation, tells the peer what it holds,
// and re-announces the addresses now and once more when the peer lets its copy go. The node core hands the events in.

import type { RmSnapshot } from '../resources/rm-types.js'
import type { CauseKind, LogLevel } from './node-core-types.js'
import { claimsGroup, SplitBrainWatch, yieldsContested } from './split-brain.js'

/** What the keeper reads from and asks of the node core. */
export interface KeeperHost {
  /** The manager's view while the node runs with resources managed; undefined otherwise. */
  runningResources(): RmSnapshot | undefined
  /** We are the first node of ha.cf (the rule's tie-breaker). */
  firstNode(): boolean
  setCause(kind: CauseKind, text: string): void
  log(level: LogLevel, text: string): void
  /** Give every resource up, then restart (3.0.6's CauseShutdownRestart). */
  yieldAndRestart(reason: string): void
  /** Say our running addresses to the LAN again (gratuitous ARP). */
  reannounce(): void
  /**
   * Tell the peer what we hold (a `resource` message: a heartbeat-ts peer's split-brain watch sees the
   * clash) and ask it to give up each of our own groups (`ip-request`: a 3.0.6 peer that never saw the
   * partition, or restarted apart from us, has no other rule that moves it).
   */
  tellPeerWeKeep(): void
}

export class PartitionKeeper {
  private readonly host: KeeperHost
  private readonly me: string
  private readonly watch = new SplitBrainWatch()

  constructor(host: KeeperHost, me: string) {
    this.host = host
    this.me = me
  }

  /** A partition healed: exactly one side keeps each group, decided at once. */
  healed(nowMs: number): void {
    const s = this.host.runningResources()
    if (s === undefined) return
    this.host.setCause('healed-partition', 'healed partition')
    if (yieldsContested(claimsGroup(s, this.me, false), claimsGroup(s, this.me, true), this.host.firstNode())) {
      // 3.0.6 CauseShutdownRestart: give the resources up and restart; the start-up arbitration
      // then leaves them with the peer, which keeps what it runs.
      this.host.log('warn', 'Healed partition: we run a group the peer also ran; giving up our resources and restarting.')
      this.host.yieldAndRestart('healed-partition')
      return
    }
    // Stronger than 3.0.6, where both sides give everything up and nobody holds the address until
    // the start-up arbitration ends: the keeper stays in this generation, says so to the LAN again
    // now, and once more when the peer has let its copy go.
    this.host.log('warn', 'Healed partition: keeping our resources; re-announcing their addresses.')
    this.host.reannounce()
    // A peer that restarted apart from us has a fresh table, and one that lost only our side of the
    // traffic saw no partition at all: it learns that we hold these groups only from this.
    this.host.tellPeerWeKeep()
    this.watch.armReannounce(nowMs)
  }

  /** After every event: a clash seen for longer than its grace is settled here. */
  check(nowMs: number): void {
    const s = this.host.runningResources()
    if (s === undefined) return
    const verdict = this.watch.check(s, nowMs, this.host.firstNode())
    if (verdict.kind === 'none') return
    this.host.setCause('healed-partition', 'split brain')
    this.host.log('warn', verdict.text)
    if (verdict.kind === 'yield') this.host.yieldAndRestart('split-brain')
  }

  /** The peer gave up what it ran (its shutdone, or its new generation): re-announce what we kept. */
  peerLetGo(nowMs: number): void {
    if (this.host.runningResources() === undefined || !this.watch.peerLetGo(nowMs)) return
    this.host.log('info', 'The peer let go of the group(s) we both ran: re-announcing their addresses.')
    this.host.reannounce()
  }

  /** When a clash must be looked at again without any event. */
  nextDeadline(): number | undefined {
    return this.host.runningResources() === undefined ? undefined : this.watch.nextDeadline()
  }
}
