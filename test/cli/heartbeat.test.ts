// The heartbeat command: every init verb and daemon flag in the running, stopped and stale-pidfile states.

import t from 'tap'
import { readFile, writeFile, access } from 'node:fs/promises'
import { execa } from 'execa'
import { hostname } from 'node:os'
import { join } from 'node:path'
import { parsePidText } from '../../lib/io/daemon-state.js'
import {
  haParameter,
  haTimeMs,
  isInitVerb,
  reloadAnswer,
  restartWaitMs,
  standbyCheck,
  startAnswer,
  statusAnswer,
  stopAnswer,
  usageAnswer,
  notConfiguredAnswer,
} from '../../lib/cli/init-verbs.js'
import { HBTS_VERSION } from '../../lib/control/version.js'
import { HEARTBEAT_JS, REPO, makeNode, removeNode, requireBuilt, run } from './heartbeat-kit.js'
import type { Node } from './heartbeat-kit.js'

const host = { uname: 'Titanic5.ETRI.re.kr', nodeName: 'titanic5.etri.re.kr' }
const AFB_ON = 'keepalive 2\ndeadtime 5\nauto_failback on\n'

t.test('pure: status words and exit codes per pidfile state', async (t) => {
  const running = statusAnswer({ kind: 'running', pid: 4242 }, host)
  t.equal(running.stdout, 'heartbeat OK [pid 4242 et al] is running on titanic5.etri.re.kr [titanic5.etri.re.kr]...\n')
  t.equal(running.exitCode, 0)
  t.same(statusAnswer({ kind: 'stopped' }, host), { stdout: 'heartbeat is stopped. No process\n', stderr: '', exitCode: 3 })
  t.same(statusAnswer({ kind: 'stale', pid: 9 }, host), { stdout: 'heartbeat is stopped. No process\n', stderr: '', exitCode: 1 })
})

t.test('pure: pidfile text', async (t) => {
  t.equal(parsePidText('1234\n'), 1234)
  t.equal(parsePidText('  77 '), 77)
  for (const bad of ['', 'abc', '12 34', '-5', '0', '99999999999', '12\n13\n']) t.equal(parsePidText(bad), undefined, JSON.stringify(bad))
})

t.test('pure: init words', async (t) => {
  t.equal(startAnswer(0).stdout, 'Starting High-Availability services: Done.\n')
  const bad = startAnswer(6, 'ha.cf:3: unknown directive\n')
  t.equal(bad.exitCode, 6)
  t.equal(bad.stdout, 'Starting High-Availability services: Heartbeat failure [rc=6]. Failed.\n\nha.cf:3: unknown directive\n')
  t.equal(stopAnswer(0).stdout, 'Stopping High-Availability services: Done.\n')
  t.equal(stopAnswer(4).exitCode, 4)
  t.equal(reloadAnswer(0).stdout, 'Reloading High-Availability services: Done.\n')
  t.match(usageAnswer('heartbeat').stderr, /^Usage: heartbeat \{start\|stop\|status\|restart\|reload\|force-reload\|standby\}/)
  t.equal(usageAnswer('heartbeat').exitCode, 1)
  const nc = notConfiguredAnswer('/etc/ha.d/ha.cf')
  t.equal(nc.stdout, 'Heartbeat not configured: /etc/ha.d/ha.cf not found. Heartbeat failure [rc=1]. Failed.\n')
  t.equal(nc.exitCode, 0, 'the init script lets boot go on')
  t.ok(isInitVerb('force-reload'))
  t.notOk(isInitVerb('kill'))
})

t.test('pure: ha_parameter and the restart wait', async (t) => {
  const seed = await readFile(join(REPO, 'ha.d-example', 'titanic5', 'ha.d', 'ha.cf'), 'latin1')
  t.equal(haParameter(seed, 'deadtime'), '5', 'the seed says deadtime 5')
  t.equal(restartWaitMs(seed), 15_000)
  t.equal(haParameter('  KeepAlive\t\t3   # fast\n', 'keepalive'), '3')
  t.equal(haParameter('', 'keepalive'), '2', 'shellfuncs default')
  t.equal(haParameter('keepalive 3\n', 'deadtime'), '7', 'shellfuncs default 2*keepalive+1')
  t.equal(haParameter('#auto_failback on\n', 'auto_failback'), undefined)
  t.equal(restartWaitMs('deadtime 500ms\n'), 10_500, 'a value in ms works (the shell script would break)')
  t.equal(haTimeMs('2'), 2000)
  t.equal(haTimeMs('100us'), 0.1)
  t.equal(haTimeMs('fast'), undefined)
})

