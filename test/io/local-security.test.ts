// Local users: an unprivileged account (nobody) plants links, squats sockets and reuses pids in
// directories root writes to; root must not write through them, talk to them or signal them.
// Runs in a private temp tree; needs root (to become nobody). Skips elsewhere, never under CI=true.

import t from 'tap'
import { chmod, chown, lstat, mkdir, mkdtemp, readFile, rm, symlink, utimes, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { execa } from 'execa'
import { startDetached, daemonStderrPath, ensureRunDir } from '../../lib/io/daemonize.js'
import { nextGeneration, loadOrCreateUuid } from '../../lib/io/state-files.js'
import { probeDaemon, writePidFile, HEARTBEAT_PROCESS } from '../../lib/io/pidfile.js'
import { checkPid, checkPidFile, parsePidRecord, formatPidRecord, processIdentity, runsProgram } from '../../lib/io/pid-check.js'
import { controlRequest } from '../../lib/io/control-socket.js'
import { daemonPaths } from '../../lib/config/paths.js'

const NOBODY = { uid: 65534, gid: 65534 }
const isRoot = process.geteuid?.() === 0
const REPO = resolve(import.meta.dirname, '..', '..')
const HBCTL_JS = join(REPO, 'dist', 'lib', 'cli', 'hbctl.js')

if (!isRoot) {
  if (process.env.CI === 'true') throw new Error('local-security tests need root under CI=true (they become nobody with setpriv)')
  t.comment('skipped: these tests need root to run commands as nobody (setpriv); CI=true runs them')
  t.pass('skipped without root')
} else {
  await tests()
}

/** Run a command as nobody (util-linux setpriv), as an unprivileged local user would. */
function asNobody(cmd: string, args: string[], opts: { detached?: boolean; env?: Record<string, string> } = {}) {
  return execa('setpriv', ['--reuid', String(NOBODY.uid), '--regid', String(NOBODY.gid), '--clear-groups', cmd, ...args], {
    reject: false,
    timeout: 60_000,
    ...(opts.env !== undefined ? { env: opts.env } : {}),
    ...(opts.detached === true ? { cleanup: true } : {}),
  })
}

/** A private tree: a root 0755 base (nobody may enter) holding whatever layout a test builds. */
async function tree(): Promise<string> {
  const base = await mkdtemp(join(tmpdir(), 'hbts-localsec-'))
  await chmod(base, 0o755)
  t.teardown(() => rm(base, { recursive: true, force: true }))
  return base
}

/** Debian's /run/heartbeat: 0750, owned by an unprivileged account (nobody stands in for hacluster). */
async function accountOwnedDir(base: string, name: string): Promise<string> {
  const d = join(base, name)
  await mkdir(d, { mode: 0o750 })
  await chmod(d, 0o750)
  await chown(d, NOBODY.uid, NOBODY.gid)
  return d
}

/** A root-owned file the attacker wants overwritten. */
async function victim(base: string): Promise<string> {
  const v = join(base, 'precious')
  await writeFile(v, 'root data\n', { mode: 0o600 })
  return v
}

async function tests(): Promise<void> {
  t.test('the run directory is our own, not the one Debian gives hacluster', async (t) => {
    t.equal(daemonPaths({}).runDir, '/run/heartbeat-ts')
    t.equal(daemonPaths({ HBTS_RUN_DIR: '/x' }).runDir, '/x')
  })

  t.test('daemon.stderr: a symlink nobody planted does not make root overwrite a file', async (t) => {
    const base = await tree()
    const precious = await victim(base)
    const runDir = await accountOwnedDir(base, 'run')
    const planted = await asNobody('ln', ['-s', precious, daemonStderrPath(runDir)])
    t.equal(planted.exitCode, 0, 'nobody could plant the link (the directory is theirs)')
    const script = join(base, 'fails.mjs')
    await writeFile(script, "process.stderr.write('boom\\n'); process.exit(1)\n")
    const start = startDetached({
      script, args: [], runDir, pidFile: join(base, 'hb.pid'), controlSocket: join(runDir, 'hbctl.sock'), env: {}, timeoutMs: 5000,
    })
    await t.rejects(start, /run[^ ]* is owned by uid 65534, not root/, 'a run directory another account owns is refused')
    t.equal(await readFile(precious, 'utf8'), 'root data\n', 'the root-owned file is untouched')
  })

  t.test('daemon.stderr in our own directory: a leftover link is replaced, not followed', async (t) => {
    const base = await tree()
    const precious = await victim(base)
    const runDir = join(base, 'run')
    await ensureRunDir(runDir)
    t.equal((await lstat(runDir)).mode & 0o777, 0o700)
    await symlink(precious, daemonStderrPath(runDir))
    const script = join(base, 'fails.mjs')
    await writeFile(script, "process.stderr.write('boom\\n'); process.exit(3)\n")
    const r = await startDetached({
      script, args: [], runDir, pidFile: join(base, 'hb.pid'), controlSocket: join(runDir, 'hbctl.sock'), env: {}, timeoutMs: 5000,
    })
    t.equal(r.rc, 3)
    t.match(r.detail, 'boom', 'start shows what the daemon wrote on stderr')
    t.equal(await readFile(precious, 'utf8'), 'root data\n', 'the link target is untouched')
    t.notOk((await lstat(daemonStderrPath(runDir))).isSymbolicLink(), 'daemon.stderr is now our own file')
  })

  t.test('ensureRunDir: a directory another account owns or can write is refused with the reason', async (t) => {
    const base = await tree()
    await t.rejects(ensureRunDir(await accountOwnedDir(base, 'debian')), /owned by uid 65534, not root/)
    const open = join(base, 'open')
    await mkdir(open)
    await chmod(open, 0o777)
    await t.rejects(ensureRunDir(join(open, 'run')), /writable by group or others/, 'a world-writable parent is refused too')
    const link = join(base, 'link')
    await mkdir(join(base, 'real'), { mode: 0o700 })
    await symlink(join(base, 'real'), link)
    await t.rejects(ensureRunDir(link), /is a symbolic link/, 'a symlink as run directory is refused')
    // A root-made link to a root directory (/var/run -> /run) is fine for the pidfile.
    await writePidFile(join(link, 'hb.pid'), process.pid)
    t.equal(parsePidRecord(await readFile(join(base, 'real', 'hb.pid'), 'latin1'))?.pid, process.pid, 'a pidfile through /var/run -> /run style link')
    t.equal((await asNobody('ln', ['-s', join(base, 'real'), join(await accountOwnedDir(base, 'nb'), 'l')])).exitCode, 0)
    await t.rejects(writePidFile(join(base, 'nb', 'l', 'hb.pid'), process.pid), /owned by uid 65534/, 'a link another account made is not followed')
    const loose = join(base, 'loose')
    await mkdir(loose, { mode: 0o750 })
    await chmod(loose, 0o750)
    await ensureRunDir(loose)
    t.equal((await lstat(loose)).mode & 0o777, 0o700, 'our own directory is closed to 0700')
  })

  t.test('hb_generation and hb_uuid: no write through a planted temp name', async (t) => {
    const base = await tree()
    const precious = await victim(base)
    const stateDir = await accountOwnedDir(base, 'state')
    await chmod(stateDir, 0o755)
    // The old temp names were predictable: <file>.tmp.<pid>.
    for (const f of ['hb_generation', 'hb_uuid']) {
      t.equal((await asNobody('ln', ['-s', precious, join(stateDir, `${f}.tmp.${process.pid}`)])).exitCode, 0)
    }
    await t.rejects(nextGeneration(stateDir, 1_700_000_000), /owned by uid 65534/)
    await t.rejects(loadOrCreateUuid(stateDir), /owned by uid 65534/)
    t.equal(await readFile(precious, 'utf8'), 'root data\n', 'the root-owned file is untouched')
  })

  t.test('hb_generation in a root directory: a link at the file itself is replaced, not written through', async (t) => {
    const base = await tree()
    const precious = await victim(base)
    const stateDir = join(base, 'state')
    await mkdir(stateDir, { mode: 0o755 })
    await symlink(precious, join(stateDir, 'hb_generation'))
    const g = await nextGeneration(stateDir, 1_700_000_000)
    t.equal(g.previous, undefined, 'a link is not read as the previous generation')
    t.equal(await readFile(precious, 'utf8'), 'root data\n')
    t.notOk((await lstat(join(stateDir, 'hb_generation'))).isSymbolicLink())
  })

  t.test('pidfile: no write through a planted temp name; pid and start time recorded', async (t) => {
    const base = await tree()
    const precious = await victim(base)
    const dir = await accountOwnedDir(base, 'piddir')
    const pidFile = join(dir, 'mon.pid')
    t.equal((await asNobody('ln', ['-s', precious, `${pidFile}.${process.pid}.tmp`])).exitCode, 0)
    await t.rejects(writePidFile(pidFile, process.pid), /owned by uid 65534/)
    t.equal(await readFile(precious, 'utf8'), 'root data\n')

    const ok = join(base, 'hb.pid')
    await writePidFile(ok, process.pid)
    const rec = parsePidRecord(await readFile(ok, 'latin1'))
    t.equal(rec?.pid, process.pid)
    t.equal(rec?.startTicks, (await processIdentity(process.pid))?.startTicks, 'our start time, so a reused pid is told apart')
    t.equal((await readFile(ok, 'latin1')).split('\n')[0], String(process.pid), 'first line is the pid alone (systemd, LSB and 3.0.6 read only that)')
  })

  t.test('a pid read from a file is signalled only if it is still the process that wrote it', async (t) => {
    const base = await tree()
    const pidFile = join(base, 'heartbeat.pid')
    const heartbeatLike = join(base, 'heartbeat.js')
    await writeFile(heartbeatLike, 'setInterval(() => {}, 1000)\n')
    await chmod(heartbeatLike, 0o644)

    // nobody runs a process that looks like heartbeat and writes its pid where a pidfile was.
    const foreign = asNobody(process.execPath, [heartbeatLike], { detached: true })
    t.teardown(() => { foreign.kill('SIGKILL') })
    // setpriv execs node, so the pid is the same process.
    const foreignPid = foreign.pid ?? 0
    for (let i = 0; i < 500 && (await processIdentity(foreignPid))?.argv.includes(heartbeatLike) !== true; i++) await new Promise((r) => setTimeout(r, 10))
    await writeFile(pidFile, `${foreignPid}\n`)
    const s1 = await probeDaemon(pidFile)
    t.equal(s1.kind, 'stale', 'a process of another account is not our daemon')
    t.match((await checkPid(foreignPid, HEARTBEAT_PROCESS)), { ok: false, gone: false, reason: /runs as uid 65534/ })

    // A root process with another command line (the pid was reused by something else).
    const other = execa('sleep', ['60'], { reject: false })
    t.teardown(() => { other.kill('SIGKILL') })
    const otherPid = other.pid ?? 0
    for (let i = 0; i < 500 && (await processIdentity(otherPid))?.argv[0] !== 'sleep'; i++) await new Promise((r) => setTimeout(r, 10))
    await writeFile(pidFile, `${otherPid}\n`)
    t.equal((await probeDaemon(pidFile)).kind, 'stale', 'sleep is not heartbeat')

    // Our own kind of process, but started after the pidfile was written: pid reuse.
    const mine = execa(process.execPath, [heartbeatLike], { reject: false })
    t.teardown(() => { mine.kill('SIGKILL') })
    const minePid = mine.pid ?? 0
    for (let i = 0; i < 500 && (await processIdentity(minePid))?.argv.includes(heartbeatLike) !== true; i++) await new Promise((r) => setTimeout(r, 10))
    const id = await processIdentity(minePid)
    t.ok(id)
    await writeFile(pidFile, formatPidRecord({ pid: minePid, startTicks: (id?.startTicks ?? 0) + 1 }))
    t.match(await probeDaemon(pidFile), { kind: 'stale', reason: /pid reused/ }, 'start ticks differ: another process')
    await writeFile(pidFile, `${minePid}\n`)
    const hourAgo = new Date(Date.now() - 3_600_000)
    await utimes(pidFile, hourAgo, hourAgo)
    t.match(await probeDaemon(pidFile), { kind: 'stale', reason: /started after the pidfile/ }, 'a 3.0.6-style pidfile older than the process')
    await writeFile(pidFile, formatPidRecord({ pid: minePid, startTicks: id?.startTicks }))
    t.same(await probeDaemon(pidFile), { kind: 'running', pid: minePid }, 'the genuine process is running')

    // The pidfile itself must be root's and not a link.
    await rm(pidFile)
    await symlink(join(base, 'elsewhere.pid'), pidFile)
    await writeFile(join(base, 'elsewhere.pid'), formatPidRecord({ pid: minePid, startTicks: id?.startTicks }))
    t.equal((await probeDaemon(pidFile)).kind, 'stale', 'a pidfile that is a symlink is not trusted')
    await rm(pidFile)
    await writeFile(pidFile, formatPidRecord({ pid: minePid, startTicks: id?.startTicks }))
    await chown(pidFile, NOBODY.uid, NOBODY.gid)
    t.match(await checkPidFile(pidFile, HEARTBEAT_PROCESS), { ok: false, reason: /owned by uid 65534/ })
    await rm(pidFile)
    t.same(await probeDaemon(pidFile), { kind: 'stopped' })
  })

  t.test('pid-check pieces', async (t) => {
    t.same(parsePidRecord('1234\n'), { pid: 1234, startTicks: undefined })
    t.same(parsePidRecord('1234\nstart_ticks 99\n'), { pid: 1234, startTicks: 99 })
    for (const bad of ['', 'x', '12 34', '0', '12\n13\n', '12\nstart_ticks x\n']) t.equal(parsePidRecord(bad), undefined, JSON.stringify(bad))
    const hb = runsProgram('heartbeat')
    t.ok(hb(['node', '--max-semi-space-size=1', '/usr/sbin/heartbeat', '-f']))
    t.ok(hb(['/usr/bin/node', '/opt/hbts/dist/lib/cli/heartbeat.js', '-f']))
    t.notOk(hb(['node', '/tmp/evil.js', 'heartbeat']), 'an argument named heartbeat does not count')
    t.notOk(hb(['sleep', '60']))
  })

  t.test('hbctl refuses a control socket another account put in place of the daemon\'s', async (t) => {
    const base = await tree()
    const runDir = await accountOwnedDir(base, 'run')
    const sock = join(runDir, 'hbctl.sock')
    const fake = join(base, 'fake-daemon.cjs')
    await writeFile(fake, `require('net').createServer((c) => c.end(JSON.stringify({ ok: true, value: { fake: true } }) + '\\n')).listen(${JSON.stringify(sock)}, () => require('fs').chmodSync(${JSON.stringify(sock)}, 0o777))\n`)
    await chmod(fake, 0o644)
    const squatter = asNobody(process.execPath, [fake], { detached: true })
    t.teardown(() => { squatter.kill('SIGKILL') })
    for (let i = 0; i < 500 && (await lstat(sock).catch(() => undefined))?.isSocket() !== true; i++) await new Promise((r) => setTimeout(r, 10))
    const r = await controlRequest(sock, { cmd: 'status' } as never, 3000)
    t.match(r, { ok: false, code: 'permission', error: /uid 65534/ }, 'the client does not talk to it')

    const hbctl = await execa(process.execPath, [HBCTL_JS, 'status'], { reject: false, env: { HBTS_RUN_DIR: runDir }, timeout: 30_000 })
    t.equal(hbctl.exitCode, 4, 'hbctl status exits 4 (permission)')
    t.match(hbctl.stderr, /owned by uid 65534/)
    t.notMatch(hbctl.stdout, /fake/)
  })

  t.test('a socket owned by another account in our own directory is refused too', async (t) => {
    const base = await tree()
    const runDir = join(base, 'run')
    await ensureRunDir(runDir)
    await chmod(runDir, 0o755)
    const sock = join(runDir, 'hbctl.sock')
    const srv = (await import('node:net')).createServer((c) => c.end('{"ok":true,"value":{}}\n'))
    await new Promise<void>((r) => srv.listen(sock, r))
    t.teardown(() => new Promise<void>((r) => srv.close(() => r())))
    await chown(sock, NOBODY.uid, NOBODY.gid)
    t.match(await controlRequest(sock, { cmd: 'status' } as never, 3000), { ok: false, code: 'permission', error: /not root/ })
  })

  t.test('a user running hbctl against root\'s socket is told it is root only, as before', async (t) => {
    const base = await tree()
    const runDir = join(base, 'run')
    await ensureRunDir(runDir)
    const sock = join(runDir, 'hbctl.sock')
    const srv = (await import('node:net')).createServer((c) => c.end('{"ok":true,"value":{}}\n'))
    await new Promise<void>((r) => srv.listen(sock, r))
    t.teardown(() => new Promise<void>((r) => srv.close(() => r())))
    // nobody must reach dist/ (and tap's loader in node_modules): a checkout made in a 0700 directory
    // (`git clone . "$(mktemp -d)"`) lets others traverse it for this run only.
    const repoMode = (await lstat(REPO)).mode & 0o7777
    if ((repoMode & 0o001) === 0) {
      await chmod(REPO, repoMode | 0o001)
      t.teardown(() => chmod(REPO, repoMode))
    }
    const r = await asNobody(process.execPath, [HBCTL_JS, 'status'], { env: { HBTS_RUN_DIR: runDir } })
    t.equal(r.exitCode, 4)
    t.match(r.stderr, /permission denied \(the control socket is root only\)/)
  })
}
