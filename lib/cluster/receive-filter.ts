// should_drop_message: generation, sequence and destination filtering of one authenticated message from a known node.
import { getBinary, getString, type HaMessage } from '../wire/message.js'
import type { LogLevel } from './actions.js'
import { scanHex } from './c-numbers.js'
import type { NodeEntry } from './node-table.js'
import { ACK_DIV } from './seq-tracker.js'
import { T_NAKREXMIT, T_STATUS } from './protocol-messages.js'
import { isUnsequencedType } from './control-fields.js'

/** heartbeat FLOWCONTROL_LIMIT (MAXMSGHIST/2): a bigger gap resets tracking instead of asking for it. */
export const MAX_GAP = 250

export type DropReason = 'malformed' | 'unknown-node' | 'replay' | 'old-seq' | 'stale-status' | 'not-for-us'

export type FilterEffect =
  | { kind: 'log'; level: LogLevel; text: string }
  /** The tracking was reset: cancel this node's pending rexmit requests, forget its acks. */
  | { kind: 'tracking-reset' }
  /** Ask for these seqs again (each after its own random delay). */
  | { kind: 'gap'; from: number; to: number; lost: number }
  /** A missing seq arrived or was NAKed: cancel its request. */
  | { kind: 'recovered'; seq: number; nak: boolean }
  | { kind: 'ack'; seq: number }
  | { kind: 'restart'; previousGeneration: number; generation: number }
  | { kind: 'healed-partition' }

export interface FilterOutcome {
  verdict: 'keep' | 'drop' | 'duplicate'
  dropReason: DropReason | undefined
  effects: FilterEffect[]
}

export interface FilterContext {
  localNode: string
  localUuid: Buffer
  flowControl: boolean
}

/** The message as process_clustermsg has already checked it: t, src, ts present, seq valid unless NS_. */
export interface CheckedMessage {
  msg: HaMessage
  type: string
  seq: number | undefined
  ts: number
}

export function filterMessage(node: NodeEntry, m: CheckedMessage, ctx: FilterContext): FilterOutcome {
  const effects: FilterEffect[] = []
  const log = (level: LogLevel, text: string): void => {
    effects.push({ kind: 'log', level, text })
  }
  const out = (verdict: FilterOutcome['verdict'], dropReason?: DropReason): FilterOutcome => ({ verdict, dropReason, effects })
  const dest = getString(m.msg, 'dest')
  const t = node.track

  if (isUnsequencedType(m.type) || m.seq === undefined) {
    if (m.type.toLowerCase() === T_NAKREXMIT.toLowerCase()) {
      const nseq = scanHex(getString(m.msg, 'firstseq'))
      if (nseq === undefined || nseq <= 0) {
        log('error', 'should_drop_message: bad nak seq number')
        return out('drop', 'malformed')
      }
      if (dest === undefined) log('warn', 'should_drop_message: tonodename not found heartbeat version not matching?')
      if (dest === undefined || dest === ctx.localNode) log('error', `Irretrievably lost packet: node ${node.name} seq ${nseq}`)
      if (t.takeMissing(nseq, node.ackTrigger) !== undefined) effects.push({ kind: 'recovered', seq: nseq, nak: true })
      return out('drop')
    }
    return dest === undefined || dest === ctx.localNode ? out('keep') : out('drop', 'not-for-us')
  }

  const seq = m.seq
  const isStatus = m.type.toLowerCase() === T_STATUS
  const hg = getString(m.msg, 'hg')
  const gen = hg === undefined ? 0 : scanHex(hg)
  if (gen === undefined) {
    log('error', 'should_drop_message: bad generation number')
    return out('drop', 'malformed')
  }
  const destUuid = getBinary(m.msg, 'destuuid')
  const isToUs = destUuid !== undefined && destUuid.length === 16 ? destUuid.equals(ctx.localUuid) : dest === undefined || dest === ctx.localNode
  const keepIfToUs = (): FilterOutcome => (isToUs ? out('keep') : out('drop', 'not-for-us'))
  const ackIfNecessary = (s: number): void => {
    if (!ctx.flowControl) return
    if ((t.firstMissingSeq !== 0 && s > t.firstMissingSeq) || s % ACK_DIV !== node.ackTrigger) return
    effects.push({ kind: 'ack', seq: s })
  }
  const resetTracking = (): void => {
    t.reset()
    node.ackedSeq = 0
    effects.push({ kind: 'tracking-reset' })
  }

  let isRestart = false
  let isHealed = false
  if (gen < t.generation) {
    log('error', `should_drop_message: attempted replay attack [${node.name}]? [gen = ${gen}, curgen = ${t.generation}]`)
    return out('drop', 'replay')
  } else if (isStatus) {
    if (gen === t.generation && gen > 0) {
      if (node.status === 'dead') {
        if (seq <= node.statusSeq) return out('drop', 'stale-status')
        log('crit', `Cluster node ${node.name} returning after partition.`)
        log('info', 'For information on cluster partitions, See URL: http://linux-ha.org/wiki/Split_Brain')
        log('warn', 'Deadtime value may be too small.')
        log('info', 'See FAQ for information on tuning deadtime.')
        log('info', 'URL: http://linux-ha.org/wiki/FAQ#Heavy_Load')
        effects.push({ kind: 'healed-partition' })
        isHealed = true
      }
    } else if (gen > t.generation) {
      isRestart = true
      if (t.generation > 0) log('info', `Heartbeat restart on node ${node.name}`)
      effects.push({ kind: 'restart', previousGeneration: t.generation, generation: gen })
      resetTracking()
      node.statusTs = 0
      node.lastStatusMs = undefined
      node.statusSeq = 0
    }
    t.generation = gen
  }

  const last = t.lastSeq
  if (last === undefined || seq === last + 1) {
    t.lastSeq = seq
    ackIfNecessary(seq)
    return keepIfToUs()
  }
  if (seq === last) return out('duplicate')
  if (seq > last) {
    const lost = seq - (last + 1)
    log('warn', `${lost} lost packet(s) for [${node.name}] [${last}:${seq}]`)
    if (lost > MAX_GAP) {
      resetTracking()
      t.lastSeq = seq
      log('error', 'lost a lot of packets!')
      return keepIfToUs()
    }
    effects.push({ kind: 'gap', from: last + 1, to: seq - 1, lost })
    t.recordGap(last + 1, seq - 1)
    t.lastSeq = seq
    return keepIfToUs()
  }
  // older than the newest: a late or retransmitted packet we were missing?
  const found = t.takeMissing(seq, node.ackTrigger)
  if (found !== undefined) {
    effects.push({ kind: 'recovered', seq, nak: false })
    if (found.nowEmpty) log('info', `No pkts missing from ${node.name}!`)
    if (found.ackSeq !== undefined) ackIfNecessary(found.ackSeq)
    return keepIfToUs()
  }
  if (isHealed || isRestart) {
    ackIfNecessary(seq)
    node.statusTs = m.ts
    resetTracking()
    t.lastSeq = seq
    return keepIfToUs()
  }
  return out('drop', 'old-seq')
}