t.test('pure: standby preconditions', async (t) => {
  const running = { kind: 'running', pid: 1 } as const
  const refusal = (text: string) => {
    const c = standbyCheck(text, running)
    return c.ok ? undefined : c.answer
  }
  t.same(refusal('auto_failback legacy\n'), { stdout: 'auto_failback is set to legacy.  Cannot enter standby.\n', stderr: '', exitCode: 1 })
  t.equal(refusal('nice_failback off\n')?.stdout, 'nice_failback is disabled.  Cannot enter standby.\n')
  t.equal(refusal('keepalive 2\n')?.stdout, 'auto_failback defaulted to legacy.  Cannot enter standby.\n')
  t.equal(refusal('auto_failback on\n'), undefined)
  const stopped = standbyCheck('auto_failback on\n', { kind: 'stopped' })
  t.same(stopped, { ok: false, answer: { stdout: 'auto_failback: on\nHeartbeat is not currently running.\n', stderr: '', exitCode: 1 } })
  t.same(standbyCheck('auto_failback off\n', running), { ok: true, stdout: 'auto_failback: off\n' })
})

t.test('package.json version is the one the CLI prints', async (t) => {
  const pkg = JSON.parse(await readFile(join(REPO, 'package.json'), 'utf8')) as { version: string }
  t.equal(HBTS_VERSION, pkg.version)
})

// ---- the built command, as an admin runs it ----

requireBuilt(HEARTBEAT_JS)
const hb = (node: Node, ...args: string[]) => run(HEARTBEAT_JS, args, node.env)

async function exists(p: string): Promise<boolean> {
  return access(p).then(
    () => true,
    () => false,
  )
}

