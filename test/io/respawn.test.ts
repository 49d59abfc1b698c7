// ha.cf respawn on a real daemon with real processes (issue 12 point 2): a client runs as `nobody`
// with nobody's groups, is restarted as nobody when killed, a client that exits at once is given up
// after 3.0.6's eleven short runs, and a stop (heartbeat -k's SIGTERM) leaves no process behind —
// not the clients, nor what they forked. Needs root (to switch users): skipped with a reason
// outside CI, a failure under CI=true.

import t from 'tap'
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { PassThrough } from 'node:stream'
import { execa } from 'execa'
import { EXIT_NOT_CONFIGURED, runDaemon } from '../../lib/daemon/run.js'
import { resolveClients } from '../../lib/io/respawn-runner.js'
import { formatDiagnostic } from '../../lib/config/diagnostics.js'
import { requiredTools } from '../../lib/daemon/required-tools.js'
import type { DaemonPaths } from '../../lib/config/paths.js'

const ME = 'alpha'

async function until(check: () => boolean | Promise<boolean>, what: string, limitMs = 30_000): Promise<void> {
  const end = Date.now() + limitMs
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

async function lines(file: string): Promise<string[]> {
  return (await readFile(file, 'utf8').catch(() => '')).split('\n').filter((l) => l !== '')
}

t.test('respawn clients run as their user, are restarted, throttled, and stopped with nothing left', async (t) => {
  if (process.getuid?.() !== 0) {
    const why = 'needs root to run a client as another user'
    if (process.env.CI === 'true') t.fail(`${why}: CI runs as root`)
    else t.pass(`skipped: ${why}`, { skip: why })
    return
  }
  const nobody = await execa('getent', ['passwd', 'nobody'], { reject: false })
  const [, , uid, gid] = String(nobody.stdout).split(':')
  const groups = String((await execa('id', ['-G', 'nobody'])).stdout).trim()

  const dir = await mkdtemp(join(tmpdir(), 'hbts-rs-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  await chmod(dir, 0o755) // nobody must reach the scripts
  const out = join(dir, 'out')
  await mkdir(out)
  await chmod(out, 0o1777)
  // A long-running client that also leaves a child of its own in its process group.
  const slow = join(dir, 'slow-client')
  await writeFile(slow, `#!/bin/sh\necho "$$ $(id -u) $(id -g) $(id -G)" >> ${out}/slow\necho "hello from the client"\nprintf 'ctl:\\033[31m red\\n'\ni=0; while [ $i -lt 70 ]; do echo "line $i"; i=$((i+1)); done\nsleep 1000 &\necho $! >> ${out}/forked\nexec sleep 999\n`, { mode: 0o755 })
  const fast = join(dir, 'fast-client')
  await writeFile(fast, `#!/bin/sh\necho $$ >> ${out}/fast\nexit 1\n`, { mode: 0o755 })

  const paths: DaemonPaths = { haDir: join(dir, 'ha.d'), stateDir: join(dir, 'state'), runDir: join(dir, 'run'), pidFile: join(dir, 'pid'), monCf: join(dir, 'mon.cf') }
  await mkdir(join(paths.haDir, 'resource.d'), { recursive: true })
  await mkdir(paths.stateDir, { mode: 0o700 })
  await mkdir(paths.runDir, { mode: 0o700 })
  await writeFile(
    join(paths.haDir, 'ha.cf'),
    `logfile /dev/null\nkeepalive 1\ndeadtime 5\ninitdead 10\nudpport 47013\nucast lo 127.0.0.2\nauto_failback legacy\nnode ${ME}\n` +
      `respawn nobody ${slow} --an-argument\nrespawn nobody ${fast}\nrespawn hacluster /usr/lib/heartbeat/ipfail\n`,
  )
  await writeFile(join(paths.haDir, 'authkeys'), 'auth 1\n1 sha1 respawn-test\n', { mode: 0o600 })
  await writeFile(join(paths.haDir, 'haresources'), `${ME} Dummy\n`)
  await writeFile(join(paths.haDir, 'resource.d', 'Dummy'), '#!/bin/sh\nexit 0\n', { mode: 0o755 })
  const echo = new PassThrough()
  let log = ''
  echo.on('data', (b: Buffer) => (log += b.toString()))
  let stop: () => void = () => undefined
  const stopSignal = new Promise<void>((r) => (stop = r))
  const exited = runDaemon({ paths, nodeName: ME, foreground: true, debugLevel: 0, echo, stopSignal, env: { PATH: process.env.PATH } })
  let stopped = false
  t.teardown(async () => {
    if (!stopped) {
      stop()
      await exited
    }
  })

  await until(async () => (await lines(join(out, 'slow'))).length >= 1, 'the client to start')
  const [first] = await lines(join(out, 'slow'))
  const [pid1, uid1, gid1, ...groups1] = (first as string).split(' ')
  t.equal(uid1, uid, "runs with nobody's uid")
  t.equal(gid1, gid, "and nobody's gid")
  t.equal(groups1.join(' '), groups, "and nobody's supplementary groups (initgroups), not ours")
  t.teardown(() => {
    if (t.passing()) return
    t.comment(log)
  })
  t.match(log, /ipfail is built in/, 'the ipfail line is not spawned: one line says why')
  t.notMatch(log, /Starting child client "\/usr\/lib\/heartbeat\/ipfail/)
  await until(() => /respawn .*slow-client stdout: hello from the client/.test(log), 'its output in our log')
  await until(() => /more than 60 output lines this minute/.test(log), 'the output budget')
  t.match(log, /slow-client stdout: ctl:\\x1b\[31m red/, 'a control character in its output is escaped in the log')
  t.match(log, /stdout: line 57\n/, 'output lines up to the budget are logged')
  t.notMatch(log, /stdout: line 6[0-9]\n/, 'past 60 lines a minute they are not')

  // Killed: restarted, as nobody again (a run under 30 s is short: 1 s later).
  process.kill(Number(pid1), 'SIGKILL')
  await until(async () => (await lines(join(out, 'slow'))).length >= 2, 'the restart')
  const second = (await lines(join(out, 'slow')))[1] as string
  t.not(second.split(' ')[0], pid1, 'a new process')
  t.equal(second.split(' ')[1], uid, 'restarted as nobody')
  t.match(log, /Client .*slow-client --an-argument \(pid=\d+\) killed by signal SIGKILL/)
  t.match(log, /Respawning client ".*slow-client --an-argument":/)

  // The client that exits at once: 3.0.6's throttle gives it up after eleven short runs.
  await until(() => /fast-client "respawning too fast"/.test(log), 'the throttle', 40_000)
  const fastRuns = await lines(join(out, 'fast'))
  t.equal(fastRuns.length, 11, 'started once and restarted ten times, one second apart, then no more')
  await new Promise((r) => setTimeout(r, 1500))
  t.equal((await lines(join(out, 'fast'))).length, 11, 'given up: not started again')

  // A reload that changes ha.cf restarts heartbeat keeping the resources, and the clients with it
  // (3.0.6's quick restart): stopped, then started again at the next comm-up — the given-up one too.
  const slowBefore = (await lines(join(out, 'slow'))).length
  const logBefore = log.length
  await writeFile(join(paths.haDir, 'ha.cf'), `${await readFile(join(paths.haDir, 'ha.cf'), 'utf8')}# changed\n`)
  process.kill(process.pid, 'SIGHUP')
  await until(async () => (await lines(join(out, 'slow'))).length > slowBefore && (await lines(join(out, 'fast'))).length > 11, 'the clients to start again after the reload')
  const reloadLog = log.slice(logBefore)
  t.match(reloadLog, /Configuration changed: restarting heartbeat, keeping resources/)
  t.match(reloadLog, /Stopping client ".*slow-client --an-argument" \(pid \d+\) with SIGTERM/, 'the running client is stopped')
  t.ok(reloadLog.indexOf('Stopping client') < reloadLog.lastIndexOf('Starting child client'), 'then started again in the new life')
  t.notMatch(reloadLog, /Dummy stop/, 'the resources are kept')

  // heartbeat -k: the resources are released first, then the clients stopped; nothing is left.
  const pids = [...(await lines(join(out, 'slow'))), ...(await lines(join(out, 'forked')))].map((l) => Number(l.split(' ')[0]))
  const stopFrom = log.length
  stop()
  stopped = true
  t.equal(await exited, 0)
  const stopLog = log.slice(stopFrom)
  t.ok(stopLog.indexOf('Dummy stop') >= 0 && stopLog.indexOf('Dummy stop') < stopLog.indexOf('Stopping client'), 'clients are stopped after the resources are released')
  await until(() => pids.every((p) => !alive(p)), 'every client process and its children to be gone', 5000).catch(() => undefined)
  t.same(pids.filter(alive), [], 'no client process, nor what it forked, outlives the stop')
})

t.test('an unknown user or a program that cannot run stops the start, naming the line', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'hbts-rs-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  const haCf = join(dir, 'ha.cf')
  const children = [
    { user: 'no-such-user-hbts', command: '/bin/true', path: '/bin/true', failfast: false, line: 3 },
    { user: 'nobody', command: `${dir}/missing --x`, path: `${dir}/missing`, failfast: false, line: 4 },
    { user: 'nobody', command: dir, path: dir, failfast: false, line: 5 },
  ]
  const r = await resolveClients(children, haCf)
  t.same(r.clients, [])
  t.same(r.diagnostics.map(formatDiagnostic), [
    `${haCf}:3: respawn: user "no-such-user-hbts" does not exist (getent passwd); heartbeat cannot run /bin/true as that user`,
    `${haCf}:4: respawn: "${dir}/missing" does not exist`,
    `${haCf}:5: respawn: "${dir}" is not a regular file`,
  ])

  const paths: DaemonPaths = { haDir: join(dir, 'ha.d'), stateDir: join(dir, 'state'), runDir: join(dir, 'run'), pidFile: join(dir, 'pid'), monCf: join(dir, 'mon.cf') }
  await mkdir(paths.haDir)
  await writeFile(join(paths.haDir, 'ha.cf'), `logfile /dev/null\nucast lo 127.0.0.2\nauto_failback on\nnode ${ME}\nrespawn no-such-user-hbts /bin/true\n`)
  await writeFile(join(paths.haDir, 'authkeys'), 'auth 1\n1 sha1 respawn-test\n', { mode: 0o600 })
  await writeFile(join(paths.haDir, 'haresources'), '')
  const stderr: string[] = []
  const write = process.stderr.write.bind(process.stderr)
  process.stderr.write = ((chunk: string | Uint8Array) => (stderr.push(String(chunk)), true))
  let code: number
  try {
    code = await runDaemon({ paths, nodeName: ME, foreground: true, debugLevel: 0, env: { PATH: process.env.PATH } })
  } finally {
    process.stderr.write = write
  }
  t.equal(code, EXIT_NOT_CONFIGURED, 'not started: exit 6 (not configured), as 3.0.6')
  t.match(stderr.join(''), `${join(paths.haDir, 'ha.cf')}:5: respawn: user "no-such-user-hbts" does not exist`)
})

t.test('a node with respawn lines needs getent and setpriv: a missing one is named at start and by hbctl check', async (t) => {
  const needs = requiredTools([], { logfacility: undefined, env: {}, respawnLine: 9 })
  t.same(needs.map((n) => `${n.command}: ${n.reason}`), ['mkfifo: the FIFO hb_standby writes to', 'getent: respawn (ha.cf line 9)', 'setpriv: respawn (ha.cf line 9)'])
  t.same(requiredTools([], { logfacility: undefined, env: {} }).map((n) => n.command), ['mkfifo'], 'without respawn lines, neither')
})
