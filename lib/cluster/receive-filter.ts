// should_drop_message: generation, sequence and destination filtering of one authenticated message from a known node.
import { getBinary, getString, type HaMessage } from '../wire/message.js'
import type { LogLevel } from './actions.js'
import { scanHex } from './c-numbers.js'
import type { NodeEntry } from './node-table.js'
import { ACK_DIV } from './seq-tracker.js'
import { T_NAKREXMIT, T_STATUS } from './protocol-messages.js'
import { isUnsequencedType, speaksFlowControl } from './control-fields.js'
import type { ComplaintKind } from './complaint-limiter.js'

/** heartbeat FLOWCONTROL_LIMIT (MAXMSGHIST/2): a bigger gap resets tracking instead of asking for it. */
export const MAX_GAP = 250
/**
 * An NS_ control message (no seq to check) older than its sender's latest status by more than this is a
 * replay: a peer stamps `ts` (wall seconds) as it sends, so its own control messages trail its statuses
 * by a second at most (reordering, the second changing in between).
 */
export const CONTROL_TS_SLACK_SEC = 2

/**
 * Why a message was refused. `dead-node`: from a node we declared dead, other than a fresh status (its
 * tracking was reset at death, so an old message of its generation would otherwise pass). `stale-control`:
 * an NS_ message from a newer generation than the sender's latest status, or stamped well before it.
 */
export type DropReason = 'malformed' | 'unknown-node' | 'replay' | 'old-seq' | 'stale-status' | 'not-for-us' | 'dead-node' | 'stale-control'

export type FilterEffect =
  /** `complaint`: about wire input, so rate-limited per kind. */
  | { kind: 'log'; level: LogLevel; text: string; complaint?: ComplaintKind }
  /** The tracking was reset: cancel this node's pending rexmit requests, forget its acks. */
  | { kind: 'tracking-reset' }
  /** Ask for these seqs again (each after its own random delay); stop asking for `forgotten` (the missing list is full). */
  | { kind: 'gap'; from: number; to: number; lost: number; forgotten: number[] }
  /** A missing seq arrived or was NAKed: cancel its request. */
  | { kind: 'recovered'; seq: number; nak: boolean }
  | { kind: 'ack'; seq: number }
  | { kind: 'restart'; previousGeneration: number; generation: number }
  | { kind: 'healed-partition' }
  /** A node we declared dead came back in a new generation already active: it started without us. */
  | { kind: 'restarted-apart' }

export interface FilterOutcome {
  verdict: 'keep' | 'drop' | 'duplicate'
  dropReason: DropReason | undefined
  effects: FilterEffect[]
}

export interface FilterContext {
  localNode: string
  localUuid: Buffer
  flowControl: boolean
  /**
   * ha.cf names exactly two nodes. Only then must a node that starts next to us be heard before it
   * goes active (it asks us, and we alone, for the node list); with a third node to answer it, a
   * start-up whose first statuses we lost looks like one that ran apart from us.
   */
  twoNodes: boolean
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
  const log = (level: LogLevel, text: string, complaint?: ComplaintKind): void => {
    effects.push(complaint === undefined ? { kind: 'log', level, text } : { kind: 'log', level, text, complaint })
  }
  const out = (verdict: FilterOutcome['verdict'], dropReason?: DropReason): FilterOutcome => ({ verdict, dropReason, effects })
  const dest = getString(m.msg, 'dest')
  const t = node.track

  const hg = getString(m.msg, 'hg')
  const gen = hg === undefined ? 0 : scanHex(hg)
  if (gen === undefined) {
    log('error', 'should_drop_message: bad generation number', 'bad packet')
    return out('drop', 'malformed')
  }
  const replay = (): FilterOutcome => {
    log('error', `should_drop_message: attempted replay attack [${node.name}]? [gen = ${gen}, curgen = ${t.generation}]`, 'old generation')
    return out('drop', 'replay')
  }
  const isStatus = m.seq !== undefined && m.type.toLowerCase() === T_STATUS
  // Declared dead, its tracking was reset: only a status that proves it back (a new generation, or a
  // newer seq of its current one) is looked at; anything else may be a capture replayed.
  if (node.status === 'dead' && !node.isSelf && !(isStatus && gen >= t.generation)) return out('drop', 'dead-node')

