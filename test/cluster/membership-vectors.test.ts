// The membership core against real heartbeat 3.0.6 traffic: replay sha1-legacy-startup into a core playing titanic6.
import t from 'tap'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { Membership } from '../../lib/cluster/membership.js'
import type { MembershipAction, MembershipEnv } from '../../lib/cluster/actions.js'
import { binaryField, getString, stringField, type HaMessage } from '../../lib/wire/message.js'

interface CapturedPacket {
  n: number
  t_rel_ms: number
  epoch_us: number
  fields: Array<[string, 'string' | 'binary', string]>
}

const dir = fileURLToPath(new URL('../fixtures/vectors/sha1-legacy-startup/', import.meta.url))
const packets = JSON.parse(readFileSync(`${dir}packets.json`, 'utf8')) as CapturedPacket[]
const T5 = 'titanic5.etri.re.kr'
const T6 = 'titanic6.etri.re.kr'

// lib/wire's decodePacket is written in parallel; packets.json has every field already decoded
function toMessage(p: CapturedPacket): HaMessage {
  return { fields: p.fields.map(([name, type, value]) => (type === 'binary' ? binaryField(name, Buffer.from(value, 'hex')) : stringField(name, value))) }
}
const src = (p: CapturedPacket): string => p.fields.find((f) => f[0] === 'src')?.[2] ?? ''
const field = (p: CapturedPacket, name: string): string => p.fields.find((f) => f[0] === name)?.[2] ?? ''

const t6Packets = packets.filter((p) => src(p) === T6)
const first6 = t6Packets[0]
if (!first6) throw new Error('fixture has no titanic6 packet')
const startMs = first6.t_rel_ms
const epochMsAtZero = first6.epoch_us / 1000 - first6.t_rel_ms
const LOADAVG = '2.86 2.79 1.90 3/160 25400'
const envAt = (now: number): MembershipEnv => ({ wallSec: Math.floor((epochMsAtZero + now) / 1000), loadavg: LOADAVG })

// The real titanic6 acked titanic5's seq 9 and its own seq 6, so its random ack triggers were 9 and 6
// (drawn in ha.cf node order); later draws (rexmit delays) are not used in this capture.
const draws = [0.95, 0.65]
const random = (): number => draws.shift() ?? 0.5

const core = new Membership({
  localNode: T6,
  nodes: [T5, T6],
  keepaliveMs: 2000, // ha.cf: keepalive 2
  deadtimeMs: 5000, // deadtime 5
  warntimeMs: 2500, // default deadtime/2
  initdeadMs: 12000, // default when deadtime < 6 s
  hopfudge: 1,
  maxRexmitDelayMs: 250,
  generation: Number.parseInt(field(first6, 'hg'), 16),
  uuid: Buffer.from(field(first6, 'srcuuid'), 'hex'),
  linkNames: ['eth0'],
  random,
})

const trace: Array<{ at: number; action: MembershipAction }> = []
/** Record actions; our broadcasts come back to us on eth0 as they did to the real node. */
function handle(at: number, actions: MembershipAction[]): void {
  for (const a of actions) trace.push({ at, action: a })
  for (const a of actions) if (a.type === 'transmit') handle(at, core.receive(a.msg, 'eth0', at, envAt(at)))
}
function advanceTo(target: number): void {
  for (let d = core.nextDeadline(); d !== undefined && d <= target; d = core.nextDeadline()) handle(d, core.tick(d, envAt(d)))
}

handle(startMs, core.start(startMs, envAt(startMs)))
const heard = packets.filter((p) => src(p) === T5 && p.t_rel_ms >= startMs)
for (const p of heard) {
  advanceTo(p.t_rel_ms)
  handle(p.t_rel_ms, core.receive(toMessage(p), 'eth0', p.t_rel_ms, envAt(p.t_rel_ms)))
}
const endMs = (packets[packets.length - 1]?.t_rel_ms ?? 0) + 100
advanceTo(endMs)

