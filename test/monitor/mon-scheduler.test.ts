// mon scheduler and alert decisions, driven by a virtual clock (no sleeping).
import t from 'tap'
import { readFileSync } from 'node:fs'
import { parseMonCf } from '../../lib/config/mon-cf.js'
import type { WallTime } from '../../lib/config/time-period.js'
import { MonScheduler } from '../../lib/monitor/mon-scheduler.js'
import type { MonAction, MonitorResult, SchedulerOptions } from '../../lib/monitor/mon-scheduler.js'
import { buildMonState, parseMonState } from '../../lib/monitor/mon-state.js'

// 2024-01-01 was a Monday; wall time is computed in UTC so the test does not depend on TZ.
const MONDAY_0900 = Date.UTC(2024, 0, 1, 9, 0, 0)
const SATURDAY_0900 = Date.UTC(2024, 0, 6, 9, 0, 0)

function wallUtc(ms: number): WallTime {
  const d = new Date(ms)
  const yday = Math.floor((ms - Date.UTC(d.getUTCFullYear(), 0, 1)) / 86_400_000) + 1
  return {
    unixSec: Math.floor(ms / 1000),
    year: d.getUTCFullYear(),
    month: d.getUTCMonth() + 1,
    mday: d.getUTCDate(),
    wday: d.getUTCDay() + 1,
    yday,
    hour: d.getUTCHours(),
    minute: d.getUTCMinutes(),
    second: d.getUTCSeconds(),
  }
}

/** A scheduler plus a virtual clock; `at(ms)` moves the clock (relative to the wall base). */
function harness(text: string, opts: Partial<SchedulerOptions> = {}, wallBase = MONDAY_0900) {
  const parsed = parseMonCf(text, 'mon.cf')
  const errors = parsed.diagnostics.filter((d) => d.severity === 'error')
  if (errors.length > 0) throw new Error(`test config has errors: ${JSON.stringify(errors)}`)
  const sched = new MonScheduler(parsed.config, {
    maxprocs: parsed.config.globals.maxprocs,
    randstartMs: parsed.config.globals.randstartMs,
    random: () => 0,
    monitorTimeoutMs: 60_000,
    resolveMonitor: (n) => `/mon.d/${n}`,
    baseEnv: { MON_STATEDIR: '/state', MON_LOGDIR: '/log', MON_CFBASEDIR: '/etc/mon' },
    ...opts,
  })
  let now = 0
  const wall = () => wallUtc(wallBase + now)
  return {
    sched,
    get now() {
      return now
    },
    start: () => sched.start(now, wall()),
    tickAt(ms: number): MonAction[] {
      now = ms
      return sched.tick(now, wall())
    },
    finishAt(ms: number, runId: number, result: MonitorResult): MonAction[] {
      now = ms
      return sched.monitorFinished(runId, now, wall(), result)
    },
  }
}

const runs = (as: MonAction[]) => as.filter((a): a is Extract<MonAction, { type: 'run-monitor' }> => a.type === 'run-monitor')
const alerts = (as: MonAction[]) => as.filter((a): a is Extract<MonAction, { type: 'run-alert' }> => a.type === 'run-alert')
const fail = (output: string, exitCode = 1): MonitorResult => ({ kind: 'exited', exitCode, output })
const ok: MonitorResult = { kind: 'exited', exitCode: 0, output: '\nHOST x: ok\n' }

function oneWatch(service: string, periodLines = '', globals = ''): string {
  return `${globals}\nhostgroup web 10.0.0.1 10.0.0.2\n\nwatch web\n    service http\n${service}\n${periodLines}\n`
}

