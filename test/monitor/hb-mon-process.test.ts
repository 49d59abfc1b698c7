// hb-mon as a process: external monitors with mon's contract, a hanging monitor bounded, a signalled one counted as mon does,
// a failing alert only logged, the state file, and nothing left running after a stop.
import t from 'tap'
import { execa } from 'execa'
import { existsSync } from 'node:fs'
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseMonState } from '../../lib/monitor/mon-state.js'
import { descendants } from '../../lib/io/process-tree.js'

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
    env: { ...process.env, HBTS_MON_TIMEOUT: '2', HBTS_MON_ALERT_TIMEOUT: '5' },
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
