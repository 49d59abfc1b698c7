// ha.cf realtime on: the daemon runs SCHED_RR on every thread as 3.0.6 does, and what it starts (agents,
// scripts) runs at normal priority. Needs root (CAP_SYS_NICE); skips with the reason otherwise.

import t from 'tap'
import { execa } from 'execa'
import { raiseSchedulingPriority, REALTIME_PRIORITY } from '../../lib/io/realtime.js'

const isRoot = process.getuid?.() === 0

/** Policy and priority of every thread of `pid`, from ps. */
async function threads(pid: number): Promise<string[]> {
  const r = await execa('ps', ['-L', '-o', 'cls=,rtprio=', '-p', String(pid)], { reject: false, timeout: 5000 })
  return String(r.stdout).split('\n').map((l) => l.trim().replace(/\s+/g, ' ')).filter((l) => l !== '')
}

t.test('a process is put on SCHED_RR, all its threads, and what it forks is not', { skip: isRoot ? false : 'needs root for SCHED_RR' }, async (t) => {
  // A Node process (several threads) that, on a line from us, starts a child which prints its own policy.
  const body = "process.stdout.write('ready\\n'); process.stdin.once('data', () => require('child_process').exec('ps -o cls= -p $$', (e, out) => { process.stdout.write('child ' + out.trim() + '\\n'); process.exit(0) }))"
  const child = execa(process.execPath, ['-e', body], { reject: false, timeout: 20_000 })
  t.teardown(() => void child.kill('SIGKILL'))
  await new Promise((r) => child.stdout?.once('data', r))
  const pid = child.pid ?? 0
  const outcome = await raiseSchedulingPriority(pid)
  t.same(outcome, { kind: 'rr', priority: REALTIME_PRIORITY })
  const all = await threads(pid)
  t.ok(all.length > 1, `several threads (${all.length})`)
  t.same([...new Set(all)], [`RR ${REALTIME_PRIORITY}`], 'every thread SCHED_RR')
  child.stdin?.write('go\n')
  const r = await child
  t.match(String(r.stdout), /^child TS$/m, 'its child runs SCHED_OTHER')
})

t.test('without chrt nothing is raised for another process, and the reason is given', async (t) => {
  const outcome = await raiseSchedulingPriority(process.pid + 1_000_000, '/nonexistent/chrt')
  t.equal(outcome.kind, 'none')
  t.match(outcome.kind === 'none' ? outcome.why : '', /nonexistent\/chrt/)
})
