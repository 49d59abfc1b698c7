// Issue 10, cluster side: a peer with the key (or anyone under crc, or a replayer without it) cannot make us storm, grow the node table, act on old messages, or flood the log.
import t from 'tap'
import { lone, logLines, transmitted } from './lone-core.js'
import { SimCluster, typeOf } from './sim.js'
import type { MembershipAction } from '../../lib/cluster/actions.js'
import { ackMessage, repnodesMessage, rexmitRequestMessage, statusMessage } from '../../lib/cluster/protocol-messages.js'
import { getString, messageOf, setString } from '../../lib/wire/message.js'

const hexSeq = (n: number): string => n.toString(16)
const rexmitsIn = (as: MembershipAction[]) => transmitted(as).filter((a) => typeOf(a.msg) === 'NS_rexmit')
const naksIn = (as: MembershipAction[]) => transmitted(as).filter((a) => typeOf(a.msg) === 'NS_nak_rexmit')

/** alpha up with beta (comm up), beta's status seq 1..2 heard; returns helpers to feed beta's messages. */
function upWithBeta() {
  const l = lone()
  const { core, env, fromBeta } = l
  core.start(0, env)
  core.receive(fromBeta(statusMessage('active', 5000, true)), 'eth0', 10, env)
  core.receive(fromBeta(repnodesMessage('alpha', ['alpha', 'beta'], [])), 'eth0', 20, env)
  if (!core.snapshot().commUp) throw new Error('alpha did not come up')
  return l
}

t.test('retransmission storm: 100 packets with seq steps of 250 leave a bounded, rate-limited set of requests', async (t) => {
  const { core, env, fromBeta } = upWithBeta()
  // beta's packets 251, 501, ... each open a gap of 249: 24,900 missing seqs, of which 499 are remembered
  const status = fromBeta(statusMessage('active', 5000, true))
  for (let i = 1; i <= 100; i++) core.receive(setString(status, 'seq', hexSeq(2 + 250 * i)), 'eth0', 30, env)
  const missing = new Set(core.snapshot().nodes.find((n) => n.name === 'beta')?.missing)
  t.equal(missing.size, 499, 'heartbeat remembers 499 missing seqs')
  const perWindow: number[] = []
  const asked = new Set<number>()
  let betaSeq = 2 + 250 * 100
  for (let now = 250; now <= 3000; now += 250) {
    let sent = 0
    for (let d = core.nextDeadline(); d !== undefined && d <= now; d = core.nextDeadline()) {
      const out = core.tick(d, env)
      for (const r of rexmitsIn(out)) {
        sent++
        asked.add(Number(getString(r.msg, 'firstseq')))
      }
    }
    perWindow.push(sent)
    // beta stays alive: its statuses keep coming, in order
    core.receive(setString(fromBeta(statusMessage('active', 5000, true)), 'seq', hexSeq(++betaSeq)), 'eth0', now, env)
  }
  t.ok(Math.max(...perWindow) <= 50, `at most 50 NS_rexmit to beta per 250 ms (sent ${perWindow.join(', ')})`)
  t.same([...asked].filter((s) => !missing.has(s)), [], 'only seqs still missing are asked for (the 24,401 dropped ones are cancelled)')
})

t.test('one NS_rexmit for 1..1000: NAKs count against the batch of 50, one line for the seqs beyond our newest', async (t) => {
  const { core, env, fromBeta } = upWithBeta()
  for (let i = 0; i < 600; i++) core.send(messageOf([['t', 'bulk']]), 30, env)
  const req = setString(fromBeta(rexmitRequestMessage('alpha', 1)), 'lastseq', '1000')
  const out = core.receive(req, 'eth0', 40, env)
  t.ok(transmitted(out).length <= 50, `at most 50 sends (resends and NAKs) for one request: ${transmitted(out).length}`)
  t.ok(logLines(out).length <= 6, `a handful of log lines: ${logLines(out).length}`)
})

