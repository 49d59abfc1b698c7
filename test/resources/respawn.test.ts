// ha.cf respawn clients on virtual time (lib/resources/respawn.ts): what an admin sees of heartbeat
// 3.0.6's client children — started once communication is up, restarted when they exit, given up
// after too many short runs, stopped last-started first with SIGTERM and, past the bound, SIGKILL.

import t from 'tap'
import { RESPAWN_MAX_SHORT_RUNS, RESPAWN_SHORT_RUN_DELAY_MS, RESPAWN_SHORT_RUN_MS, RESPAWN_STOP_KILL_AFTER_MS, RespawnClients, type RespawnAction } from '../../lib/resources/respawn.js'

const A = { user: 'nobody', command: '/usr/local/bin/a --flag', line: 7 }
const B = { user: 'hacluster', command: '/usr/local/bin/b', line: 8 }

const spawns = (out: RespawnAction[]): number[] => out.flatMap((a) => (a.type === 'spawn' ? [a.index] : []))
const signals = (out: RespawnAction[]): string[] => out.flatMap((a) => (a.type === 'signal' ? [`${a.index}:${a.pid}:${a.signal}`] : []))
const logs = (out: RespawnAction[]): string[] => out.flatMap((a) => (a.type === 'log' ? [`${a.level}: ${a.text}`] : []))

t.test('started in ha.cf order once, a long-lived client that exits is restarted at once', async (t) => {
  const r = new RespawnClients([A, B])
  t.same(spawns(r.start(0)), [0, 1], 'both, in ha.cf order')
  t.same(spawns(r.start(5)), [], 'comm-up again (a second repnodes) starts nothing twice')
  r.started(0, 100, 10)
  r.started(1, 101, 10)
  const out = r.exited(0, { code: 3 }, 10 + RESPAWN_SHORT_RUN_MS + 1)
  t.same(logs(out).slice(0, 2), [`error: Client ${A.command} exited with return code 3.`, `error: Respawning client "${A.command}":`])
  t.same(spawns(out), [0], 'a run of 30 s or more: restarted at once')
  t.equal(r.nextDeadline(), undefined)
  t.equal(r.restartsOf(0), 1)
})

t.test('a client that keeps exiting at once: restarted after 1 s each time, given up after 10 short runs', async (t) => {
  const r = new RespawnClients([A])
  let now = 0
  r.start(now)
  let pid = 200
  let starts = 1
  r.started(0, pid, now)
  for (;;) {
    now += 50 // lives 50 ms
    const out = r.exited(0, { code: 1 }, now)
    if (spawns(out).length === 0 && r.nextDeadline() === undefined) {
      t.match(logs(out).join('\n'), /Client \/usr\/local\/bin\/a --flag "respawning too fast"/, 'the 3.0.6 words, at ERROR')
      break
    }
    t.same(spawns(out), [], 'not at once')
    t.equal(r.nextDeadline(), now + RESPAWN_SHORT_RUN_DELAY_MS, 'after a short run: 1 s later')
    now = r.nextDeadline() as number
    t.same(spawns(r.tick(now)), [0])
    starts++
    r.started(0, ++pid, now)
  }
  t.equal(starts, RESPAWN_MAX_SHORT_RUNS + 1, 'the first start and 10 restarts, then no more')
  t.same(r.runningPids(), [])
  t.same(spawns(r.tick(now + 3_600_000)), [], 'given up for the rest of this life')
})

t.test('one long run in between resets the count of short runs', async (t) => {
  const r = new RespawnClients([A])
  let now = 0
  r.start(now)
  r.started(0, 1, now)
  for (let i = 0; i < RESPAWN_MAX_SHORT_RUNS; i++) {
    now += 10
    r.exited(0, { code: 1 }, now)
    now = r.nextDeadline() as number
    r.tick(now)
    r.started(0, 2 + i, now)
  }
  now += RESPAWN_SHORT_RUN_MS
  t.same(spawns(r.exited(0, { code: 1 }, now)), [0], 'a 30 s run: restarted at once, the count starts over')
  r.started(0, 50, now)
  now += 10
  r.exited(0, { code: 1 }, now)
  t.equal(r.nextDeadline(), now + RESPAWN_SHORT_RUN_DELAY_MS, 'one short run after it: still restarted')
})

t.test('exit 100 is not restarted; a program that cannot be started is not retried', async (t) => {
  const r = new RespawnClients([A, B])
  r.start(0)
  r.started(0, 10, 0)
  const out = r.exited(0, { code: 100 }, 60_000)
  t.same(spawns(out), [])
  t.match(logs(out).join('\n'), /exited 100: not restarted/)
  const failed = r.spawnFailed(1, 'EACCES', 0)
  t.same(logs(failed), [`error: Cannot exec ${B.command}: EACCES`])
  t.equal(r.nextDeadline(), undefined)
})

t.test('killed by a signal: said so, and restarted', async (t) => {
  const r = new RespawnClients([A])
  r.start(0)
  r.started(0, 10, 0)
  const out = r.exited(0, { signal: 'SIGKILL' }, 40_000)
  t.match(logs(out)[0], /Client \/usr\/local\/bin\/a --flag \(pid=10\) killed by signal SIGKILL\./)
  t.same(spawns(out), [0])
})

t.test('stop: last started first, one at a time, SIGKILL past the bound, no restart meanwhile', async (t) => {
  const r = new RespawnClients([A, B])
  r.start(0)
  r.started(0, 10, 0)
  r.started(1, 11, 0)
  let out = r.stop(1000)
  t.same(signals(out), ['1:11:SIGTERM'], 'the last one first, alone')
  t.notOk(r.stopped)
  out = r.exited(0, { code: 1 }, 1100)
  t.same(spawns(out), [], 'a client that dies during the stop is not restarted')
  t.same(signals(out), [], 'and the one being stopped is still waited for')
  t.equal(r.nextDeadline(), 1000 + RESPAWN_STOP_KILL_AFTER_MS)
  out = r.tick(1000 + RESPAWN_STOP_KILL_AFTER_MS)
  t.same(signals(out), ['1:11:SIGKILL'], 'it ignored SIGTERM: SIGKILL at the bound')
  t.match(logs(out)[0], /still running 10 s after SIGTERM: SIGKILL/)
  r.exited(1, { signal: 'SIGKILL' }, 1000 + RESPAWN_STOP_KILL_AFTER_MS + 5)
  t.ok(r.stopped, 'all gone')
  t.equal(r.nextDeadline(), undefined)
})

t.test('stop while a restart waits, or a spawn is under way', async (t) => {
  const r = new RespawnClients([A, B])
  r.start(0)
  r.started(0, 10, 0)
  r.exited(0, { code: 1 }, 5) // waits 1 s
  let out = r.stop(100)
  t.same(signals(out), [], 'B is still being spawned: nothing to signal yet')
  t.equal(r.nextDeadline(), undefined, 'the waiting restart of A is dropped')
  out = r.started(1, 11, 120)
  t.same(signals(out), ['1:11:SIGTERM'], 'B is stopped as soon as it has a pid')
  r.exited(1, { signal: 'SIGTERM' }, 130)
  t.ok(r.stopped)
  t.same(spawns(r.tick(5000)), [], 'nothing starts after the stop')
  t.same(spawns(r.start(6000)), [])
})