t.test('first run: one interval after start, or within randstart', async (t) => {
  const plain = harness(oneWatch('        interval 5s\n        monitor http.monitor'))
  plain.start()
  t.equal(plain.sched.nextDeadline(), 5000, 'without randstart the first run is one interval after start')
  t.same(runs(plain.tickAt(4999)), [], 'nothing runs before the interval')
  const r = runs(plain.tickAt(5000))
  t.equal(r.length, 1, 'runs at the interval')
  t.same(r[0]?.args, ['10.0.0.1', '10.0.0.2'], 'the hostgroup is appended to the monitor arguments')
  t.equal(r[0]?.path, '/mon.d/http.monitor')
  t.equal(r[0]?.env.MON_GROUP, 'web')
  t.equal(r[0]?.env.MON_SERVICE, 'http')

  const rand = harness(oneWatch('        interval 5s\n        monitor http.monitor', '', 'randstart = 30s'), { random: () => 0.999 })
  rand.start()
  t.equal(rand.sched.nextDeadline(), 29_000, 'randstart 30s: first run at floor(rand × 30) s, at most 29 s')
  const rand0 = harness(oneWatch('        interval 5s\n        monitor http.monitor', '', 'randstart = 30s'), { random: () => 0.5 })
  rand0.start()
  t.equal(rand0.sched.nextDeadline(), 15_000)
})

t.test('next run anchored at the previous start; no overlapping runs', async (t) => {
  const h = harness(oneWatch('        interval 5s\n        monitor http.monitor'))
  h.start()
  const first = runs(h.tickAt(5000))[0]
  t.ok(first)
  h.finishAt(6500, first!.runId, ok)
  t.equal(h.sched.nextDeadline(), 10_000, 'a 1.5 s run does not push the schedule: next = start + interval')
  const second = runs(h.tickAt(10_000))[0]
  t.ok(second)
  t.same(runs(h.tickAt(15_000)), [], 'still running at the next due time: no second copy starts')
  t.same(runs(h.tickAt(16_000)), [])
  h.finishAt(17_000, second!.runId, ok)
  t.equal(h.sched.nextDeadline(), 22_000, 'after an overrun the next run is a full interval after it ended')
  t.equal(runs(h.tickAt(22_000)).length, 1)
})

t.test('maxprocs limits concurrent monitors', async (t) => {
  const text = `maxprocs = 2\n\nhostgroup a 10.0.0.1\n\nhostgroup b 10.0.0.2\n\nhostgroup c 10.0.0.3\n\n` +
    ['a', 'b', 'c'].map((g) => `watch ${g}\n    service http\n        interval 5s\n        monitor http.monitor\n`).join('\n')
  const h = harness(text)
  h.start()
  const acts = h.tickAt(5000)
  const started = runs(acts)
  t.equal(started.length, 2, 'only maxprocs monitors start')
  t.ok(acts.some((a) => a.type === 'log' && a.message === 'throttled at 2 processes'), 'mon logs the throttle')
  t.equal(h.sched.nextDeadline(), 65_000, 'at capacity only the running monitors’ timeout bounds matter (no busy loop)')
  h.finishAt(5200, started[0]!.runId, ok)
  const third = runs(h.tickAt(5200))
  t.equal(third.length, 1, 'a freed slot starts the waiting service')
  t.same(third[0]?.args, ['10.0.0.3'])
})

const seed = readFileSync(new URL('../../ha.d-example/titanic5/mon/mon.cf', import.meta.url), 'utf8')