t.test('a peer asking again and again for what we no longer have gets at most 50 answers per 250 ms', async (t) => {
  const { core, env, fromBeta } = upWithBeta()
  for (let i = 0; i < 600; i++) core.send(messageOf([['t', 'bulk']]), 30, env)
  let naks = 0
  let lines = 0
  for (let i = 0; i < 200; i++) {
    const out = core.receive(fromBeta(rexmitRequestMessage('alpha', 1 + (i % 50))), 'eth0', 40 + i, env)
    naks += naksIn(out).length
    lines += logLines(out).filter((l) => l.startsWith('Cannot rexmit')).length
  }
  t.ok(naks <= 50, `NAKs sent: ${naks}`)
  t.ok(lines <= 5, `"Cannot rexmit" lines: ${lines}`)
})

t.test('repnodes cannot add nodes: only the nodes of ha.cf exist', async (t) => {
  const { core, env, fromBeta } = lone()
  core.start(0, env)
  core.receive(fromBeta(statusMessage('active', 5000, true)), 'eth0', 10, env)
  t.equal(core.snapshot().commPhase, 'asking-nodes')
  const names = ['alpha', 'beta', ...Array.from({ length: 15_000 }, (_, i) => `n${i}`)]
  const out = core.receive(fromBeta(repnodesMessage('alpha', names, [])), 'eth0', 20, env)
  t.ok(out.some((a) => a.type === 'comm-up'), 'the answer still brings communication up')
  t.same(core.snapshot().nodes.map((n) => n.name), ['alpha', 'beta'], 'the node table is ha.cf')
  t.ok(logLines(out).length <= 3, `a few log lines: ${logLines(out).length}`)
  let later: MembershipAction[] = []
  for (let d = core.nextDeadline(); d !== undefined && d <= 20_000; d = core.nextDeadline()) later = later.concat(core.tick(d, env))
  t.same(later.filter((a) => a.type === 'node-status' && a.node !== 'beta'), [], 'no node dies that never existed')
  const empty = core.receive(fromBeta(repnodesMessage('alpha', [], [])), 'eth0', 20_100, env)
  t.same(core.snapshot().nodes.map((n) => n.name), ['alpha', 'beta'], 'nor can a list without a configured node remove it')
  t.same(empty.filter((a) => a.type === 'node-status'), [])
})

t.test("replays without a key: an old generation's control messages cost nothing", async (t) => {
  const { core, env, fromBeta } = upWithBeta()
  for (let i = 0; i < 600; i++) core.send(messageOf([['t', 'bulk']]), 30, env)
  // captured from beta's previous incarnation (generation 8): a request for a seq long gone, an ack
  const oldRexmit = fromBeta(rexmitRequestMessage('alpha', 3), 8)
  const oldAck = fromBeta(ackMessage('alpha', 590), 8)
  const before = core.snapshot()
  let out: MembershipAction[] = []
  for (let i = 0; i < 20; i++) out = out.concat(core.receive(oldRexmit, 'eth0', 50 + i, env), core.receive(oldAck, 'eth0', 50 + i, env))
  t.same(naksIn(out), [], 'no NAK')
  t.ok(logLines(out).length <= 5, `few log lines: ${logLines(out).length}`)
  t.equal(core.snapshot().nodes.find((n) => n.name === 'beta')?.ackedSeq, before.nodes.find((n) => n.name === 'beta')?.ackedSeq, 'an old ack moves nothing')
  t.ok(core.snapshot().counters.dropped.replay >= 40, 'counted as replays')
})

t.test('replays without a key: a control message older than the sender’s latest status is ignored', async (t) => {
  const { core, env, fromBeta } = upWithBeta()
  for (let i = 0; i < 600; i++) core.send(messageOf([['t', 'bulk']]), 30, env)
  const captured = fromBeta(rexmitRequestMessage('alpha', 3))
  const laterEnv = { ...env, wallSec: env.wallSec + 60 }
  // a minute later beta is still there, same generation
  core.receive(setString(fromBeta(statusMessage('active', 5000, true)), 'ts', hexSeq(laterEnv.wallSec)), 'eth0', 60_000, laterEnv)
  const out = core.receive(captured, 'eth0', 60_010, laterEnv)
  t.same(naksIn(out), [], 'a NS_rexmit stamped a minute before its sender’s latest status gets no NAK')
})

