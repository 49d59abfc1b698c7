// The job runner: nothing before comm-up, one operation at a time, forked children ahead of queued
// notifications, pauses on virtual time, and stray agent answers ignored.
import t from 'tap'
import { JobRunner } from '../../lib/resources/job-runner.js'
import type { JobGen, GroupState, StepResult } from '../../lib/resources/group-ops.js'
import type { RmAction } from '../../lib/resources/rm-types.js'
import { seedGroups } from './rm-kit.js'

function kit(): { runner: JobRunner; out: RmAction[]; logs: string[]; done: string[]; clock: { now: number; up: boolean; shuttingDown: boolean } } {
  const out: RmAction[] = []
  const logs: string[] = []
  const done: string[] = []
  const clock = { now: 0, up: true, shuttingDown: false }
  const runner = new JobRunner({
    now: () => clock.now,
    mayRun: () => clock.up,
    emit: (a) => out.push(a),
    log: (_level, text) => logs.push(text),
    finished: (job) => done.push(job.name),
    mayYield: () => !clock.shuttingDown,
  })
  return { runner, out, logs, done, clock }
}

const group: GroupState = { def: seedGroups()[0] as GroupState['def'], local: true, state: 'stopped', held: false, last: null, addressFirst: false }

function* statusJob(trace: string[], name: string): JobGen<void> {
  trace.push(`${name} begins`)
  const r: StepResult = yield { kind: 'agent', group, index: 0, op: 'status' }
  trace.push(`${name} got running=${r.running}`)
}

const agentIds = (out: RmAction[]): number[] => out.flatMap((a) => (a.type === 'run-agent' ? [a.id] : []))

t.test('jobs wait for comm-up, then run one at a time in order', async (t) => {
  const { runner, out, done, clock } = kit()
  const trace: string[] = []
  clock.up = false
  runner.enqueue('status', 'notify', statusJob(trace, 'notify'))
  runner.enqueue('req_our_resources', 'child', statusJob(trace, 'child'))
  t.same(trace, [], 'nothing runs before comm-up')
  t.ok(runner.busy(), 'but the runner is busy')
  clock.up = true
  runner.pump()
  t.same(trace, ['child begins'], 'the forked child goes ahead of the queued notification')
  t.same(agentIds(out), [1], 'one agent call at a time')
  runner.agentResult(1, { ok: true, running: true })
  t.same(trace, ['child begins', 'child got running=true', 'notify begins'], 'the next job starts when the first ends')
  t.same(done, ['req_our_resources'], 'the finished job is reported by name')
  runner.agentResult(2, { ok: true, running: false })
  t.same(done, ['req_our_resources', 'status'], 'both finished')
  t.notOk(runner.busy(), 'idle')
})

t.test('an answer for another call is ignored', async (t) => {
  const { runner, logs } = kit()
  const trace: string[] = []
  runner.enqueue('status', 'notify', statusJob(trace, 'job'))
  runner.agentResult(7, { ok: true, running: true })
  t.same(trace, ['job begins'], 'the job still waits')
  t.match(logs.join('\n'), /agent result 7 matches no running operation; ignored/, 'and the stray answer is logged')
})

t.test('a pause resumes the job at its deadline', async (t) => {
  const { runner, done, clock } = kit()
  function* pausing(): JobGen<void> {
    yield { kind: 'wait', ms: 1000 }
  }
  clock.now = 500
  runner.enqueue('stop-retry', 'child', pausing())
  t.equal(runner.nextDeadline(), 1500, 'deadline at now + pause')
  runner.tick(1499)
  t.same(done, [], 'not before')
  runner.tick(1500)
  t.same(done, ['stop-retry'], 'resumed and finished at the deadline')
  t.equal(runner.nextDeadline(), undefined, 'no deadline left')
})

t.test('a job enqueued by a finishing job runs next', async (t) => {
  const trace: string[] = []
  const k = kit()
  const runner = new JobRunner({
    now: () => 0,
    mayRun: () => true,
    emit: (a) => k.out.push(a),
    log: () => undefined,
    mayYield: () => true,
    finished: (job) => {
      trace.push(`${job.name} finished`)
      if (job.name === 'first') runner.enqueue('second', 'child', statusJob(trace, 'second'))
    },
  })
  function* quick(): JobGen<void> {
    yield* []
  }
  runner.enqueue('first', 'child', quick())
  t.same(trace, ['first finished', 'second begins'], 'the second job started from inside the first one ending')
})

t.test('a call that yields is cancelled once when a group start queues behind it; other work and ordinary calls never cancel', async (t) => {
  const { runner, out } = kit()
  const trace: string[] = []
  function* tail(): JobGen<void> {
    const r: StepResult = yield { kind: 'agent', group, index: 0, op: 'stop', yields: true }
    trace.push(`tail got ok=${r.ok}`)
  }
  runner.enqueue('go_standby', 'child', tail())
  const cancels = (): number[] => out.flatMap((a) => (a.type === 'cancel-agent' ? [a.id] : []))
  t.same(cancels(), [], 'nothing to cancel while nothing waits')
  runner.enqueue('hb_takeover', 'notify', statusJob(trace, 'message only'))
  t.same(cancels(), [], 'work that starts no group (a message, a release) does not cut the tail short')
  t.notOk(runner.groupStartWaiting(), 'and does not count as a group start waiting')
  runner.enqueue('status', 'notify', statusJob(trace, 'takeover'), { startsGroups: true })
  t.same(cancels(), [1], 'the tail call is cancelled when a takeover queues behind it')
  t.ok(runner.groupStartWaiting(), 'a group start waits')
  runner.enqueue('req_our_resources', 'child', statusJob(trace, 'acquire'), { startsGroups: true })
  t.same(cancels(), [1], 'once')
  runner.agentResult(1, { ok: false, running: true })
  t.same(trace, ['tail got ok=false', 'acquire begins'], 'the cancelled call answers as failed; the queued work runs')
  runner.enqueue('status', 'notify', statusJob(trace, 'another'), { startsGroups: true })
  t.same(cancels(), [1], 'an ordinary call (a status) is never cancelled')

  const second = kit()
  second.runner.enqueue('status', 'notify', statusJob(trace, 'first'))
  function* lateTail(): JobGen<void> {
    yield { kind: 'agent', group, index: 0, op: 'stop', yields: true }
  }
  second.runner.enqueue('go_standby', 'child', lateTail())
  second.runner.enqueue('status', 'notify', statusJob(trace, 'behind'), { startsGroups: true })
  second.runner.agentResult(1, { ok: true, running: true })
  t.same(second.out.filter((a) => a.type === 'cancel-agent'), [{ type: 'cancel-agent', id: 2 }], 'a yielding call that starts with a group start already queued is cancelled at once')

  const third = kit()
  third.clock.shuttingDown = true
  third.runner.enqueue('hb_giveup_resources', 'child', tail())
  third.runner.enqueue('status', 'notify', statusJob(trace, 'takeover'), { startsGroups: true })
  t.same(third.out.filter((a) => a.type === 'cancel-agent'), [], 'during a shutdown nothing is cancelled: no group starts then')
  t.notOk(third.runner.groupStartWaiting(), 'and the tail is not cut short')
})