t.test("the seed's mon.cf: a down alert on every failing run, an upalert after recovery", async (t) => {
  const h = harness(seed, { random: () => 0 })
  h.start()
  t.equal(h.sched.nextDeadline(), 0, 'randstart 30s with rand 0: first runs at once')
  const started = runs(h.tickAt(0))
  t.equal(started.length, 3, 'three watches, three monitors (maxprocs 20)')
  const rn1 = started.find((r) => r.serviceId === 'realNode-1/http')!
  t.same(rn1.args, ['129.254.203.146'])

  const out1 = '129.254.203.146\nHOST 129.254.203.146: HTTP response code failure\n\n'
  const a1 = alerts(h.finishAt(1000, rn1.runId, fail(out1)))
  t.equal(a1.length, 1, 'first failure: one down alert')
  t.same(a1[0]?.args, ['-s', 'http', '-g', 'realNode-1', '-h', '129.254.203.146', '-t', String(Math.floor(MONDAY_0900 / 1000) + 1),
    '-P', 'tcp', '-V', '129.254.203.149:80', '-R', '129.254.203.146', '-W', '1', '-F', 'dr', '-X', 'down'], 'mon argv order, en-dash read as -R')
  t.equal(a1[0]?.stdin, out1, 'the alert reads the monitor output on stdin')
  t.equal(a1[0]?.env.MON_ALERTTYPE, 'failure')
  t.equal(a1[0]?.env.MON_RETVAL, '1')
  t.equal(a1[0]?.env.MON_OPSTATUS, '0')

  const again = runs(h.tickAt(5000)).find((r) => r.serviceId === 'realNode-1/http')!
  const a2 = alerts(h.finishAt(5500, again.runId, fail(out1)))
  t.equal(a2.length, 1, 'no alertevery/numalerts: the down alert repeats on every failing run, as mon does')

  const back = runs(h.tickAt(10_000)).find((r) => r.serviceId === 'realNode-1/http')!
  const up = alerts(h.finishAt(10_300, back.runId, ok))
  t.equal(up.length, 1, 'recovery after a sent down alert: one upalert')
  t.same(up[0]?.args.slice(6), ['-t', String(Math.floor(MONDAY_0900 / 1000) + 10), '-u', '-P', 'tcp', '-V', '129.254.203.149:80', '-R', '129.254.203.146', '-W', '1', '-F', 'dr'])
  t.equal(up[0]?.stdin, out1, 'the upalert reads the output of the last failing run (mon)')
  t.equal(up[0]?.env.MON_ALERTTYPE, 'up')
  t.equal(up[0]?.reassert, false)

  const st = h.sched.status().find((s) => s.id === 'realNode-1/http')!
  t.equal(st.status, 'ok')
  t.equal(st.lastCheckUnix, Math.floor(MONDAY_0900 / 1000) + 10)
})

t.test('a first success sends no upalert; the built-in lvs.alert is re-asserted instead', async (t) => {
  const plain = harness(seed)
  plain.start()
  const r = runs(plain.tickAt(0))
  t.same(alerts(plain.finishAt(100, r[0]!.runId, ok)), [], 'mon: no upalert for the first-ever success')

  const re = harness(seed, { reassertAlert: (n) => n === 'lvs.alert' })
  re.start()
  const r2 = runs(re.tickAt(0))
  const a = alerts(re.finishAt(100, r2[0]!.runId, ok))
  t.equal(a.length, 1, 'heartbeat-ts replays the lvs.alert upalert once on the first success')
  t.equal(a[0]?.reassert, true)
  t.ok(a[0]?.args.includes('-u'))
  const again = runs(re.tickAt(5000)).find((x) => x.serviceId === r2[0]!.serviceId)!
  t.same(alerts(re.finishAt(5100, again.runId, ok)), [], 'only the first success re-asserts')
})

t.test('every up and down is logged, ahead of the alert it causes; a steady state is not repeated', async (t) => {
  const p = periodHarness('')
  const cycle = (result: MonitorResult): MonAction[] => {
    const r = runs(p.h.tickAt(p.h.now + 10_000))[0]
    if (!r) throw new Error('no run')
    return p.h.finishAt(p.h.now + 100, r.runId, result)
  }
  const said = (acts: MonAction[]) => acts.flatMap((a) => (a.type === 'log' ? [`${a.level} ${a.message}`] : a.type === 'run-alert' ? [`alert ${a.kind}`] : []))
  t.same(said(cycle(ok)), ['info web/http: up: 10.0.0.1 10.0.0.2 (first check)'])
  t.same(said(cycle(ok)), [], 'still up: nothing logged')
  t.same(said(cycle(fail('10.0.0.2\nconnect refused\n'))), ['warning web/http: down: 10.0.0.2 (exit 1: 10.0.0.2)', 'alert failure'])
  t.same(said(cycle(fail('10.0.0.2\nconnect refused\n'))), ['alert failure'], 'still down: the alert repeats, the down line does not')
  t.same(said(cycle(fail('10.0.0.1 10.0.0.2\n'))), ['warning web/http: down: 10.0.0.1 10.0.0.2 (exit 1: 10.0.0.1 10.0.0.2)', 'alert failure'], 'another host fails: logged')
  t.same(said(cycle(ok)), ['info web/http: up: 10.0.0.1 10.0.0.2 (again)', 'alert up'])
})

