// hb-mon as a process: external monitors with mon's contract, a hanging monitor bounded, a signalled one counted as mon does,
// a failing alert only logged, the state file, and nothing left running after a stop.
import t from 'tap'
import { execa } from 'execa'
import { existsSync, readFileSync } from 'node:fs'
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseMonState } from '../../lib/monitor/mon-state.js'
import type { LvsTable } from '../../lib/agents/lvs-table.js'
import { descendants } from '../../lib/io/process-tree.js'
import { processIdentity } from '../../lib/io/pid-check.js'

const hbMon = fileURLToPath(new URL('../../dist/lib/cli/hb-mon.js', import.meta.url))

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const until = performance.now() + timeoutMs
  for (;;) {
    const v = await probe().catch(() => undefined)
    if (v !== undefined) return v
    if (performance.now() > until) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 100))
  }
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

async function readText(p: string): Promise<string | undefined> {
  try {
    return await readFile(p, 'utf8')
  } catch {
    return undefined
  }
}

t.test('hb-mon runs mon.cf with external monitors and alerts', async (t) => {
  if (!existsSync(hbMon)) {
    if (process.env.CI === 'true') t.fail(`${hbMon} missing: run npm run build`)
    else t.pass('skipped', { skip: `${hbMon} missing: run npm run build first` })
    return
  }
  const dir = await mkdtemp(join(tmpdir(), 'hbmonproc-'))
  const monDir = join(dir, 'mon.d')
  const alertDir = join(dir, 'alert.d')
  const out = join(dir, 'out')
  await Promise.all([mkdir(monDir), mkdir(alertDir), mkdir(out)])
  const script = async (d: string, name: string, body: string): Promise<void> => {
    await writeFile(join(d, name), `#!/bin/sh\n${body}\n`)
    await chmod(join(d, name), 0o755)
  }
  // Hangs (with a child of its own) until killed.
  await script(monDir, 'hang.monitor', `sleep 1000 &\necho $! > ${out}/hang-child.pid\necho $$ > ${out}/hang.pid\nwait`)
  // First run fails; later runs are killed by a signal (mon counts that as success).
  await script(monDir, 'sig.monitor', `if [ ! -e ${out}/sig.ran ]; then touch ${out}/sig.ran; echo "$@"; echo "HOST $1: down"; exit 1; fi\nkill -KILL $$`)
  // Always fails, and also prints on stderr (merged into the output).
  await script(monDir, 'fail.monitor', `echo "$@"\necho "to stderr" >&2\nexit 2`)
  // Records argv, environment and stdin, one file per call.
  // The .argv file appears last (renamed into place), so a reader that sees it sees the others complete.
  await script(alertDir, 'record.alert', `f=${out}/record.$$.$(date +%s%N)\nenv | grep '^MON_' | sort > $f.env\ncat > $f.stdin\nprintf '%s\\n' "$@" > $f.tmp\nmv $f.tmp $f.argv`)
  await script(alertDir, 'broken.alert', `echo "cannot page anyone" >&2\nexit 3`)
  const cf = join(dir, 'mon.cf')
  await writeFile(cf, [
    'maxprocs = 10',
    '',
    'hostgroup hanging 10.9.0.1 10.9.0.2',
    '',
    'hostgroup signalled 10.9.0.3',
    '',
    'hostgroup failing 10.9.0.4',
    '',
    'watch hanging',
    '    service h',
    '        interval 1s',
    '        monitor hang.monitor',
    '        period wd {Sun-Sat}',
    '            alert record.alert -x hang',
    '',
    'watch signalled',
    '    service s',
    '        interval 1s',
    '        monitor sig.monitor',
    '        period wd {Sun-Sat}',
    '            alert record.alert -x sigdown',
    '            upalert record.alert -x sigup',
    '',
    'watch failing',
    '    service f',
    '        interval 1s',
    '        monitor fail.monitor -q',
    '        description always failing',
    '        period wd {Sun-Sat}',
    '            alert broken.alert',
    '',
  ].join('\n'))
  const state = join(dir, 'state.json')
  const pidFile = join(dir, 'mon.pid')
  const logFile = join(dir, 'mon.log')
  const child = execa(process.execPath, [hbMon, '-c', cf, '-s', monDir, '-a', alertDir, '-P', pidFile, '--state', state, '--log', logFile], {
    detached: true,
    reject: false,
    env: { ...process.env, HBTS_HA_DIR: '/nonexistent/ha.d', HBTS_MON_TIMEOUT: '2', HBTS_MON_ALERT_TIMEOUT: '5' },
    stdin: 'ignore',
  })
  const pid = child.pid as number
  t.teardown(async () => {
    try {
      process.kill(-pid, 'SIGKILL')
    } catch {
      // already gone
    }
    await rm(dir, { recursive: true, force: true })
  })

  await waitFor('pidfile', async () => ((await readText(pidFile))?.split('\n')[0] === String(pid) ? true : undefined))
  t.pass('pidfile names the hb-mon process')

  // A hanging monitor: killed at 2 s, counted as a failure of every host of its watch, alert sent.
  const hangAlert = await waitFor('alert for the hanging monitor', async () => {
    const files = (await import('node:fs/promises')).readdir(out)
    for (const f of await files) {
      if (!f.endsWith('.argv')) continue
      const argv = (await readText(join(out, f))) ?? ''
      if (argv.includes('hang')) return { argv, stdin: (await readText(join(out, f.replace(/\.argv$/, '.stdin')))) ?? '', env: (await readText(join(out, f.replace(/\.argv$/, '.env')))) ?? '' }
    }
    return undefined
  })
  const argv = hangAlert.argv.trim().split('\n')
  t.same([argv[0], argv[1], argv[2], argv[3], argv[4], argv[5], argv[6]], ['-s', 'h', '-g', 'hanging', '-h', '10.9.0.1 10.9.0.2', '-t'], "mon's alert argv: -s -g -h (one word) -t")
  t.same(argv.slice(8), ['-x', 'hang'])
  t.match(hangAlert.stdin, /^10\.9\.0\.1 10\.9\.0\.2\nmonitor hang\.monitor timed out after 2s and was killed\n/, 'stdin: summary names every host')
  t.match(hangAlert.env, /MON_ALERTTYPE=failure\n/)
  t.match(hangAlert.env, /MON_GROUP=hanging\n/)
  t.match(hangAlert.env, /MON_RETVAL=1\n/)
  const hangPid = Number(await readText(join(out, 'hang.pid')))
  const hangChild = Number(await readText(join(out, 'hang-child.pid')))
  await waitFor('the killed monitor and its child to be gone', async () => (!alive(hangPid) && !alive(hangChild) ? true : undefined), 10_000)
  t.pass('the timed-out monitor and its own child were killed')

  // A monitor killed by a signal after a failure: counted as success, so the upalert fires.
  const sigUp = await waitFor('upalert after the signalled run', async () => {
    const fs = await import('node:fs/promises')
    for (const f of await fs.readdir(out)) {
      if (!f.endsWith('.argv')) continue
      const a = (await readText(join(out, f))) ?? ''
      if (a.includes('sigup')) return { argv: a, stdin: (await readText(join(out, f.replace(/\.argv$/, '.stdin')))) ?? '' }
    }
    return undefined
  })
  t.match(sigUp.argv, /^-s\ns\n-g\nsignalled\n-h\n10\.9\.0\.3\n-t\n\d+\n-u\n-x\nsigup\n$/, 'upalert argv carries -u before the configured args')
  t.equal(sigUp.stdin, '10.9.0.3\nHOST 10.9.0.3: down\n', "upalert stdin = the last failing run's output (mon)")

  // A failing alert is logged, hb-mon keeps going.
  const log = await waitFor('the broken alert in the log', async () => {
    const l = await readText(logFile)
    return l !== undefined && /alert broken\.alert for failing\/f failed: exit 3: cannot page anyone/.test(l) ? l : undefined
  })
  t.match(log, /failing\/f/, 'logged with the service')
  t.match(log, /monitor killed by SIGKILL; counted as a success, as mon does/)
  t.ok(alive(pid), 'hb-mon is still running after the alert failed')

  // The state file for hbctl status.
  const st = await waitFor('state file with all services checked', async () => {
    const p = parseMonState((await readText(state)) ?? '')
    return p.ok && p.state.services.every((s) => s.lastCheck !== undefined) ? p.state : undefined
  })
  t.equal(st.pid, pid)
  t.equal(st.stopped, false)
  const byHost = Object.fromEntries(st.realServers.map((r) => [r.host, r.state]))
  t.equal(byHost['10.9.0.4'], 'down', 'the always-failing host is down')
  t.equal(byHost['10.9.0.3'], 'up', 'the signalled monitor counts as up')
  t.ok(st.realServers.every((r) => r.lastCheck === undefined || !Number.isNaN(Date.parse(r.lastCheck))), 'last checks are ISO times')
  const failing = st.services.find((s) => s.watch === 'failing')
  t.equal(failing?.summary, '-q 10.9.0.4', 'summary = first line of the monitor output (args then hosts, as the monitor echoed them)')

  // Stop with SIGTERM to hb-mon alone (not its group): its monitors must not survive it.
  await waitFor('a hanging monitor to be running again', async () => {
    const p = Number(await readText(join(out, 'hang.pid')))
    return p !== hangPid && alive(p) ? p : undefined
  })
  const before = await descendants(pid)
  t.ok(before.length > 0, `hb-mon has children before the stop (${before.length})`)
  process.kill(pid, 'SIGTERM')
  const r = await child
  t.equal(r.exitCode, 0, 'hb-mon exits 0 on SIGTERM')
  await waitFor('every former child to be gone', async () => (before.every((p) => !alive(p)) ? true : undefined), 10_000)
  t.pass('no monitor or alert process survives the stop')
  t.equal(await readText(pidFile), undefined, 'pidfile removed')
  const final = parseMonState((await readText(state)) ?? '')
  t.ok(final.ok && final.state.stopped, 'state file says stopped')
})