/** The pid on the pidfile's first line (the second holds the daemon's start time, lib/io/pid-check.ts). */
function pidIn(text: string): number {
  return Number(text.split('\n')[0])
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

/** A process that stands in for a running daemon: notes SIGHUP, exits on SIGTERM. */
async function sleeper(node: Node) {
  const marks = join(node.stateDir, 'sleeper-signals')
  // Named heartbeat.js: the CLI signals only a process whose command line runs heartbeat (lib/io/pid-check.ts).
  const script = join(node.dir, 'heartbeat.js')
  await writeFile(
    script,
    `process.on('SIGHUP', () => require('fs').appendFileSync(${JSON.stringify(marks)}, 'HUP\\n')); setInterval(() => {}, 1000); require('fs').writeFileSync(${JSON.stringify(marks)}, 'READY\\n')\n`,
  )
  const child = execa(process.execPath, [script], { reject: false })
  t.teardown(() => {
    child.kill('SIGKILL')
  })
  const pid = child.pid
  if (pid === undefined) throw new Error('sleeper did not start')
  for (let i = 0; i < 200 && !(await exists(marks)); i++) await new Promise((r) => setImmediate(r))
  while (!(await readFile(marks, 'utf8').catch(() => '')).includes('READY')) await new Promise((r) => setTimeout(r, 20))
  await writeFile(node.pidFile, `${pid}\n`)
  return { child, pid, marks }
}

async function deadPid(): Promise<number> {
  const c = execa(process.execPath, ['-e', '0'])
  await c
  if (c.pid === undefined) throw new Error('no pid')
  return c.pid
}

async function stopFake(node: Node): Promise<void> {
  await hb(node, '-k')
}

t.test('running state', async (t) => {
  const node = await makeNode(AFB_ON)
  t.teardown(() => removeNode(node))
  const { pid, marks } = await sleeper(node)
  const uname = hostname().toLowerCase()

  for (const args of [['status'], ['-s']]) {
    const r = await hb(node, ...args)
    t.equal(r.stdout, `heartbeat OK [pid ${pid} et al] is running on ${uname} [titanic5.etri.re.kr]...\n`, args.join(' '))
    t.equal(r.exitCode, 0, `${args.join(' ')} exit 0`)
  }

  const start = await hb(node, 'start')
  t.equal(start.stdout, 'Starting High-Availability services: Done.\n', 'start when running is not an error')
  t.equal(start.exitCode, 0)
  t.equal((await readFile(node.pidFile, 'utf8')).trim(), String(pid), 'start left the running daemon alone')

  const plain = await hb(node)
  t.equal(plain.exitCode, 0)
  t.match(plain.stderr, `already running [pid ${pid}]`)

  const fg = await hb(node, '-f')
  t.equal(fg.exitCode, 1, '-f refuses a second daemon')
  t.match(fg.stderr, `ERROR: Heartbeat already running [pid ${pid}].`)

  for (const args of [['reload'], ['force-reload'], ['-r']]) {
    const r = await hb(node, ...args)
    t.equal(r.exitCode, 0, `${args.join(' ')} exit 0`)
    if (args[0] !== '-r') t.equal(r.stdout, 'Reloading High-Availability services: Done.\n')
  }
  // Each reload delivered one SIGHUP.
  for (let i = 0; i < 500 && (await readFile(marks, 'utf8')).split('HUP').length - 1 < 3; i++) await new Promise((r) => setTimeout(r, 10))
  t.equal((await readFile(marks, 'utf8')).split('HUP').length - 1, 3, 'three SIGHUPs')
  t.ok(alive(pid), 'reload does not stop the daemon')

  const stop = await hb(node, 'stop')
  t.equal(stop.stdout, 'Stopping High-Availability services: Done.\n')
  t.equal(stop.exitCode, 0)
  t.notOk(alive(pid), 'stop returns only after the daemon is gone')
})

t.test('running state: -k, restart, and standby through the FIFO', async (t) => {
  const node = await makeNode(AFB_ON)
  t.teardown(() => removeNode(node))
  const first = await sleeper(node)
  const k = await hb(node, '-k')
  t.equal(k.exitCode, 0)
  t.equal(k.stdout, '')
  t.notOk(alive(first.pid), '-k waited for the exit')

  const second = await sleeper(node)
  const r = await hb(node, 'restart')
  t.equal(r.exitCode, 0)
  t.match(r.stdout, /^Stopping High-Availability services: Done\.\nWaiting 0 s to allow resource takeover to complete: Done\.\nStarting High-Availability services: Done\.\n$/)
  t.notOk(alive(second.pid), 'the old daemon is gone')
  const newPid = pidIn(await readFile(node.pidFile, 'utf8'))
  t.not(newPid, second.pid)
  t.ok(alive(newPid), 'a new daemon runs')
  await stopFake(node)
  t.notOk(alive(newPid), 'and stops again')
})

t.test('stopped state', async (t) => {
  const node = await makeNode(AFB_ON)
  t.teardown(async () => {
    await stopFake(node)
    await removeNode(node)
  })
  for (const args of [['status'], ['-s']]) {
    const r = await hb(node, ...args)
    t.equal(r.stdout, 'heartbeat is stopped. No process\n')
    t.equal(r.exitCode, 3, `${args.join(' ')} exit 3`)
  }
  const stop = await hb(node, 'stop')
  t.equal(stop.stdout, 'Stopping High-Availability services: Done.\n')
  t.equal(stop.exitCode, 0, 'stopping a stopped heartbeat succeeds')
  const k = await hb(node, '-k')
  t.equal(k.exitCode, 0)
  t.match(k.stderr, 'INFO: Heartbeat already stopped.')

  const sb = await hb(node, 'standby')
  t.equal(sb.stdout, 'auto_failback: on\nHeartbeat is not currently running.\n')
  t.equal(sb.exitCode, 1)

  const start = await hb(node, '-d', '-d', 'start')
  t.equal(start.stdout, 'Starting High-Availability services: Done.\n')
  t.equal(start.exitCode, 0)
  const pid = pidIn(await readFile(node.pidFile, 'utf8'))
  t.ok(alive(pid), 'the daemon runs in the background after start returned')
  t.match(await readFile(join(node.stateDir, 'signals'), 'utf8'), 'START debug=2 foreground=false', '-d counted, daemonized')
  const status = await hb(node, 'status')
  t.equal(status.exitCode, 0)
  await stopFake(node)
  t.notOk(alive(pid))
  t.notOk(await exists(node.pidFile), 'the daemon removed its pidfile on the way out')

  // reload of a stopped heartbeat starts it (heartbeat -r)
  const rl = await hb(node, 'reload')
  t.equal(rl.exitCode, 0)
  t.equal((await hb(node, '-s')).exitCode, 0, 'reload started it')
})

t.test('stale pidfile state', async (t) => {
  const node = await makeNode(AFB_ON)
  t.teardown(async () => {
    await stopFake(node)
    await removeNode(node)
  })
  const gone = await deadPid()
  await writeFile(node.pidFile, `${gone}\n`)
  for (const args of [['status'], ['-s']]) {
    const r = await hb(node, ...args)
    t.equal(r.stdout, 'heartbeat is stopped. No process\n')
    t.equal(r.exitCode, 1, `${args.join(' ')} exit 1 (dead, pidfile exists)`)
  }
  await writeFile(node.pidFile, 'garbage\n')
  t.equal((await hb(node, 'status')).exitCode, 1, 'an unreadable pid is stale too')
  await writeFile(node.pidFile, `${gone}\n`)
  const stop = await hb(node, 'stop')
  t.equal(stop.exitCode, 0)
  t.equal(stop.stdout, 'Stopping High-Availability services: Done.\n')
  const sb = await hb(node, 'standby')
  t.equal(sb.exitCode, 1)
  t.match(sb.stdout, 'Heartbeat is not currently running.')
  const start = await hb(node, 'start')
  t.equal(start.exitCode, 0, 'start replaces a stale pidfile')
  const pid = pidIn(await readFile(node.pidFile, 'utf8'))
  t.not(pid, gone)
  t.ok(alive(pid))
})

t.test('a pidfile naming a process that is not heartbeat (pid reused): stop and reload signal nothing', async (t) => {
  const node = await makeNode(AFB_ON)
  t.teardown(() => removeNode(node))
  const other = execa('sleep', ['60'], { reject: false })
  t.teardown(() => {
    other.kill('SIGKILL')
  })
  const pid = other.pid ?? 0
  while (!(await readFile(`/proc/${pid}/cmdline`, 'latin1').catch(() => '')).startsWith('sleep')) await new Promise((r) => setTimeout(r, 20))
  await writeFile(node.pidFile, `${pid}\n`)
  t.equal((await hb(node, 'status')).exitCode, 1, 'status: dead with a pidfile, not running')
  const k = await hb(node, '-k')
  t.equal(k.exitCode, 0)
  t.match(k.stderr + k.stdout, 'already stopped')
  t.ok(alive(pid), 'the unrelated process was not sent SIGTERM')
})

t.test('start failure, not configured, usage', async (t) => {
  const node = await makeNode(AFB_ON)
  t.teardown(() => removeNode(node))
  await writeFile(node.env.HBTS_TEST_DAEMON_MODULE ?? '', 'export async function runDaemon() { console.error("ha.cf:1: no nodes"); return 6 }\n')
  const start = await hb(node, 'start')
  t.equal(start.exitCode, 6, 'the daemon\'s exit code is start\'s')
  t.equal(start.stdout, 'Starting High-Availability services: Heartbeat failure [rc=6]. Failed.\n\nha.cf:1: no nodes\n')
  t.equal((await hb(node, 'status')).exitCode, 3, 'no pidfile left behind')

  const bare = await makeNode(undefined)
  t.teardown(() => removeNode(bare))
  for (const verb of ['start', 'stop', 'restart', 'reload', 'standby']) {
    const r = await hb(bare, verb)
    t.equal(r.stdout, `Heartbeat not configured: ${join(bare.haDir, 'ha.cf')} not found. Heartbeat failure [rc=1]. Failed.\n`, verb)
    t.equal(r.exitCode, 0, `${verb} without ha.cf exits 0`)
  }
  t.equal((await hb(bare, 'status')).exitCode, 3, 'status still tells stopped without ha.cf')

  const u = await hb(node, 'bogus')
  t.equal(u.exitCode, 1)
  t.match(u.stderr, 'Usage: heartbeat {start|stop|status|restart|reload|force-reload|standby}')
  t.equal((await hb(node, '-x')).exitCode, 2, 'unknown flag')
  const v = await hb(node, '-V')
  t.equal(v.stdout, `3.0.6 (heartbeat-ts ${HBTS_VERSION})\n`)
})