function periodHarness(periodExtra: string, opts: Partial<SchedulerOptions> = {}) {
  const h = harness(oneWatch('        interval 10s\n        monitor http.monitor',
    `        period wd {Sun-Sat}\n${periodExtra}\n            alert mail.alert ops\n            upalert mail.alert ops`), opts)
  h.start()
  let t0 = 10_000
  return {
    h,
    /** one monitor cycle at the next interval; returns the alerts it produced */
    cycle(result: MonitorResult): MonAction[] {
      const r = runs(h.tickAt(t0))[0]
      if (!r) throw new Error(`no run at ${t0}`)
      const acts = alerts(h.finishAt(t0 + 100, r.runId, result))
      t0 += 10_000
      return acts
    },
  }
}

t.test('alertafter N: only from the Nth consecutive failure', async (t) => {
  const p = periodHarness('            alertafter 3')
  const counts = [1, 2, 3, 4].map(() => p.cycle(fail('10.0.0.1\n')).length)
  t.same(counts, [0, 0, 1, 1], 'failures 1 and 2 are quiet; the 3rd and later alert')
  t.equal(p.cycle(ok).length, 1, 'upalert after the sent down alerts')
  t.same([1, 2].map(() => p.cycle(fail('10.0.0.1\n')).length), [0, 0], 'the count restarts after a success')
  t.same(p.cycle(ok), [], 'no upalert: no down alert was sent in this episode')
})

t.test('no_comp_alerts: upalert even without a down alert', async (t) => {
  const p = periodHarness('            alertafter 3\n            no_comp_alerts')
  p.cycle(fail('10.0.0.1\n'))
  t.equal(p.cycle(ok).length, 1)
})

t.test('alertevery: repeats suppressed while the summary is unchanged', async (t) => {
  const p = periodHarness('            alertevery 30s')
  const seen = [
    p.cycle(fail('10.0.0.1\n')).length, // t=10 alert
    p.cycle(fail('10.0.0.1\n')).length, // t=20 same summary, 10 s later: suppressed
    p.cycle(fail('10.0.0.1 10.0.0.2\n')).length, // t=30 summary changed: alert
    p.cycle(fail('10.0.0.1 10.0.0.2\n')).length, // t=40 suppressed
    p.cycle(fail('10.0.0.1 10.0.0.2\n')).length, // t=50 suppressed (20 s)
    p.cycle(fail('10.0.0.1 10.0.0.2\n')).length, // t=60 30 s since the last alert: alert
  ]
  t.same(seen, [1, 0, 1, 0, 0, 1])
})

t.test('alertevery strict ignores the summary', async (t) => {
  const p = periodHarness('            alertevery 30s strict')
  t.same([p.cycle(fail('a\n')), p.cycle(fail('b\n')), p.cycle(fail('c\n')), p.cycle(fail('d\n'))].map((x) => x.length), [1, 0, 0, 1])
})

t.test('numalerts caps the down alerts of one episode', async (t) => {
  const p = periodHarness('            numalerts 2')
  t.same([1, 2, 3, 4].map(() => p.cycle(fail('10.0.0.1\n')).length), [1, 1, 0, 0])
  t.equal(p.cycle(ok).length, 1)
  t.equal(p.cycle(fail('10.0.0.1\n')).length, 1, 'a new episode may alert again')
})

t.test('alertafter N timeval: N failures within the window', async (t) => {
  const p = periodHarness('            alertafter 2 15s')
  // failures every 10 s: the 2nd failure falls within 15 s of the 1st
  t.same([1, 2, 3, 4].map(() => p.cycle(fail('x\n')).length), [0, 1, 0, 1])
})

t.test('alertafter timeval: only once failing for that long', async (t) => {
  const p = periodHarness('            alertafter 25s')
  // failures end at 10.1, 20.1, 30.1, 40.1, 50.1 s: failing for 0, 10, 20, 30, 40 s
  t.same([1, 2, 3, 4, 5].map(() => p.cycle(fail('x\n')).length), [0, 0, 0, 1, 1], 'alerts once the episode is 25 s old')
})