const sent = trace.filter((e): e is { at: number; action: Extract<MembershipAction, { type: 'transmit' }> } => e.action.type === 'transmit')
const comparable = (m: HaMessage): Array<[string, number, string]> =>
  m.fields.filter((f) => !['ts', 'ld', 'auth'].includes(f.name)).map((f) => [f.name, f.type, f.type === 1 ? f.value.toString('hex') : f.value.toString('latin1')])

t.test('what we send is what the real titanic6 sent: same messages, order, fields, radix', async (t) => {
  t.equal(sent.length, t6Packets.length, `the real node sent ${t6Packets.length} packets in the window`)
  t6Packets.forEach((real, i) => {
    const ours = sent[i]?.action.msg
    if (!ours) return
    t.same(comparable(ours), comparable(toMessage(real)), `packet ${real.n} (${field(real, 't')} seq ${field(real, 'seq') || '-'})`)
    t.equal(getString(ours, 'ts'), Math.floor(envAt(sent[i]?.at ?? 0).wallSec).toString(16), 'ts = hex wall-clock seconds')
    if (field(real, 'seq') !== '') t.equal(getString(ours, 'ld'), LOADAVG, 'ld = load average on sequenced messages')
    else t.notOk(ours.fields.some((f) => f.name === 'ld' || f.name === 'seq'), 'NS_* messages carry no seq and no ld')
  })
})

t.test('timer-driven statuses go out when the real node sent them', async (t) => {
  // every status but the one comm-up sends at once (the first `active`) comes from a timer
  const commUpStatus = t6Packets.find((p) => field(p, 't') === 'status' && field(p, 'st') === 'active')
  const timerDriven = t6Packets.filter((p) => field(p, 't') === 'status' && p !== commUpStatus)
  t.equal(timerDriven.length, 8, 'start (3), keepalive (4) and the dt pop (1)')
  for (const real of timerDriven) {
    const ours = sent.find((e) => getString(e.action.msg, 'seq') === field(real, 'seq'))
    t.ok(ours && Math.abs(ours.at - real.t_rel_ms) < 50, `seq ${field(real, 'seq')} (${field(real, 'st')}, dt ${field(real, 'dt')}): ours at ${ours?.at.toFixed(1)} ms, real at ${real.t_rel_ms} ms`)
  }
  const pop = sent.find((e) => getString(e.action.msg, 'dt') === '1388')
  t.ok(pop && Math.abs(pop.at - startMs - 5000) < 1, 'dt drops back to the plain deadtime 5 s after start')
})

t.test('it sees titanic5 up, then active, and logs what heartbeat logged', async (t) => {
  const statuses = trace.flatMap((e) => (e.action.type === 'node-status' ? [`${e.action.node}:${e.action.previous}->${e.action.status}`] : []))
  t.same(statuses, [`${T5}:init->up`, `${T5}:up->active`])
  t.ok(trace.some((e) => e.action.type === 'comm-up'), 'comm up (after repnodes)')
  const snap = core.snapshot()
  const five = snap.nodes.find((n) => n.name === T5)
  t.equal(five?.status, 'active')
  t.equal(five?.links[0]?.status, 'up')
  t.equal(five?.deadtimeMs, 5000, "titanic5's advertised dt (1388) is its dead timer")
  t.equal(snap.localStatus, 'active')
  t.equal(snap.counters.lostPackets, 0)
  t.equal(snap.counters.dropped.replay + snap.counters.dropped['unknown-node'] + snap.counters.dropped.malformed, 0)

  const membershipLine = /^(Local status now set to|Link |Status update for node|Comm_now_up|node .*: is dead|Late heartbeat|flow control)/
  const realLines = readFileSync(`${dir}logs/n2-ha-log.txt`, 'utf8')
    .split('\n')
    .flatMap((l) => {
      const m = /heartbeat: \[\d+\]: (?:info|WARN|ERROR|CRIT): (.*)$/.exec(l)
      return m?.[1] !== undefined && membershipLine.test(m[1]) ? [m[1]] : []
    })
  const ourLines = trace.flatMap((e) => (e.action.type === 'log' && membershipLine.test(e.action.text) ? [e.action.text] : []))
  t.same(ourLines, realLines, "the membership lines of titanic6's ha-log, in order")
})
