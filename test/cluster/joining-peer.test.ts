// A node joining a running peer (start, restart): it learns the peer's status before its communication comes up, whatever the peer's ack or repnodes race.
import t from 'tap'
import { SimCluster, typeOf } from './sim.js'
import { getString } from '../../lib/wire/message.js'

// the seed's timers: keepalive 2 s, deadtime 5 s; initdead 12 s
const timing = { keepaliveMs: 2000, deadtimeMs: 5000, warntimeMs: 2500, initdeadMs: 12000, hopfudge: 1, maxRexmitDelayMs: 250, statusCopies: 3 }
const SEEDS = Array.from({ length: 16 }, (_, i) => i + 1)
const PHASES_MS = [0, 400, 800, 1200, 1600]

interface Join {
  label: string
  /** What beta received from alpha from its start until its comm-up, in order: `t` or `status:st`. */
  heard: string[]
  /** beta's view of alpha when beta came up. */
  alphaAtCommUp: string | undefined
  commUpAt: number | undefined
  startedAt: number
  /** alpha statuses off its keepalive grid sent within 10 ms of beta's start: its reply. */
  alphaQuickStatuses: number
  /** What alpha sent from beta's start until beta's comm-up, its acks to itself left out. */
  alphaSent: string[]
}

/** alpha runs alone (comm up after initdead); beta starts, for the first time or again (new generation). */
function join(seed: number, phaseMs: number, opts: { restart: boolean; loseFirstStatus: boolean }): Join {
  const sim = new SimCluster(['alpha', 'beta'], timing, { seed, minDelayMs: 1, maxDelayMs: 3 })
  sim.start('alpha')
  if (opts.restart) {
    sim.runUntil(300)
    sim.start('beta')
    sim.runUntil(20_000)
    sim.kill('beta')
  }
  sim.runUntil(40_000 + phaseMs)
  const startedAt = sim.now
  if (opts.loseFirstStatus) sim.dropOnce.push({ from: 'alpha', match: (m) => typeOf(m) === 'status' && sim.now >= startedAt })
  if (opts.restart) sim.restart('beta')
  else sim.start('beta')
  sim.runUntil(startedAt + 15_000)
  const commUp = sim.actions('beta', 'comm-up').find((e) => e.at >= startedAt)
  const until = commUp?.at ?? Infinity
  const heard = sim.deliveries
    .filter((d) => d.from === 'alpha' && d.to === 'beta' && d.at >= startedAt && d.at <= until)
    // its acks to itself (3.0.6 acks its own messages too) say nothing to beta: left out
    .filter((d) => !(typeOf(d.msg) === 'NS_ackmsg' && getString(d.msg, 'dest') === 'alpha'))
    .map((d) => (typeOf(d.msg) === 'status' ? `status:${getString(d.msg, 'st') ?? ''}` : typeOf(d.msg)))
  const statusOfAlpha = sim.actions('beta', 'node-status').filter((e) => e.action.node === 'alpha' && e.at >= startedAt && e.at <= until)
  return {
    label: `seed ${seed}, beta ${opts.restart ? 'restarted' : 'started'} at +${phaseMs} ms${opts.loseFirstStatus ? ", alpha's first status to it lost" : ''}`,
    heard,
    alphaAtCommUp: statusOfAlpha[statusOfAlpha.length - 1]?.action.status,
    commUpAt: commUp?.at,
    startedAt,
    // alpha started at 0: its keepalive statuses fall on multiples of 2 s
    alphaQuickStatuses: sim
      .actions('alpha', 'transmit')
      .filter((e) => typeOf(e.action.msg) === 'status' && e.action.statusCopy === undefined && e.at >= startedAt && e.at <= startedAt + 10 && e.at % timing.keepaliveMs !== 0).length,
    alphaSent: sim
      .actions('alpha', 'transmit')
      .filter((e) => e.at >= startedAt && e.at <= until && !(typeOf(e.action.msg) === 'NS_ackmsg' && getString(e.action.msg, 'dest') === 'alpha'))
      .map((e) => `${typeOf(e.action.msg)}@${e.at - startedAt}`),
  }
}

const runs = (opts: { restart: boolean; loseFirstStatus: boolean }): Join[] => SEEDS.flatMap((s) => PHASES_MS.map((p) => join(s, p, opts)))

for (const restart of [false, true]) {
  t.test(`a peer that is up answers a ${restart ? 'restarted' : 'starting'} node's first status with its own, ahead of its ack or repnodes`, async (t) => {
    const all = runs({ restart, loseFirstStatus: false })
    const first = (r: Join, ty: string): number => {
      const i = r.alphaSent.findIndex((w) => w.startsWith(`${ty}@`))
      return i < 0 ? Infinity : i
    }
    const late = all.filter((r) => first(r, 'status') > Math.min(first(r, 'NS_ackmsg'), first(r, 'repnodes')))
    t.same(late.map((r) => `${r.label}: alpha sent ${r.alphaSent.join(' ')}`), [], `${all.length} runs: alpha sent its status before any ack or repnodes to beta`)
    // the network here reorders (1-3 ms per datagram), yet beta never came up without alpha's status
    const blind = all.filter((r) => r.alphaAtCommUp !== 'active')
    t.same(blind.map((r) => `${r.label}: heard ${r.heard.join(', ')}`), [], 'beta saw alpha active before its comm-up')
    // the reply is immediate, not the next keepalive (up to 2 s away)
    const quick = all.filter((r) => r.commUpAt !== undefined && r.commUpAt - r.startedAt < 50).length
    t.equal(quick, all.length, `beta came up within 50 ms of its start in ${quick}/${all.length} runs`)
    t.same([...new Set(all.map((r) => r.alphaQuickStatuses))], [1], 'alpha sent one status in reply (no burst)')
  })
}

t.test("a joining node waits for a status from every peer before links up: the peer's ack alone does not bring comm up", async (t) => {
  const all = [...runs({ restart: false, loseFirstStatus: true }), ...runs({ restart: true, loseFirstStatus: true })]
  // alpha's reply lost: what beta hears first is alpha's ack (when its trigger matches beta's seq 1..3) or repnodes
  const ackFirst = all.filter((r) => r.heard[0] === 'NS_ackmsg').length
  t.ok(ackFirst > 0, `in ${ackFirst}/${all.length} runs alpha's ack reached beta before any status of alpha's`)
  const blind = all.filter((r) => r.alphaAtCommUp !== 'active' || r.commUpAt === undefined)
  t.same(blind.map((r) => `${r.label}: heard ${r.heard.join(', ')}; alpha ${r.alphaAtCommUp ?? 'unknown'} at comm-up`), [], `${all.length} runs: beta came up knowing alpha active`)
  const waited = all.filter((r) => r.heard.indexOf('status:active') >= 0 && r.heard.indexOf('repnodes') > r.heard.indexOf('status:active')).length
  t.equal(waited, all.length, 'beta asked for the node list (and got repnodes) only after a status of alpha')
})
