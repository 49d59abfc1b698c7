// The init wrapper (init/heartbeat) and the systemd unit (init/heartbeat.service).

import t from 'tap'
import { readFile, writeFile, chmod } from 'node:fs/promises'
import { join } from 'node:path'
import { execa } from 'execa'
import { HEARTBEAT_JS, REPO, makeNode, removeNode, requireBuilt } from './cli/heartbeat-kit.js'

const WRAPPER = join(REPO, 'init', 'heartbeat')
const UNIT = join(REPO, 'init', 'heartbeat.service')

function sh(args: string[], env: Record<string, string>) {
  return execa('sh', [WRAPPER, ...args], { env, extendEnv: false, reject: false, timeout: 60_000 })
}

t.test('wrapper headers let chkconfig and insserv/update-rc.d register it', async (t) => {
  const text = await readFile(WRAPPER, 'utf8')
  t.match(text, /^#!\/bin\/sh\n/)
  t.match(text, /^# chkconfig: - 75 05$/m, 'chkconfig line as heartbeat has it')
  t.match(text, /^# description: .+/m)
  const lsb = /^### BEGIN INIT INFO\n([\s\S]*?)^### END INIT INFO$/m.exec(text)
  t.ok(lsb, 'an LSB block')
  for (const key of ['Provides', 'Required-Start', 'Required-Stop', 'Default-Start', 'Default-Stop', 'Short-Description']) {
    t.match(lsb?.[1] ?? '', new RegExp(`^# ${key}:\\s+\\S`, 'm'), key)
  }
  t.match(lsb?.[1] ?? '', /^# Provides:\s+heartbeat\b/m)
  const syntax = await execa('sh', ['-n', WRAPPER], { reject: false })
  t.equal(syntax.exitCode, 0, 'sh -n (dash on Debian) accepts it')
})

t.test('wrapper hands each verb to the heartbeat command and passes its exit code on', async (t) => {
  const node = await makeNode('auto_failback on\n')
  t.teardown(() => removeNode(node))
  const fake = join(node.dir, 'fake-heartbeat')
  await writeFile(fake, '#!/bin/sh\necho "called: $*"\nexit 7\n')
  await chmod(fake, 0o755)
  const env = { PATH: '/usr/bin:/bin', HEARTBEAT: fake }
  for (const verb of ['start', 'stop', 'status', 'restart', 'reload', 'force-reload', 'standby']) {
    const r = await sh([verb], env)
    t.equal(r.stdout, `called: ${verb}`, verb)
    t.equal(r.exitCode, 7, `${verb}: exit code passed on`)
  }
  const bad = await sh(['frobnicate'], env)
  t.equal(bad.exitCode, 1)
  t.match(bad.stderr, /Usage: .*\{start\|stop\|status\|restart\|reload\|force-reload\|standby\}/)
  t.equal((await sh([], env)).exitCode, 1, 'no verb is a usage error')

  const missing = { PATH: '/usr/bin:/bin', HEARTBEAT: join(node.dir, 'nope') }
  const m = await sh(['start'], missing)
  t.equal(m.exitCode, 5, 'LSB: program not installed')
  t.match(m.stderr, 'heartbeat-ts is not installed')
  t.equal((await sh(['status'], missing)).exitCode, 4, 'LSB status: unknown')
})

t.test('wrapper drives the real command', async (t) => {
  requireBuilt(HEARTBEAT_JS)
  const node = await makeNode('auto_failback on\n')
  t.teardown(async () => {
    await execa(process.execPath, [HEARTBEAT_JS, '-k'], { env: node.env, extendEnv: false, reject: false })
    await removeNode(node)
  })
  const shim = join(node.dir, 'heartbeat')
  await writeFile(shim, `#!/bin/sh\nexec ${JSON.stringify(process.execPath)} ${JSON.stringify(HEARTBEAT_JS)} "$@"\n`)
  await chmod(shim, 0o755)
  const env = { ...node.env, HEARTBEAT: shim }
  const st = await sh(['status'], env)
  t.equal(st.stdout, 'heartbeat is stopped. No process')
  t.equal(st.exitCode, 3)
  const start = await sh(['start'], env)
  t.equal(start.stdout, 'Starting High-Availability services: Done.')
  t.equal(start.exitCode, 0)
  t.equal((await sh(['status'], env)).exitCode, 0)
  const stop = await sh(['stop'], env)
  t.equal(stop.stdout, 'Stopping High-Availability services: Done.')
  t.equal((await sh(['status'], env)).exitCode, 3, 'stopped, pidfile removed')
})

t.test('wrapper stop leaves no hb-mon of this node behind, and spares one of another node', async (t) => {
  const hbMon = join(REPO, 'dist', 'lib', 'cli', 'hb-mon.js')
  requireBuilt(hbMon)
  const node = await makeNode('auto_failback on\n')
  const other = await makeNode('auto_failback on\n')
  t.teardown(() => Promise.all([removeNode(node), removeNode(other)]))
  const monCf = join(node.dir, 'mon.cf')
  await writeFile(monCf, 'hostgroup g 10.9.1.1\n')
  // The daemon itself stops cleanly but (as after a crash of an older version) leaves its hb-mon running.
  const fake = join(node.dir, 'fake-heartbeat')
  await writeFile(fake, '#!/bin/sh\necho "called: $*"\nexit 0\n')
  await chmod(fake, 0o755)
  const shim = join(node.dir, 'hb-mon')
  await writeFile(shim, `#!/bin/sh\nexec ${JSON.stringify(process.execPath)} ${JSON.stringify(hbMon)} "$@"\n`)
  await chmod(shim, 0o755)
  const start = (n: typeof node) => execa(process.execPath, [hbMon, '-c', monCf], { env: n.env, extendEnv: false, reject: false, detached: true })
  const leftover = start(node)
  const neighbour = start(other)
  t.teardown(() => {
    leftover.kill('SIGKILL')
    neighbour.kill('SIGKILL')
  })
  // The pidfile holds the pid on its first line (a second line carries the start time).
  const pidOf = async (n: typeof node): Promise<number | undefined> => Number((await readFile(join(n.runDir, 'mon.pid'), 'utf8').catch(() => '')).split('\n')[0]?.trim()) || undefined
  for (let i = 0; i < 200 && ((await pidOf(node)) === undefined || (await pidOf(other)) === undefined); i++) await new Promise((r) => setTimeout(r, 50))
  t.equal(await pidOf(node), leftover.pid, 'the leftover hb-mon runs')

  const r = await sh(['stop'], { ...node.env, HEARTBEAT: fake, HB_MON: shim })
  t.equal(r.stdout, 'called: stop', 'the daemon was asked first')
  t.equal(r.exitCode, 0, "the daemon's exit code")
  const done = await leftover
  t.ok(done.exitCode === 0 || done.signal === 'SIGKILL', `this node's hb-mon is gone (${done.signal ?? `exit ${done.exitCode}`})`)
  t.ok(neighbour.pid !== undefined && (() => {
    try {
      process.kill(neighbour.pid, 0)
      return true
    } catch {
      return false
    }
  })(), "another node's hb-mon (its own run directory) is not touched")
})

t.test('systemd unit: -f to start, -k to stop, never SIGKILL', async (t) => {
  const text = await readFile(UNIT, 'utf8')
  const service = /^\[Service\]\n([\s\S]*?)(?=^\[|(?![\s\S]))/m.exec(text)?.[1] ?? ''
  const key = (k: string) => new RegExp(`^${k}=(.*)$`, 'm').exec(service)?.[1]
  t.equal(key('ExecStart'), 'heartbeat -f')
  t.equal(key('ExecStop'), 'heartbeat -k')
  t.equal(key('Type'), 'simple')
  t.equal(key('SendSIGKILL'), 'no')
  // Every process of the service goes at stop: ExecStop (which waits for the daemon to release its
  // resources and exit) runs first, then systemd sends SIGTERM to what is left of the control group.
  // KillMode=process left hb-mon behind; mixed reaches the rest only with SIGKILL, which is off.
  t.equal(key('KillMode'), 'control-group', 'the whole control group is stopped')
  t.notMatch(key('KillSignal') ?? 'SIGTERM', /KILL/, 'left-over processes get SIGTERM, which hb-mon obeys')
  t.equal(key('PIDFile'), '/run/heartbeat.pid')
  t.match(text, /^\[Install\]\nWantedBy=multi-user\.target$/m)

  const which = await execa('sh', ['-c', 'command -v systemd-analyze'], { reject: false })
  if (which.exitCode !== 0) {
    t.comment('systemd-analyze not installed: unit syntax not verified by systemd')
    return
  }
  const v = await execa('systemd-analyze', ['verify', UNIT], { reject: false, timeout: 60_000 })
  // On a build machine the command is not installed and man pages are not indexed; anything else is a unit error.
  const complaints = `${v.stdout}\n${v.stderr}`
    .split('\n')
    .filter((l) => l.trim() !== '')
    .filter((l) => !/Command heartbeat is not executable|Command 'man [^']*' failed/.test(l))
  t.same(complaints, [], 'systemd-analyze verify finds nothing else')
})
