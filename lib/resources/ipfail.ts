// ipfail built in (ha.cf `respawn hacluster …/ipfail`; Debian no longer ships the program): when this
// node sees fewer ping nodes than its peer, it gives its resources up as hb_standby would, and with
// auto_failback on gives the foreign ones back once the counts are even again. The exchange is
// 3.0.6 ipfail's own: `num_ping_nodes` (num_ping=count) asks the peer, which answers `you_are_dead`
// when it sees more, gives up itself when it sees fewer, and sends `abort_giveup` when even. A
// give-up waits twice keepalive (ipfail's delay_giveup) so an answer on the way can cancel it. Pure.

import { getString, messageOf, type HaMessage } from '../wire/message.js'

export const IPFAIL_MESSAGE_TYPES: readonly string[] = ['num_ping_nodes', 'you_are_dead', 'abort_giveup']

export type IpfailGiveup = 'all' | 'foreign'

export type IpfailAction =
  | { type: 'send'; msg: HaMessage }
  /** Ask to give up these resources (hb_standby's ask_resources): `text` says why, with the counts. */
  | { type: 'giveup'; what: IpfailGiveup; text: string }
  | { type: 'log'; level: 'info' | 'debug'; text: string }

export interface IpfailOptions {
  me: string
  /** The other normal node (ipfail runs in pairs); undefined when ha.cf names no other node. */
  peer: string | undefined
  keepaliveMs: number
  autoFailback: boolean
}

export function askPingNodesMsg(me: string, upCount: number, peer: string): HaMessage {
  // sendnodemsg appends dest after ipfail's own fields.
  return messageOf([['t', 'num_ping_nodes'], ['src', me], ['num_ping', String(upCount)], ['dest', peer]])
}

export class Ipfail {
  private readonly o: IpfailOptions
  private pending: { what: IpfailGiveup; atMs: number; text: string } | undefined
  /** A give-up came due while resources were in transition: asked again once they are stable. */
  private needStandby = false
  /** When to ask the peer that (re)joined: not during its join handshake, as its own ipfail signs on later. */
  private askAtMs: number | undefined

  constructor(o: IpfailOptions) {
    this.o = o
  }

  /**
   * A ping node came up or died: tell the peer our count (ipfail's NodeStatus / LinkStatus). Not while
   * the peer is down or joining (`peerUp` false): its join is followed by an ask anyway (peerJoined).
   */
  pingChanged(node: string, status: 'ping' | 'dead', upCount: number, peerUp = true): IpfailAction[] {
    const out: IpfailAction[] = []
    if (status === 'ping') out.push({ type: 'log', level: 'info', text: `ipfail: ping node ${node} came up (${upCount} up here).` })
    else out.push({ type: 'log', level: 'info', text: `ipfail: ping node ${node} is dead (${upCount} up here)${upCount === 0 ? ': we see none.' : '.'}` })
    return peerUp ? [...out, ...this.ask(upCount)] : out
  }

  /**
   * The peer came (back) up: compare counts as ipfail does when the other ipfail joins, twice keepalive
   * later (a message in the middle of 3.0.6's join handshake is dropped there and logged as lost).
   */
  peerJoined(nowMs: number): void {
    this.askAtMs = nowMs + 2 * this.o.keepaliveMs
  }

  /** A message from the peer; anything not ipfail's is ignored. */
  message(msg: HaMessage, upCount: number, stable: boolean, nowMs: number): IpfailAction[] {
    const from = getString(msg, 'src')
    if (from === undefined || from === this.o.me) return []
    switch (getString(msg, 't')) {
      case 'num_ping_nodes': {
        const theirs = Number.parseInt(getString(msg, 'num_ping') ?? '', 10)
        if (!Number.isFinite(theirs)) return [{ type: 'log', level: 'info', text: `ipfail: ${from} sent num_ping_nodes without a count; ignored.` }]
        const counts = `${upCount} ping node(s) up here, ${theirs} on ${from}`
        if (upCount > theirs) {
          return [
            { type: 'log', level: 'info', text: `ipfail: ${counts}: telling ${from} we see more ping nodes.` },
            { type: 'send', msg: messageOf([['t', 'you_are_dead'], ['dest', from]]) },
          ]
        }
        if (upCount < theirs) return [{ type: 'log', level: 'info', text: `ipfail: ${counts}: giving up our resources.` }, ...this.delayGiveup('all', `ipfail: ${counts}`, nowMs)]
        const out: IpfailAction[] = [{ type: 'log', level: 'info', text: `ipfail: ${counts}: balanced.` }, { type: 'send', msg: messageOf([['t', 'abort_giveup'], ['src', this.o.me], ['dest', from]]) }]
        if (this.pending !== undefined) out.push(...this.abort())
        else if (this.o.autoFailback && stable) {
          out.push({ type: 'log', level: 'info', text: 'ipfail: giving up foreign resources (auto_failback).' })
          out.push(...this.delayGiveup('foreign', `ipfail: ${counts}, auto_failback`, nowMs))
        }
        return out
      }
      case 'you_are_dead':
        return [{ type: 'log', level: 'info', text: `ipfail: ${from} sees more ping nodes than our ${upCount}: giving up our resources.` }, ...this.delayGiveup('all', `ipfail: ${from} sees more ping nodes than our ${upCount}`, nowMs)]
      case 'abort_giveup':
        return this.abort()
      default:
        return []
    }
  }

  /** Resources became stable again (our `resource` message with isstable=1): a deferred give-up is re-asked. */
  stable(upCount: number): IpfailAction[] {
    if (!this.needStandby) return []
    this.needStandby = false
    return this.ask(upCount)
  }

  nextDeadline(): number | undefined {
    const p = this.pending?.atMs
    if (p === undefined) return this.askAtMs
    return this.askAtMs === undefined ? p : Math.min(p, this.askAtMs)
  }

  tick(nowMs: number, stable: boolean, upCount: number): IpfailAction[] {
    const out: IpfailAction[] = []
    if (this.askAtMs !== undefined && nowMs >= this.askAtMs) {
      this.askAtMs = undefined
      out.push(...this.ask(upCount))
    }
    return [...out, ...this.giveupDue(nowMs, stable)]
  }

  private giveupDue(nowMs: number, stable: boolean): IpfailAction[] {
    const p = this.pending
    if (p === undefined || nowMs < p.atMs) return []
    this.pending = undefined
    if (!stable) {
      this.needStandby = true
      return [{ type: 'log', level: 'info', text: 'ipfail: resources in transition; asking again once they are stable.' }]
    }
    return [{ type: 'giveup', what: p.what, text: p.text }]
  }

  private ask(upCount: number): IpfailAction[] {
    if (this.o.peer === undefined) return []
    return [{ type: 'send', msg: askPingNodesMsg(this.o.me, upCount, this.o.peer) }]
  }

  private delayGiveup(what: IpfailGiveup, text: string, nowMs: number): IpfailAction[] {
    // A later decision replaces a pending one (ipfail overrides its timer).
    this.pending = { what, atMs: nowMs + 2 * this.o.keepaliveMs, text }
    return [{ type: 'log', level: 'info', text: `ipfail: delayed giveup of ${what} resources in ${(2 * this.o.keepaliveMs) / 1000} s.` }]
  }

  private abort(): IpfailAction[] {
    if (this.pending === undefined) return []
    this.pending = undefined
    return [{ type: 'log', level: 'info', text: 'ipfail: aborted the delayed giveup.' }]
  }
}
