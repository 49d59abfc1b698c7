// The resource manager's view of the cluster's nodes: status, whether we heard them, what they may hold,
// and the place in each peer's stream of the newest holdings report we acted on.
import { getString } from '../wire/message.js'
import type { HaMessage } from '../wire/message.js'
import { scanHex } from '../cluster/c-numbers.js'

export interface PeerInfo {
  name: string
  status: string
  /** anypacketsyet: we heard from it at least once. */
  heard: boolean
  /** has_resources (legacy STONITH decision): cleared by its `shutdone`. */
  hasResources: boolean
  /** hg and seq of the newest `resource`/`shutdone` from it that we acted on (see stale). */
  holdsStamp?: Stamp
}

/** A message's place in its sender's stream: generation, then seq (both stamped by the sender's daemon). */
export interface Stamp {
  gen: number
  seq: number
}

/** hg/seq as the sender's daemon stamped them (hex); undefined for unstamped messages. */
export function stampOf(msg: HaMessage): Stamp | undefined {
  const seq = scanHex(getString(msg, 'seq'))
  if (seq === undefined) return undefined
  return { gen: scanHex(getString(msg, 'hg')) ?? 0, seq }
}

export function olderThan(a: Stamp, b: Stamp): boolean {
  return a.gen < b.gen || (a.gen === b.gen && a.seq < b.seq)
}

export class PeerTable {
  private readonly me: string
  private readonly nodes = new Map<string, PeerInfo>()

  /** `me` and `names` lower case; a name list without us still gets us (heard, holding nothing). */
  constructor(me: string, names: readonly string[]) {
    this.me = me
    for (const name of names) this.nodes.set(name, { name, status: 'init', heard: false, hasResources: true })
    if (!this.nodes.has(me)) this.nodes.set(me, { name: me, status: 'init', heard: true, hasResources: false })
  }

  get(name: string): PeerInfo | undefined {
    return this.nodes.get(name)
  }

  countByStatus(status: string): number {
    let n = 0
    for (const node of this.nodes.values()) if (node.status === status) n++
    return n
  }

  /** False for a cluster of one: no other node in ha.cf. */
  hasOtherNodes(): boolean {
    for (const n of this.nodes.values()) if (n.name !== this.me) return true
    return false
  }

  /** ha.cf names exactly one other node. */
  isPair(): boolean {
    let others = 0
    for (const n of this.nodes.values()) if (n.name !== this.me) others++
    return others === 1
  }

  /** The first other node not known dead (the peer of a two-node cluster). */
  peerName(): string | undefined {
    for (const n of this.nodes.values()) if (n.name !== this.me && n.status !== 'dead') return n.name
    return undefined
  }

  /** Record a status from membership; returns the peer when this status newly declares it dead. */
  setStatus(name: string, status: string): PeerInfo | undefined {
    const node = this.nodes.get(name)
    if (node === undefined) return undefined
    const old = node.status
    node.status = status.toLowerCase()
    if (node.status !== 'init' && node.status !== 'dead') node.heard = true
    if (name === this.me) return undefined
    return node.status === 'dead' && old !== 'dead' ? node : undefined
  }

  /** A message from `src` arrived (anypacketsyet). */
  heardFrom(src: string): void {
    const node = this.nodes.get(src)
    if (node && src !== this.me) node.heard = true
  }

  /** Its `shutdone` says "holds nothing now": a `resource` it sent before this one is stale from here on. */
  noteShutdone(src: string, msg: HaMessage): void {
    const peer = this.nodes.get(src)
    const s = stampOf(msg)
    if (peer !== undefined && s !== undefined && (peer.holdsStamp === undefined || olderThan(peer.holdsStamp, s))) peer.holdsStamp = s
  }

  /**
   * Is this peer `resource` older (by the sender's hg, then seq) than one we already acted on? The
   * membership layer delivers in arrival order, not seq order (§3.3: no reordering buffer), so a
   * lost `resource` comes back by retransmission after the later ones. Its rsc_hold (rtype=full
   * replaces "other holds") and isstable describe the peer as it was: 3.0.6 applies it anyway and
   * believes e.g. that a peer which just took every group holds only its own until the next
   * `resource`, which may never come. heartbeat-ts keeps the newest picture and drops the late one.
   * Returns the log line saying so for a late one; a newer one becomes the newest seen.
   */
  lateHoldings(msg: HaMessage, src: string): string | undefined {
    const node = this.nodes.get(src)
    const s = stampOf(msg)
    if (node === undefined || s === undefined) return undefined
    const seen = node.holdsStamp
    if (seen !== undefined && olderThan(s, seen)) {
      return `Late resource message from ${node.name} (seq ${s.seq}, already acted on seq ${seen.seq}) ignored: it no longer says what ${node.name} holds.`
    }
    node.holdsStamp = s
    return undefined
  }
}