  if (isUnsequencedType(m.type) || m.seq === undefined) {
    // 3.0.6 checks neither generation nor age here: a capture of these could be replayed for ever
    if (t.generation > 0) {
      if (gen < t.generation) return replay()
      if (gen > t.generation || m.ts + CONTROL_TS_SLACK_SEC < node.statusTs) return out('drop', 'stale-control')
    }
    if (m.type.toLowerCase() === T_NAKREXMIT.toLowerCase()) {
      const nseq = scanHex(getString(m.msg, 'firstseq'))
      if (nseq === undefined || nseq <= 0) {
        log('error', 'should_drop_message: bad nak seq number', 'bad packet')
        return out('drop', 'malformed')
      }
      if (dest === undefined) log('warn', 'should_drop_message: tonodename not found heartbeat version not matching?', 'bad packet')
      // only a NAK for a seq we were really missing is news (3.0.6 logs any)
      if (t.takeMissing(nseq, node.ackTrigger) !== undefined) {
        effects.push({ kind: 'recovered', seq: nseq, nak: true })
        if (dest === undefined || dest === ctx.localNode) log('error', `Irretrievably lost packet: node ${node.name} seq ${nseq}`, 'NAK')
      }
      return out('drop')
    }
    return dest === undefined || dest === ctx.localNode ? out('keep') : out('drop', 'not-for-us')
  }

  const seq = m.seq
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
    return replay()
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
        // judged as a heal already: its later `active` is not news of a lone start-up
        node.rejoinUnasked = false
      }
    } else if (gen > t.generation) {
      isRestart = true
      if (t.generation > 0) log('info', `Heartbeat restart on node ${node.name}`)
      effects.push({ kind: 'restart', previousGeneration: t.generation, generation: gen })
      // Dead to us, and its first word in this generation is already `active`: it ran its start-up
      // apart from us, taking what it found unheld: it restarted inside a partition, or it has run
      // since before our own start (we ran ours alone). A peer starting next to us is heard before
      // it is active (its `init`/`up`: it needs our answer to its reqnodes, dropped while it is dead).
      // 3.0.6 sees only a restart (or a new node) and waits for a resource message that may never come.
      node.rejoinUnasked = false
      if (ctx.twoNodes && node.status === 'dead' && getString(m.msg, 'st') === 'active') {
        const how = t.generation > 0 ? 'restarted while apart from us' : 'ran apart from us since our start'
        log('warn', `Cluster node ${node.name} ${how} and is already active: treating it as a healed partition.`)
        effects.push({ kind: 'restarted-apart' })
      } else if (ctx.twoNodes && ctx.flowControl && node.status === 'dead' && speaksFlowControl(m.msg)) {
        // Heard in its start-up: it goes active only on our answer to its reqnodes, unless its
        // initdead ends first because it cannot hear us (a heal that reached us first).
        node.rejoinUnasked = true
      }
      resetTracking()
      node.statusTs = 0
      node.lastStatusMs = undefined
      node.statusSeq = 0
    }
    t.generation = gen
    const isNews = t.lastSeq === undefined || seq > t.lastSeq
    if (!isRestart && isNews && node.rejoinUnasked && getString(m.msg, 'st') === 'active') {
      node.rejoinUnasked = false
      log('warn', `Cluster node ${node.name} went active without asking us for the node list: it ended its start-up apart from us; treating it as a healed partition.`)
      effects.push({ kind: 'restarted-apart' })
    }
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
    log('warn', `${lost} lost packet(s) for [${node.name}] [${last}:${seq}]`, 'lost packets')
    if (lost > MAX_GAP) {
      resetTracking()
      t.lastSeq = seq
      log('error', 'lost a lot of packets!', 'lost packets')
      return keepIfToUs()
    }
    const forgotten = t.recordGap(last + 1, seq - 1)
    effects.push({ kind: 'gap', from: last + 1, to: seq - 1, lost, forgotten })
    t.lastSeq = seq
    return keepIfToUs()
  }
  // older than the newest: a late or retransmitted packet we were missing?
  const found = t.takeMissing(seq, node.ackTrigger)
  if (found !== undefined) {
    effects.push({ kind: 'recovered', seq, nak: false })
    if (found.nowEmpty) log('info', `No pkts missing from ${node.name}!`, 'lost packets')
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