t.test('exit ranges filter alerts', async (t) => {
  const h = harness(oneWatch('        interval 10s\n        monitor m',
    '        period wd {Sun-Sat}\n            alert exit=2-3 a.alert\n            alert b.alert'))
  h.start()
  const r = runs(h.tickAt(10_000))[0]!
  t.same(alerts(h.finishAt(10_100, r.runId, fail('x\n', 1))).map((a) => a.name), ['b.alert'])
  const r2 = runs(h.tickAt(20_000))[0]!
  t.same(alerts(h.finishAt(20_100, r2.runId, fail('x\n', 2))).map((a) => a.name), ['a.alert', 'b.alert'])
})

t.test('periods are evaluated against the wall clock passed in', async (t) => {
  const text = oneWatch('        interval 10s\n        monitor m',
    '        period wd {Mon-Fri} hr {9am-4pm}\n            alert office.alert\n        period wd {Sat-Sun}\n            alert weekend.alert')
  const weekday = harness(text, {}, MONDAY_0900)
  weekday.start()
  const r = runs(weekday.tickAt(10_000))[0]!
  t.same(alerts(weekday.finishAt(10_100, r.runId, fail('x\n'))).map((a) => a.name), ['office.alert'], 'Monday 09:00')
  const weekend = harness(text, {}, SATURDAY_0900)
  weekend.start()
  const r2 = runs(weekend.tickAt(10_000))[0]!
  t.same(alerts(weekend.finishAt(10_100, r2.runId, fail('x\n'))).map((a) => a.name), ['weekend.alert'], 'Saturday 09:00')
  const evening = harness(text, {}, MONDAY_0900 + 8 * 3_600_000)
  evening.start()
  const r3 = runs(evening.tickAt(10_000))[0]!
  t.same(alerts(evening.finishAt(10_100, r3.runId, fail('x\n'))), [], 'Monday 17:00 matches neither period')
})

t.test('a hanging monitor is killed at the bound and counts as a failure of every host', async (t) => {
  const h = harness(oneWatch('        interval 5s\n        monitor m', '        period wd {Sun-Sat}\n            alert a.alert'), { monitorTimeoutMs: 20_000 })
  h.start()
  const r = runs(h.tickAt(5000))[0]!
  t.equal(h.sched.nextDeadline(), 25_000, 'the next deadline is the monitor’s bound')
  t.same(h.tickAt(24_999).filter((a) => a.type === 'kill-monitor'), [])
  const kill = h.tickAt(25_000).filter((a) => a.type === 'kill-monitor')
  t.equal(kill.length, 1, 'killed at start + bound')
  t.same(h.tickAt(26_000).filter((a) => a.type === 'kill-monitor'), [], 'asked once')
  const acts = h.finishAt(26_000, r.runId, { kind: 'signalled', signal: 'SIGTERM', output: '' })
  const a = alerts(acts)
  t.equal(a.length, 1, 'the timed-out run is a failure and alerts')
  t.match(a[0]?.stdin, /^10\.0\.0\.1 10\.0\.0\.2\nmonitor m timed out after 20s/, 'summary names every host')
  t.same(h.sched.status()[0]?.failingHosts, ['10.0.0.1', '10.0.0.2'])
})

t.test('a monitor killed by a signal (not by us) counts as a success, as mon counts it', async (t) => {
  const h = harness(oneWatch('        interval 5s\n        monitor m', '        period wd {Sun-Sat}\n            alert a.alert\n            upalert a.alert'))
  h.start()
  const r = runs(h.tickAt(5000))[0]!
  t.equal(alerts(h.finishAt(5100, r.runId, fail('10.0.0.1\n'))).length, 1)
  const r2 = runs(h.tickAt(10_000))[0]!
  const acts = h.finishAt(10_100, r2.runId, { kind: 'signalled', signal: 'SIGKILL', output: '' })
  t.same(alerts(acts).map((a) => a.kind), ['up'], 'exit status >> 8 is 0: mon treats it as ok, so the upalert fires')
  t.ok(acts.some((a) => a.type === 'log' && /killed by SIGKILL; counted as a success/.test(a.message)), 'and says so in the log')
  t.equal(h.sched.status()[0]?.status, 'ok')
})