t.test('hb-mon refuses a mon.cf with errors, naming path and line', async (t) => {
  if (!existsSync(hbMon)) {
    t.pass('skipped', { skip: 'run npm run build first' })
    return
  }
  const dir = await mkdtemp(join(tmpdir(), 'hbmonbad-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  const cf = join(dir, 'mon.cf')
  await writeFile(cf, 'hostgroup g 10.0.0.1\n\nwatch g\n    service s\n        interval 5\n        monitor http.monitor\n')
  const r = await execa(process.execPath, [hbMon, '-c', cf, '--state', join(dir, 's.json'), '-P', join(dir, 'p'), '--log', join(dir, 'l')], { reject: false, timeout: 20_000 })
  t.equal(r.exitCode, 1)
  t.match(r.stderr, `${cf}:5: interval: "5" is not a time value (mon needs a unit: 5s, 1m, 2h, 1d)`)
})

// ---- issue 12.7: hb-mon logs where the node logs (ha.cf), not only under /run -----------------

t.test("hb-mon writes every up, down and alert run to ha.cf's logfile, as hb-mon", async (t) => {
  if (!existsSync(hbMon)) {
    if (process.env.CI === 'true') t.fail(`${hbMon} missing: run npm run build`)
    else t.pass('skipped', { skip: 'run npm run build first' })
    return
  }
  const dir = await mkdtemp(join(tmpdir(), 'hbmonlog-'))
  const haDir = join(dir, 'ha.d')
  const haLog = join(dir, 'ha-log')
  const runLog = join(dir, 'mon.log')
  await Promise.all([mkdir(haDir), mkdir(join(dir, 'mon.d')), mkdir(join(dir, 'alert.d'))])
  await writeFile(join(haDir, 'ha.cf'), `logfile ${haLog}\nlogfacility none\nnode n1\n`)
  const flag = join(dir, 'server-down')
  const script = async (d: string, name: string, body: string): Promise<void> => {
    await writeFile(join(dir, d, name), `#!/bin/sh\n${body}\n`)
    await chmod(join(dir, d, name), 0o755)
  }
  await script('mon.d', 'flag.monitor', `if [ -e ${flag} ]; then echo "$@"; echo connection refused; exit 1; fi\nexit 0`)
  await script('alert.d', 'note.alert', 'exit 0')
  const cf = join(dir, 'mon.cf')
  await writeFile(cf, ['hostgroup realNode-2 10.9.1.2', '', 'watch realNode-2', '    service http', '        interval 1s',
    '        monitor flag.monitor', '        period wd {Sun-Sat}', '            alert note.alert down', '            upalert note.alert up', ''].join('\n'))
  const child = startHbMon(['-c', cf, '-s', join(dir, 'mon.d'), '-a', join(dir, 'alert.d'), '-P', join(dir, 'mon.pid'), '--state', join(dir, 's.json'), '--log', runLog], { HBTS_HA_DIR: haDir })
  t.teardown(async () => {
    killGroup(child.pid)
    await rm(dir, { recursive: true, force: true })
  })
  const HB_MON = String.raw`^[A-Z][a-z]{2} \d\d \d\d:\d\d:\d\d \S+ hb-mon: \[${child.pid}\]: `
  const inHaLog = (what: string, re: RegExp) => waitFor(what, async () => ((await readText(haLog)) ?? '').split('\n').find((l) => re.test(l)))

  t.match(await inHaLog('the start', /started: /), new RegExp(`${HB_MON}info: started: ${cf}`), "the start, in ha.cf's logfile, in heartbeat's line format, as hb-mon")
  await inHaLog('the first check', /realNode-2\/http: up: 10\.9\.1\.2 \(first check\)/)
  await writeFile(flag, '')
  t.match(await inHaLog('the down line', /: down: /), new RegExp(`${HB_MON}WARN: realNode-2/http: down: 10\\.9\\.1\\.2 \\(exit 1: 10\\.9\\.1\\.2\\)$`), 'the server going down')
  t.match(await inHaLog('the alert run', /alert note\.alert for realNode-2\/http: /), new RegExp(`${HB_MON}info: alert note\\.alert for realNode-2/http: \\S+/note\\.alert -s http -g realNode-2 -h 10\\.9\\.1\\.2 -t \\d+ down$`), 'the alert it ran, with its arguments')
  await rm(flag)
  await inHaLog('the server back', /realNode-2\/http: up: 10\.9\.1\.2 \(again\)/)
  t.match(await inHaLog('the upalert run', /upalert note\.alert for realNode-2\/http: /), / -u up$/)
  process.kill(child.pid as number, 'SIGTERM')
  t.equal((await child).exitCode, 0)
  t.match(await readText(haLog), /hb-mon: \[\d+\]: info: SIGTERM: stopping monitors\n$/, 'the stop is the last line: flushed before the exit')
  const run = (await readText(runLog)) ?? ''
  t.match(run, /WARN: realNode-2\/http: down: /, 'the run directory log still has them too')
})

t.test('hb-mon: a mon.cf that stops it is said in the node log; an unreadable ha.cf is warned about', async (t) => {
  if (!existsSync(hbMon)) {
    if (process.env.CI === 'true') t.fail(`${hbMon} missing: run npm run build`)
    else t.pass('skipped', { skip: 'run npm run build first' })
    return
  }
  const dir = await mkdtemp(join(tmpdir(), 'hbmonlog-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  const haDir = join(dir, 'ha.d')
  const haLog = join(dir, 'ha-log')
  await mkdir(haDir)
  await writeFile(join(haDir, 'ha.cf'), `logfile ${haLog}\n`)
  const cf = join(dir, 'mon.cf')
  await writeFile(cf, 'hostgroup g 10.0.0.1\n\nwatch g\n    service s\n        interval 5\n        monitor http.monitor\n')
  const args = [hbMon, '-c', cf, '--state', join(dir, 's.json'), '-P', join(dir, 'p'), '--log', join(dir, 'l')]
  const r = await execa(process.execPath, args, { reject: false, timeout: 20_000, env: { ...process.env, HBTS_HA_DIR: haDir } })
  t.equal(r.exitCode, 1)
  const log = (await readText(haLog)) ?? ''
  t.match(log, /hb-mon: \[\d+\]: ERROR: \S+mon\.cf:5: interval: "5" is not a time value/, "started detached, its stderr is lost: the node's log says why")
  t.match(log, `ERROR: ${cf} has errors; not monitoring`)

  const none = join(dir, 'empty.d')
  await mkdir(none)
  const r2 = await execa(process.execPath, args, { reject: false, timeout: 20_000, env: { ...process.env, HBTS_HA_DIR: none } })
  t.equal(r2.exitCode, 1)
  t.match(r2.stderr, `WARN: cannot read the node's log settings (${join(none, 'ha.cf')}: cannot read: ENOENT); logging to ${join(dir, 'l')} and standard error only`)
})

// ---- issue 11: no hb-mon is left behind, none spins ------------------------------------------

const builtOrSkip = (t: { pass: (m: string, o: { skip: string }) => void }): boolean => {
  if (existsSync(hbMon)) return true
  t.pass('skipped', { skip: 'run npm run build first' })
  return false
}

/** A watch of one host whose monitor succeeds every second, and an alert script per call. */
async function simpleSetup(dir: string, opts: { monitorBody?: string; alertBody?: string } = {}): Promise<string> {
  const monDir = join(dir, 'mon.d')
  const alertDir = join(dir, 'alert.d')
  await Promise.all([mkdir(monDir, { recursive: true }), mkdir(alertDir, { recursive: true })])
  await writeFile(join(monDir, 'ok.monitor'), `#!/bin/sh\n${opts.monitorBody ?? 'exit 0'}\n`)
  await chmod(join(monDir, 'ok.monitor'), 0o755)
  await writeFile(join(alertDir, 'page.alert'), `#!/bin/sh\n${opts.alertBody ?? 'exit 0'}\n`)
  await chmod(join(alertDir, 'page.alert'), 0o755)
  const cf = join(dir, 'mon.cf')
  await writeFile(cf, ['hostgroup g 10.9.1.1', '', 'watch g', '    service s', '        interval 1s', '        monitor ok.monitor', '        period wd {Sun-Sat}', '            alert page.alert', ''].join('\n'))
  return cf
}

function startHbMon(args: string[], env: Record<string, string>, cwd?: string) {
  // No ha.cf unless a test gives one: a test run on a cluster node must not write into its /var/log/ha-log.
  return execa(process.execPath, [hbMon, ...args], { detached: true, reject: false, stdin: 'ignore', env: { ...process.env, HBTS_HA_DIR: '/nonexistent/ha.d', ...env }, ...(cwd !== undefined ? { cwd } : {}) })
}

function killGroup(pid: number | undefined): void {
  if (pid === undefined) return
  try {
    process.kill(-pid, 'SIGKILL')
  } catch {
    // already gone
  }
}

/** Not running (a zombie left for a reaper counts as gone). */
function gone(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1')
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) === 'Z'
  } catch {
    return true
  }
}

t.test('an hb-mon whose run directory (and working directory) vanishes exits instead of spinning', async (t) => {
  if (!builtOrSkip(t)) return
  const dir = await mkdtemp(join(tmpdir(), 'hbmongone-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  const cf = await simpleSetup(dir)
  const run = join(dir, 'run')
  await mkdir(run)
  // Relative paths under a working directory that is then deleted: the case that looped for 40 minutes.
  const child = startHbMon(['-c', cf, '-s', join(dir, 'mon.d'), '-a', join(dir, 'alert.d'), '-P', 'mon.pid', '--state', 'mon-state.json', '--log', 'mon.log'], { HBTS_MON_WATCH_MS: '500' }, run)
  t.teardown(() => killGroup(child.pid))
  await waitFor('pidfile', async () => ((await readText(join(run, 'mon.pid')))?.split('\n')[0] === String(child.pid) ? true : undefined))
  await waitFor('a first check in the state file', async () => {
    const p = parseMonState((await readText(join(run, 'mon-state.json'))) ?? '')
    return p.ok && p.state.services.every((s) => s.lastCheck !== undefined) ? true : undefined
  })
  await rm(run, { recursive: true, force: true })
  const exited = await waitFor('hb-mon to exit on its own', async () => (gone(child.pid as number) ? true : undefined), 20_000).catch(() => false)
  t.ok(exited, 'hb-mon exited after its run directory vanished')
  if (!exited) {
    // The old bug: it ignores SIGTERM; show that too before the teardown SIGKILLs it.
    process.kill(child.pid as number, 'SIGTERM')
    t.fail('still running after SIGTERM', { skip: !gone(child.pid as number) ? false : 'exited after SIGTERM' })
    return
  }
  const r = await child
  t.equal(r.exitCode, 0, 'a clean stop')
  t.match(r.stderr, /is gone: nobody can stop this monitor any more: stopping monitors/)
})

t.test('a deleted working directory does not fail the monitors', async (t) => {
  if (!builtOrSkip(t)) return
  const dir = await mkdtemp(join(tmpdir(), 'hbmoncwd-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  const cf = await simpleSetup(dir)
  const cwd = join(dir, 'cwd')
  await mkdir(cwd)
  const state = join(dir, 'mon-state.json')
  const child = startHbMon(['-c', cf, '-s', join(dir, 'mon.d'), '-a', join(dir, 'alert.d'), '-P', join(dir, 'mon.pid'), '--state', state, '--log', join(dir, 'mon.log')], {}, cwd)
  t.teardown(() => killGroup(child.pid))
  await waitFor('pidfile', async () => ((await readText(join(dir, 'mon.pid')))?.split('\n')[0] === String(child.pid) ? true : undefined))
  await rm(cwd, { recursive: true, force: true })
  const removedAt = Date.now()
  // A check that started after the directory went: it must still see the host up.
  const st = await waitFor('a check after the working directory was deleted', async () => {
    const p = parseMonState((await readText(state)) ?? '')
    if (!p.ok) return undefined
    const rs = p.state.realServers.find((r) => r.host === '10.9.1.1')
    return rs?.lastCheck !== undefined && Date.parse(rs.lastCheck) > removedAt + 1000 ? rs : undefined
  })
  t.equal(st.state, 'up', 'the monitor still runs and the host stays up (no spawn failure, no down alert)')
  process.kill(child.pid as number, 'SIGTERM')
  t.equal((await child).exitCode, 0)
})

t.test('a second SIGTERM ends hb-mon at once, with the alert it was waiting for', async (t) => {
  if (!builtOrSkip(t)) return
  const dir = await mkdtemp(join(tmpdir(), 'hbmonterm-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  // The host is down; its alert hangs (with a child), and a stop waits for alerts up to their timeout (120 s here).
  const cf = await simpleSetup(dir, { monitorBody: 'exit 1', alertBody: `sleep 600 &\necho $! > ${dir}/alert-child.pid\necho $$ > ${dir}/alert.pid\nwait` })
  const log = join(dir, 'mon.log')
  const child = startHbMon(['-c', cf, '-s', join(dir, 'mon.d'), '-a', join(dir, 'alert.d'), '-P', join(dir, 'mon.pid'), '--state', join(dir, 's.json'), '--log', log], { HBTS_MON_ALERT_TIMEOUT: '120' })
  t.teardown(() => killGroup(child.pid))
  const alertPid = await waitFor('the hanging alert', async () => Number((await readText(join(dir, 'alert.pid')))?.trim()) || undefined)
  const alertChild = await waitFor('its child', async () => Number((await readText(join(dir, 'alert-child.pid')))?.trim()) || undefined)
  process.kill(child.pid as number, 'SIGTERM')
  await waitFor('the first SIGTERM to be taken', async () => ((await readText(log))?.includes('SIGTERM: stopping monitors') ? true : undefined))
  t.notOk(gone(child.pid as number), 'the first SIGTERM waits for the alert in flight')
  process.kill(child.pid as number, 'SIGTERM')
  const exited = await waitFor('hb-mon to exit after the second SIGTERM', async () => (gone(child.pid as number) ? true : undefined), 10_000).catch(() => false)
  t.ok(exited, 'the second SIGTERM ended it (not the 120 s alert bound)')
  if (!exited) return
  const r = await child
  t.equal(r.exitCode, 1)
  t.match(r.stderr, /second SIGTERM: exiting now/)
  await waitFor('the alert and its child to be gone', async () => (gone(alertPid) && gone(alertChild) ? true : undefined), 5000).catch(() => undefined)
  t.ok(gone(alertPid) && gone(alertChild), 'nothing it started is left')
  t.equal(await readText(join(dir, 'mon.pid')), undefined, 'pidfile removed')
})

t.test('hb-mon exits when the node that started it is gone', async (t) => {
  if (!builtOrSkip(t)) return
  const dir = await mkdtemp(join(tmpdir(), 'hbmonowner-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  const cf = await simpleSetup(dir)
  // A stand-in for the heartbeat daemon that started it.
  const node = execa('sleep', ['600'], { reject: false })
  t.teardown(() => node.kill('SIGKILL'))
  const id = await processIdentity(node.pid as number)
  t.ok(id, 'the node process is visible in /proc')
  const child = startHbMon(['-c', cf, '-s', join(dir, 'mon.d'), '-a', join(dir, 'alert.d'), '-P', join(dir, 'mon.pid'), '--state', join(dir, 's.json'), '--log', join(dir, 'mon.log')], {
    HBTS_MON_OWNER: `${id?.pid}:${id?.startTicks}`,
    HBTS_MON_WATCH_MS: '500',
  })
  t.teardown(() => killGroup(child.pid))
  await waitFor('pidfile', async () => ((await readText(join(dir, 'mon.pid')))?.split('\n')[0] === String(child.pid) ? true : undefined))
  t.notOk(gone(child.pid as number), 'runs while its node runs')
  node.kill('SIGKILL')
  await node
  const exited = await waitFor('hb-mon to exit', async () => (gone(child.pid as number) ? true : undefined), 15_000).catch(() => false)
  t.ok(exited, 'exited after its node went away')
  if (!exited) return
  const r = await child
  t.equal(r.exitCode, 0)
  t.match(r.stderr, new RegExp(`the node that started this monitor \\(pid ${id?.pid}\\) is gone`))
  t.equal(await readText(join(dir, 'mon.pid')), undefined, 'pidfile removed')
})

t.test("a node's lvs start stops its leftover hb-mon first, and never a process that only reuses its pid", async (t) => {
  if (!builtOrSkip(t)) return
  const dir = await mkdtemp(join(tmpdir(), 'hbmonleft-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  const cf = await simpleSetup(dir)
  const runDir = join(dir, 'run')
  await mkdir(join(runDir, 'lvs'), { recursive: true })
  // The monitor command the hook runs: the built hb-mon (from lib/ under tap the hook cannot find dist/ itself).
  const cmd = join(dir, 'hb-mon-cmd')
  await writeFile(cmd, `#!/bin/sh\nexec ${JSON.stringify(process.execPath)} ${JSON.stringify(hbMon)} "$@" -s ${join(dir, 'mon.d')} -a ${join(dir, 'alert.d')}\n`)
  await chmod(cmd, 0o755)
  const env = { ...process.env, HBTS_RUN_DIR: runDir, HBTS_PIDFILE: join(dir, 'heartbeat.pid'), HBTS_LVS_MONITOR_CMD: cmd, HBTS_MON_WATCH_MS: '500' } as Record<string, string>
  // This test process plays the node: its pidfile names us, in the format the daemon writes (pid, start_ticks).
  const { formatPidRecord, processIdentity } = await import('../../lib/io/pid-check.js')
  await writeFile(join(dir, 'heartbeat.pid'), formatPidRecord({ pid: process.pid, startTicks: (await processIdentity(process.pid))?.startTicks }))
  const { processMonitorHook } = await import('../../lib/io/lvs-monitor-hook.js')
  const hook = processMonitorHook()
  const table: LvsTable = { source: 'arguments', services: [] }

  // A leftover from a node before us: started without the hook, named by monitor.pid (old format: the pid alone).
  const leftover = startHbMon(['-c', cf, '-s', join(dir, 'mon.d'), '-a', join(dir, 'alert.d')], { HBTS_RUN_DIR: runDir })
  t.teardown(() => killGroup(leftover.pid))
  await waitFor('the leftover to run', async () => ((await readText(join(runDir, 'mon.pid')))?.split('\n')[0] === String(leftover.pid) ? true : undefined))
  await writeFile(join(runDir, 'lvs', 'monitor.pid'), `${leftover.pid}\n`)

  const started = await hook.start({ monCf: cf, table, runDir: join(runDir, 'lvs'), env })
  t.ok(started.ok, started.ok ? started.detail : started.message)
  t.match(started.ok ? started.detail : '', new RegExp(`leftover monitor \\(started by no running node\\) stopped \\(pid ${leftover.pid}, SIGTERM, in \\d+ ms\\)`))
  t.equal((await leftover).exitCode, 0, 'the leftover got SIGTERM and stopped cleanly')
  const [newPid = 0] = ((await readText(join(runDir, 'lvs', 'monitor.pid'))) ?? '').split('\n').map(Number)
  t.teardown(() => killGroup(newPid))
  t.ok(newPid > 0 && newPid !== leftover.pid && !gone(newPid), `a new monitor runs (pid ${newPid})`)
  const again = await hook.start({ monCf: cf, table, runDir: join(runDir, 'lvs'), env })
  t.match(again.ok ? again.detail : '', `monitor already running (pid ${newPid})`, 'its own monitor is kept')

  const stopped = await hook.stop({ runDir: join(runDir, 'lvs'), env })
  t.ok(stopped.ok, stopped.ok ? stopped.detail : stopped.message)
  t.match(stopped.ok ? stopped.detail : '', new RegExp(`monitor stopped \\(pid ${newPid}, SIGTERM, in \\d+ ms\\)`), 'the log says how long the monitor took to stop')
  await waitFor('the monitor to be gone', async () => (gone(newPid) ? true : undefined), 10_000)
  t.pass('stop leaves no hb-mon')

  // A pidfile naming a process that is not a monitor (the pid was reused): never signalled.
  const stranger = execa('sleep', ['600'], { reject: false })
  t.teardown(() => stranger.kill('SIGKILL'))
  await writeFile(join(runDir, 'lvs', 'monitor.pid'), `${stranger.pid}\n`)
  const third = await hook.start({ monCf: cf, table, runDir: join(runDir, 'lvs'), env })
  t.ok(third.ok)
  const [thirdPid = 0] = ((await readText(join(runDir, 'lvs', 'monitor.pid'))) ?? '').split('\n').map(Number)
  t.teardown(() => killGroup(thirdPid))
  t.notOk(gone(stranger.pid as number), 'the unrelated process lives on')
  await hook.stop({ runDir: join(runDir, 'lvs'), env })
  t.notOk(gone(stranger.pid as number), 'stop does not touch it either')
  await waitFor('the third monitor to be gone', async () => (gone(thirdPid) ? true : undefined), 10_000)
})