t.test("replays without a key: after a peer's death only a fresh status from it counts", async (t) => {
  const sim = new SimCluster(['alpha', 'beta'], { keepaliveMs: 1000, deadtimeMs: 5000, warntimeMs: 2500, initdeadMs: 12000, hopfudge: 1, maxRexmitDelayMs: 250 }, { seed: 3 })
  sim.start('alpha')
  sim.start('beta')
  sim.runUntil(5000)
  sim.send('beta', messageOf([['t', 'ip-request'], ['dest', 'alpha'], ['ipaddr', '10.0.0.9']]))
  sim.runUntil(6000)
  const captured = sim.deliveries.find((d) => d.from === 'beta' && d.to === 'alpha' && typeOf(d.msg) === 'ip-request')?.msg
  const capturedAck = sim.deliveries.find((d) => d.from === 'beta' && d.to === 'alpha' && typeOf(d.msg) === 'NS_ackmsg')?.msg
  if (!captured) throw new Error('no ip-request captured')
  t.equal(sim.actions('alpha', 'deliver').filter((e) => typeOf(e.action.msg) === 'ip-request').length, 1, 'delivered once when sent')
  sim.partition('alpha', 'beta', true)
  sim.runUntil(15_000)
  t.equal(sim.core('alpha').snapshot().nodes.find((n) => n.name === 'beta')?.status, 'dead', 'beta is dead to alpha')
  const replayed: MembershipAction[] = [...sim.inject('alpha', captured), ...(capturedAck ? sim.inject('alpha', capturedAck) : [])]
  t.same(replayed.filter((a) => a.type === 'deliver'), [], 'the captured ip-request is not acted on again')
  t.same(replayed.filter((a) => a.type === 'transmit' || a.type === 'link-status'), [], 'nor does it bring beta’s link up or draw an answer')
  t.ok((sim.core('alpha').snapshot().counters.dropped['dead-node'] ?? 0) >= 1, 'counted: from a dead node')
  sim.partition('alpha', 'beta', false)
  sim.runUntil(20_000)
  t.equal(sim.core('alpha').snapshot().nodes.find((n) => n.name === 'beta')?.status, 'active', 'a fresh status from beta still brings it back')
  t.same(sim.inject('alpha', captured).filter((a) => a.type === 'deliver'), [], 'and the old ip-request stays old')
})

t.test('each kind of complaint from the wire is rate-limited, with an "N more suppressed" summary', async (t) => {
  const { core, env, fromBeta } = upWithBeta()
  const unknown = setString(fromBeta(statusMessage('up', 5000, true)), 'src', 'mallory')
  unknown.fields = unknown.fields.filter((f) => f.name !== 'srcuuid')
  const oldGen = fromBeta(statusMessage('up', 5000, true), 3)
  let out: MembershipAction[] = []
  for (let i = 0; i < 1000; i++) out = out.concat(core.receive(unknown, 'eth0', 100 + i, env), core.receive(oldGen, 'eth0', 100 + i, env))
  const lines = logLines(out)
  t.ok(lines.filter((l) => l.includes('bad node [mallory]')).length <= 5, 'unknown node: a few lines')
  t.ok(lines.filter((l) => l.includes('attempted replay attack')).length <= 5, 'old generation: a few lines')
  t.equal(core.snapshot().counters.dropped['unknown-node'], 1000, 'every one counted')
  let later: MembershipAction[] = []
  for (let d = core.nextDeadline(); d !== undefined && d <= 15_000; d = core.nextDeadline()) later = later.concat(core.tick(d, env))
  const summaries = logLines(later).filter((l) => l.includes('more suppressed'))
  t.ok(summaries.some((l) => /unknown node.*\b995 more suppressed/.test(l)), `unknown-node summary: ${summaries.join(' | ')}`)
  t.ok(summaries.some((l) => /old generation.*\b995 more suppressed/.test(l)), 'old-generation summary')
})
