// The event history the core emits (run.ts journals it for `hbctl events`): a crash, the takeover
// with its cause, the failback, an hbctl standby, a reload and a shutdown, on virtual time.
import t from 'tap'
import { ClusterRm, T5, T6, VIP } from '../resources/cluster-rm-kit.js'
import type { HistoryEvent } from '../../lib/daemon/node-core.js'
import { formatStatus } from '../../lib/control/status-format.js'
import { statusFor, SCENARIOS } from '../control/status-fixtures.js'

const of = <K extends HistoryEvent['kind']>(c: ClusterRm, node: string, kind: K, since = 0): Array<Extract<HistoryEvent, { kind: K }>> =>
  c
    .node(node)
    .events.filter((e) => e.at >= since && e.event.kind === kind)
    .map((e) => e.event as Extract<HistoryEvent, { kind: K }>)

t.test('crash, takeover, failback, standby: each group change says why', async (t) => {
  const c = new ClusterRm({ mode: 'on', agentDelayMs: (_n, op) => (op === 'status' ? 20 : 100) })
  c.start(T5)
  c.runUntil(1500)
  c.start(T6)
  c.runUntil(30_000)
  t.same(c.owners(), [T5], 'titanic5 holds its group after start-up')
  const startUp = of(c, T5, 'group').find((e) => e.to === 'starting')
  t.equal(startUp?.cause, 'start-up', 'the first takeover is caused by the start-up')

  const crashAt = c.now
  c.crash(T5)
  c.runUntil(crashAt + 15_000)
  t.same(c.owners(), [T6], 'titanic6 took over')
  const dead = of(c, T6, 'node-dead', crashAt)
  t.equal(dead.length, 1, 'one death')
  t.equal(dead[0]?.node, T5)
  t.ok((dead[0]?.silentMs ?? 0) >= 5000, 'silent for at least the deadtime')
  t.same(
    dead[0]?.links.map((l) => l.link),
    ['eth0'],
    'on which links',
  )
  const takeover = of(c, T6, 'group', crashAt)
  t.match(takeover[0], { group: VIP, from: 'stopped', to: 'starting', cause: 'peer-dead' }, 'the takeover says the peer died')
  t.match(takeover[0]?.text, new RegExp(`${T5.replace(/\./g, '\\.')} dead`))
  t.match(takeover[1], { to: 'running', cause: 'peer-dead' }, 'its completion keeps the cause')
  t.match(c.snapshot(T6).groupCauses[VIP], /titanic5\.etri\.re\.kr dead/, 'hbctl status can show the cause')
  const starts = of(c, T6, 'agent', crashAt).filter((a) => a.op === 'start')
  t.ok(starts.length > 0 && starts.every((a) => a.ok && a.durationMs === 100 && a.exitCode === 0), 'agent runs with op, exit and duration')

  const backAt = c.now
  c.start(T5)
  t.ok(
    c.runUntilTrue(() => c.owners().join() === T5 && c.rm(T5).rscstatus !== 'transition' && c.rm(T6).rscstatus !== 'transition', backAt + 60_000),
    'auto_failback gives the group back',
  )
  t.match(of(c, T6, 'node-back', backAt)[0], { node: T5 }, 'titanic6 notes titanic5 back')
  const release = of(c, T6, 'group', backAt).find((e) => e.to === 'stopping')
  t.equal(release?.cause, 'auto_failback', 'the release is auto_failback')

  const standbyAt = c.now
  c.event(T5, { type: 'control', request: 'standby', arg: 'all' })
  t.ok(
    c.runUntilTrue(() => c.owners().join() === T6 && c.rm(T5).rscstatus !== 'transition' && c.rm(T6).rscstatus !== 'transition', standbyAt + 60_000),
    'hbctl standby hands the group over',
  )
  t.same(of(c, T5, 'request', standbyAt), [{ kind: 'request', request: 'standby', by: 'hbctl' }], 'titanic5 records who asked')
  t.match(of(c, T5, 'group', standbyAt).find((e) => e.to === 'stopping'), { cause: 'standby-request', text: /hbctl standby/ })
  t.ok(
    of(c, T6, 'request', standbyAt).some((r) => r.request === 'standby' && r.by === T5),
    'titanic6 records the standby request from titanic5',
  )
  t.equal(of(c, T6, 'group', standbyAt).find((e) => e.to === 'starting')?.cause, 'standby-request', 'and takes over for it')

  const reloadAt = c.now
  c.reload(T6)
  c.runUntil(reloadAt + 1000)
  t.match(of(c, T6, 'reload', reloadAt), [{ outcome: 'applied', text: 'Configuration unchanged.' }], 'reload outcome')

  const stopAt = c.now
  c.signal(T6, 'TERM')
  c.runUntil(stopAt + 30_000)
  t.match(of(c, T6, 'group', stopAt).find((e) => e.to === 'stopping'), { cause: 'shutdown' }, 'a shutdown releases for the shutdown')
  t.match(of(c, T6, 'shutdown', stopAt), [{ kind: 'shutdown' }], 'the exit is recorded')
  const counters = c.node(T6).core.coreCounters()
  t.equal(counters.nodeDeaths, 1)
  t.ok(counters.takeovers >= 2 && counters.releases >= 2, 'takeovers and releases counted')
})

t.test('hbctl status shows each group\'s cause under its row', async (t) => {
  const sc = SCENARIOS['afb-on-titanic5.txt']
  if (sc === undefined) throw new Error('fixture missing')
  const st = statusFor(sc)
  const g = st.groups[0]
  if (g === undefined || g.lastTransition === null) throw new Error('fixture without a transition')
  g.cause = 'titanic6.etri.re.kr dead'
  t.match(formatStatus(st, { color: false, width: 120, timeZone: 'UTC' }), /cause: titanic6\.etri\.re\.kr dead/)
})

t.test('STONITH resets are in the history: each attempt, its device and outcome, counted until one works', async (t) => {
  const stonith = { type: 'null', config: { kind: 'params' as const, params: `${T5} ${T6}` }, line: 12 }
  // the first reset fails, the second works (the kit's resets take 1 s)
  const c = new ClusterRm({ mode: 'on', stonith, stonithOutcome: (_n, _target, attempt) => (attempt < 2 ? 'bad' : 'ok') })
  c.start(T5)
  c.runUntil(1500)
  c.start(T6)
  c.runUntil(30_000)
  const crashAt = c.now
  c.crash(T5)
  t.ok(c.runUntilTrue(() => c.owners().join() === T6, crashAt + 60_000), 'titanic6 takes the VIP after the reset')
  const resets = of(c, T6, 'stonith', crashAt)
  t.same(
    resets.map((e) => [e.node, e.device, e.attempt, e.outcome]),
    [
      [T5, 'null', 1, 'started'],
      [T5, 'null', 1, 'bad'],
      [T5, 'null', 2, 'started'],
      [T5, 'null', 2, 'ok'],
    ],
    'two attempts of resetting titanic5 with null: the failed one and the one that worked',
  )
  t.equal(resets[3]?.durationMs, 1000, 'how long the reset took')
  t.same(of(c, T5, 'stonith'), [], 'titanic5 (dead) reset no one')
  const takeover = c.node(T6).events.find((e) => e.at >= crashAt && e.event.kind === 'group' && e.event.to === 'starting')
  const ok = c.node(T6).events.find((e) => e.event.kind === 'stonith' && e.event.outcome === 'ok')
  t.ok(takeover !== undefined && ok !== undefined && ok.at <= takeover.at, 'the reset is journaled before the takeover it allowed')
})
