// Which heartbeat runs: the detector on a fake /proc tree, one story per thing a node can show
// (the C daemon under its Debian paths, ours, a stale or reused pid, someone else's process).

import t, { type Test } from 'tap'
import { chmod, mkdir, mkdtemp, rm, symlink, utimes, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describeCHeartbeat, isCHeartbeatExe, runningDaemon } from '../../lib/io/running-daemon.js'

const NOW_S = Math.floor(Date.now() / 1000)
/** Booted 1000 s ago; a process started at tick T started T/100 s after boot. */
const BTIME_S = NOW_S - 1000

interface FakeProcess {
  pid: number
  argv: string[]
  /** The /proc/PID/exe link's target; none: unreadable (not root). */
  exe?: string
  startTicks?: number
  state?: string
}

async function fakeNode(t: Test, procs: FakeProcess[], pidText?: string): Promise<{ pidFile: string; procRoot: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'hbts-running-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  const procRoot = join(dir, 'proc')
  await mkdir(procRoot)
  await writeFile(join(procRoot, 'stat'), `cpu  1 2 3 4\nbtime ${BTIME_S}\nprocesses 100\n`)
  for (const p of procs) {
    const d = join(procRoot, String(p.pid))
    await mkdir(d)
    const comm = (p.argv[0] ?? '').split('/').pop()?.slice(0, 15) ?? ''
    await writeFile(join(d, 'stat'), `${p.pid} (${comm}) ${p.state ?? 'S'} 1 ${p.pid} ${p.pid} 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 ${p.startTicks ?? 500} 0 0\n`)
    await writeFile(join(d, 'cmdline'), p.argv.map((a) => `${a}\0`).join(''))
    if (p.exe !== undefined) await symlink(p.exe, join(d, 'exe'))
  }
  const pidFile = join(dir, 'heartbeat.pid')
  if (pidText !== undefined) await writeFile(pidFile, pidText, { mode: 0o644 })
  return { pidFile, procRoot }
}

const C_DAEMON = (exe: string): FakeProcess => ({ pid: 812, argv: ['heartbeat: master control process'], exe })
const TS_DAEMON: FakeProcess = { pid: 900, argv: ['/usr/bin/node', '--max-semi-space-size=1', '/usr/local/lib/node_modules/heartbeat-ts/dist/lib/cli/heartbeat.js', '-f'], exe: '/usr/bin/node', startTicks: 1234 }

t.test('the C heartbeat under each layout is told by its executable', async (t) => {
  for (const exe of ['/usr/lib/heartbeat/heartbeat', '/usr/libexec/heartbeat/heartbeat', '/usr/lib64/heartbeat/heartbeat']) {
    const n = await fakeNode(t, [C_DAEMON(exe)], '812\n')
    t.same(await runningDaemon(n), { kind: 'c-heartbeat', pid: 812, exe }, exe)
  }
  const upgraded = await fakeNode(t, [C_DAEMON('/usr/libexec/heartbeat/heartbeat (deleted)')], '812\n')
  t.same(await runningDaemon(upgraded), { kind: 'c-heartbeat', pid: 812, exe: '/usr/libexec/heartbeat/heartbeat' }, 'its binary replaced by an upgrade')
  const notRetitled = await fakeNode(t, [{ pid: 812, argv: ['/usr/lib/heartbeat/heartbeat'], exe: '/usr/lib/heartbeat/heartbeat' }], '812\n')
  t.equal((await runningDaemon(notRetitled)).kind, 'c-heartbeat', 'its own path as the command line (not heartbeat-ts, though argv[0] is "heartbeat")')
  const noExe = await fakeNode(t, [{ pid: 812, argv: ['heartbeat: master control process'] }], '812\n')
  t.same(await runningDaemon(noExe), { kind: 'c-heartbeat', pid: 812, exe: undefined }, 'exe unreadable (not root): its process title tells')
  t.equal(describeCHeartbeat({ pid: 812, exe: '/usr/libexec/heartbeat/heartbeat' }), 'the C heartbeat (pid 812, /usr/libexec/heartbeat/heartbeat)')
  t.equal(describeCHeartbeat({ pid: 812, exe: undefined }), 'the C heartbeat (pid 812)')
})

t.test('heartbeat-ts: node running heartbeat.js, the start time the pidfile records', async (t) => {
  const n = await fakeNode(t, [TS_DAEMON], '900\nstart_ticks 1234\n')
  t.same(await runningDaemon(n), { kind: 'heartbeat-ts', pid: 900 })
  const handWritten = await fakeNode(t, [TS_DAEMON], '900\n')
  t.same(await runningDaemon(handWritten), { kind: 'heartbeat-ts', pid: 900 }, 'a pidfile without start_ticks (3.0.6 format)')
  t.notOk(isCHeartbeatExe('/usr/bin/node'))
  t.notOk(isCHeartbeatExe('/usr/local/bin/heartbeat'), 'our npm bin link is not the C daemon')
})

t.test('none: no pidfile, a stale one, a reused pid, another program', async (t) => {
  const missing = await fakeNode(t, [C_DAEMON('/usr/lib/heartbeat/heartbeat')])
  const m = await runningDaemon(missing)
  t.equal(m.kind, 'none')
  t.match(m, { reason: /^no .*heartbeat\.pid$/ })

  const stale = await runningDaemon(await fakeNode(t, [], '812\n'))
  t.match(stale, { kind: 'none', reason: /812.*gone/ })

  const zombie = await runningDaemon(await fakeNode(t, [{ ...C_DAEMON('/usr/lib/heartbeat/heartbeat'), state: 'Z' }], '812\n'))
  t.match(zombie, { kind: 'none', reason: /exited/ })

  const reusedTs = await runningDaemon(await fakeNode(t, [{ ...TS_DAEMON, startTicks: 99999 }], '900\nstart_ticks 1234\n'))
  t.match(reusedTs, { kind: 'none', reason: /pid reused/ }, 'our start time differs')

  // The C pidfile has no start time: a process that started after the file was written is another one.
  const later = await fakeNode(t, [{ ...C_DAEMON('/usr/lib/heartbeat/heartbeat'), startTicks: 2000 * 100 }], '812\n')
  t.match(await runningDaemon(later), { kind: 'none', reason: /pid reused/ })
  const old = await fakeNode(t, [{ ...C_DAEMON('/usr/lib/heartbeat/heartbeat'), startTicks: 100 }], '812\n')
  await utimes(old.pidFile, NOW_S - 10, NOW_S - 10)
  t.equal((await runningDaemon(old)).kind, 'c-heartbeat', 'started before the file was written')

  const sleeper = await runningDaemon(await fakeNode(t, [{ pid: 812, argv: ['sleep', '60'], exe: '/usr/bin/sleep' }], '812\n'))
  t.match(sleeper, { kind: 'none', reason: /not heartbeat.*sleep 60/ })

  const garbage = await runningDaemon(await fakeNode(t, [], 'hello\n'))
  t.match(garbage, { kind: 'none', reason: /holds no pid/ })
})

t.test('a pidfile others could have written is not believed', async (t) => {
  const n = await fakeNode(t, [C_DAEMON('/usr/lib/heartbeat/heartbeat')], '812\n')
  await chmod(n.pidFile, 0o666)
  t.match(await runningDaemon(n), { kind: 'none', reason: /writable by group or others/ })
})