t.test('a monitor that cannot be started is a failure; a missing monitor never runs', async (t) => {
  const h = harness(oneWatch('        interval 5s\n        monitor m', '        period wd {Sun-Sat}\n            alert a.alert'))
  h.start()
  const r = runs(h.tickAt(5000))[0]!
  t.equal(alerts(h.finishAt(5001, r.runId, { kind: 'spawn-failed', message: 'EACCES' })).length, 1)
  const missing = harness(oneWatch('        interval 5s\n        monitor nosuch.monitor'), { resolveMonitor: () => undefined })
  const acts = missing.start()
  t.ok(acts.some((a) => a.type === 'log' && a.message.startsWith('no monitor found while trying to run [nosuch.monitor]')))
  t.equal(missing.sched.nextDeadline(), undefined)
  t.same(runs(missing.tickAt(100_000)), [])
})

t.test('startup alerts, exclude_hosts, ;; and service environment', async (t) => {
  const h = harness(oneWatch('        interval 5s\n        monitor m -x ;;\n        exclude_hosts 10.0.0.2\n        DEBUG=1\n        description web tier',
    '        period wd {Sun-Sat}\n            startupalert boot.alert hello'))
  const st = alerts(h.start())
  t.same(st.map((a) => [a.name, a.kind, a.args.at(-1)]), [['boot.alert', 'startup', 'hello']])
  const r = runs(h.tickAt(5000))[0]!
  t.same(r.args, ['-x'], ';; : no hosts appended')
  t.equal(r.env.DEBUG, '1')
  t.equal(r.env.MON_DESCRIPTION, 'web tier')
  t.same(h.sched.status()[0]?.hosts, ['10.0.0.1'], 'exclude_hosts removes the host')
})

t.test('exclude_period skips runs inside it', async (t) => {
  const h = harness(oneWatch('        interval 5s\n        monitor m\n        exclude_period wd {Mon}'))
  h.start()
  t.same(runs(h.tickAt(5000)), [], 'Monday is excluded')
  t.equal(h.sched.nextDeadline(), 10_000, 'rescheduled one interval later')
})

t.test('state file content: each real server’s state and last check', async (t) => {
  const text = 'hostgroup a 10.0.0.1 10.0.0.2\n\nhostgroup b 10.0.0.3\n\n' +
    'watch a\n    service http\n        interval 5s\n        monitor m\n\nwatch b\n    service http\n        interval 5s\n        monitor m\n'
  const h = harness(text)
  h.start()
  const before = buildMonState(h.sched.status(), { pid: 42, monCf: '/etc/mon/mon.cf', startedAtSec: 1_700_000_000, nowSec: 1_700_000_001, stopped: false })
  t.same(before.realServers.map((r) => [r.host, r.state]), [['10.0.0.1', 'unknown'], ['10.0.0.2', 'unknown'], ['10.0.0.3', 'unknown']], 'unknown before the first check')
  const [ra, rb] = runs(h.tickAt(5000))
  h.finishAt(5100, ra!.runId, fail('10.0.0.2\nHOST 10.0.0.2: down\n'))
  h.finishAt(5200, rb!.runId, ok)
  const st = buildMonState(h.sched.status(), { pid: 42, monCf: '/etc/mon/mon.cf', startedAtSec: 1_700_000_000, nowSec: 1_700_000_010, stopped: false })
  t.same(st.realServers.map((r) => [r.host, r.state]), [['10.0.0.1', 'up'], ['10.0.0.2', 'down'], ['10.0.0.3', 'up']], 'only the host named in the summary is down')
  t.equal(st.realServers[1]?.lastCheck, new Date((Math.floor(MONDAY_0900 / 1000) + 5) * 1000).toISOString())
  t.equal(st.services[0]?.summary, '10.0.0.2')
  t.equal(st.services[0]?.consecutiveFailures, 1)
  const back = parseMonState(JSON.stringify(st))
  t.ok(back.ok, 'round-trips through parseMonState')
  t.same(parseMonState('{'), { ok: false, reason: 'not JSON: ' + (() => { try { JSON.parse('{') } catch (e) { return (e as Error).message } return '' })() })
  t.same(parseMonState('{"version":2}'), { ok: false, reason: 'unknown version 2' })
  t.same(parseMonState('{"version":1,"pid":1,"services":[],"realServers":[{"host":"x","state":"sideways"}]}'),
    { ok: false, reason: 'bad real server entry {"host":"x","state":"sideways"}' })
})
