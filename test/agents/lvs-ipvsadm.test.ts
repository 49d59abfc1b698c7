import t from 'tap'
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { execa } from 'execa'
import { parseMonCf } from '../../lib/config/mon-cf.js'
import { parseLvsArgs, parseRules, planApply, planRemove, tableFromMonCf, tablePresent, type LvsTable } from '../../lib/agents/lvs-table.js'
import { runLvsAgent as runLvs } from '../../lib/io/lvs-monitor-hook.js'
import { emptyState, runIpvsadm, type StandinState } from '../support/ipvsadm-standin.js'

const repo = fileURLToPath(new URL('../../', import.meta.url))
const seedMonCf = join(repo, 'ha.d-example/titanic5/mon/mon.cf')
const seedInit = join(repo, 'ha.d-example/titanic5/init.d/lvs')
const noLocal = { stdin: '', localAddrs: new Set<string>() }

function sh(state: StandinState, line: string, stdin = ''): { exitCode: number; stdout: string; stderr: string } {
  return runIpvsadm(line === '' ? [] : line.split(' '), state, { ...noLocal, stdin })
}

/** The table the seed's init.d/lvs builds, by running its own ipvsadm lines through the stand-in. */
function seedScriptTable(): { save: string; literalErrors: string[] } {
  const state = emptyState()
  const literalErrors: string[] = []
  for (const raw of readFileSync(seedInit, 'utf8').split('\n')) {
    const m = /^\s*\$IPVSADM\s+(.*)$/.exec(raw)
    if (m === null || m[1] === undefined || m[1].trim() === '-C') continue
    const words = m[1].trim().split(/\s+/)
    if (words[0] === '-a') {
      const literal = runIpvsadm(words, emptyStateWithService(), noLocal)
      if (literal.exitCode !== 0) literalErrors.push(literal.stderr.trim())
    }
    // The 2.2-era ipvsadm spelled the real-server option -R; 1.31 reads -R as --restore.
    const r = runIpvsadm(words.map((w) => (w === '-R' ? '-r' : w)), state, noLocal)
    if (r.exitCode !== 0) throw new Error(`seed line failed: ${raw}: ${r.stderr}`)
  }
  return { save: runIpvsadm(['-S', '-n'], state, noLocal).stdout, literalErrors }
}
function emptyStateWithService(): StandinState {
  const s = emptyState()
  runIpvsadm(['-A', '-t', '129.254.203.149:80', '-s', 'rr'], s, noLocal)
  return s
}

t.test('stand-in ipvsadm follows the 1.31 CLI (lvs-mon-agents §2)', async (t) => {
  const st = emptyState()
  t.equal(sh(st, '-A -t 129.254.203.149:80 -s rr').exitCode, 0)
  for (const r of ['146', '147', '148']) t.equal(sh(st, `-a -t 129.254.203.149:80 -r 129.254.203.${r}`).exitCode, 0)
  const list = sh(st, '-L -n').stdout.split('\n')
  t.equal(list[0], 'IP Virtual Server version 1.2.1 (size=4096)')
  t.equal(list[1], 'Prot LocalAddress:Port Scheduler Flags')
  t.equal(list[2], '  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn')
  t.equal(list[3], 'TCP  129.254.203.149:80 rr')
  t.equal(list[4], '  -> 129.254.203.146:80           Route   1      0          0         ', 'widths 28/7/6/10/10 with trailing blanks')
  t.equal(list[2]?.indexOf('Forward'), 34)
  t.equal(list[4]?.indexOf('Route'), 34, 'destination columns line up under the title')
  t.equal(list[2]?.indexOf('InActConn'), 60)
  t.equal(sh(st, '-S -n').stdout, [
    '-A -t 129.254.203.149:80 -s rr',
    '-a -t 129.254.203.149:80 -r 129.254.203.146:80 -g -w 1',
    '-a -t 129.254.203.149:80 -r 129.254.203.147:80 -g -w 1',
    '-a -t 129.254.203.149:80 -r 129.254.203.148:80 -g -w 1',
    '',
  ].join('\n'), 'defaults: -g, weight 1, DR real port = service port')
  t.match(sh(st, '-S').stdout, /^-A -t 129\.254\.203\.149:http -s rr$/m, 'without -n ports are names')
  t.equal(sh(st, '-L -t 129.254.203.149:80 -n').stdout.split('\n')[0], 'Prot LocalAddress:Port Scheduler Flags', 'one service: no version line')
  const local = runIpvsadm(['-L', '-n'], st, { stdin: '', localAddrs: new Set(['129.254.203.146']) })
  t.match(local.stdout, /129\.254\.203\.146:80 {11}Local {3}1/, 'a real server on the director shows as Local')
  t.match(runIpvsadm(['-S', '-n'], st, { stdin: '', localAddrs: new Set(['129.254.203.146']) }).stdout, /-r 129\.254\.203\.146:80 -g -w 1/, 'and is saved as -g')
  const wlc = emptyState()
  sh(wlc, '-A -u 10.0.0.1:53')
  t.equal(sh(wlc, '-S -n').stdout, '-A -u 10.0.0.1:53 -s wlc\n', 'scheduler defaults to wlc')
  sh(wlc, '-a -u 10.0.0.1:53 -r 10.0.0.2:5353 -m -w 0')
  t.match(sh(wlc, '-S -n').stdout, /-r 10\.0\.0\.2:5353 -m -w 0/, 'NAT keeps its own port')
  sh(wlc, '-e -u 10.0.0.1:53 -r 10.0.0.2:5353 -m')
  t.match(sh(wlc, '-S -n').stdout, /-r 10\.0\.0\.2:5353 -m -w 1/, '-e without -w resets the weight to 1')
})

t.test('stand-in errors and exit codes (§2.3)', async (t) => {
  const st = emptyStateWithService()
  sh(st, '-a -t 129.254.203.149:80 -r 129.254.203.146')
  const cases: [string, number, string][] = [
    ['-t 129.254.203.149:80 -A', 255, "Try `ipvsadm -h' or 'ipvsadm --help' for more information."],
    ['-A -t 129.254.203.149:80 -s rr', 255, 'Service already exists'],
    ['-A -t 10.1.1.1:80 -s nosuch', 255, 'Scheduler or persistence engine not found'],
    ['-D -t 10.1.1.1:80', 255, 'No such service'],
    ['-a -t 10.1.1.1:80 -r 10.1.1.2', 255, 'Service not defined'],
    ['-a -t 129.254.203.149:80 -r 129.254.203.146', 255, 'Destination already exists'],
    ['-d -t 129.254.203.149:80 -r 129.254.203.199', 255, 'No such destination'],
    ['-L -t 10.1.1.1:80', 1, 'No such service'],
    ['-d -t 129.254.203.149:80 -r', 255, '-r: missing argument'],
    ['-a -t 129.254.203.149:80 -r 129.254.203.147 -w -g', 2, 'illegal weight specified'],
    ['-a -t 129.254.203.149:80 -R 129.254.203.147 -g', 2, "invalid option `-R'"],
    ['-a -t 129.254.203.149:80 -r 129.254.203.147 -a', 2, "invalid option `-a'"],
    ['-A -t 10.1.1.1', 2, 'Zero port specified for non-persistent service'],
    ['-A -t 1234:80', 2, 'illegal virtual server address[:port] specified'],
    ['-a -t 129.254.203.149:80 -r 10.0.0.300', 2, 'illegal real server address[:port] specified'],
    ['-A -t 10.1.1.1:80 -r 10.1.1.2', 2, "Illegal 'real-server' option with the 'add-service' command"],
    ['-a -r 10.1.1.2', 2, "You need to supply the 'service-address' option for the 'add-server' command"],
    ['-A -t 10.1.1.1:80 -s rr -s wlc', 2, "multiple 'scheduler' options specified"],
    ['-L -c --timeout', 2, "The option 'timeout' conflicts with the 'connection' option in the 'list' command"],
    ['-A -t 10.1.1.1:80 -p 0', 2, "invalid timeout value `0' specified"],
    ['-L stray', 2, 'unexpected argument stray'],
    ['-L --bogus', 255, '--bogus: unknown option'],
    ['--set 1 2', 2, '--set option requires 3 timeout values'],
  ]
  for (const [line, code, message] of cases) {
    const r = sh(st, line)
    t.equal(r.exitCode, code, `${line} → exit ${code}`)
    t.equal(r.stderr, `${message}\n`, `${line} → ${message}`)
  }
  t.equal(sh(st, '-C').exitCode, 0)
  t.equal(sh(st, '-C').exitCode, 0, '-C on an empty table is fine')
  t.equal(sh(st, '').stdout.split('\n').length, 4, 'no arguments = -L: header only on an empty table')
  t.match(sh(st, '-h').stdout, /Usage:/)
  t.equal(sh(st, '-h').exitCode, 0)
  sh(st, '--set 100 0 50')
  t.equal(sh(st, '-L --timeout').stdout, 'Timeout (tcp tcpfin udp): 100 120 50\n', '--set 0 leaves a value')
})

t.test('stand-in restore: words split on blanks, ipvsadm dropped, kernel errors continue, last status wins', async (t) => {
  const st = emptyState()
  const r = sh(st, '-R', 'ipvsadm -A -t 10.0.0.1:80 -s rr\n\n-a -t 10.0.0.1:80 -r 10.0.0.2\r\n-a -t 10.0.0.9:80 -r 10.0.0.3\n-a -t 10.0.0.1:80 -r 10.0.0.4\n')
  t.equal(r.exitCode, 0, 'the last line succeeded')
  t.equal(r.stderr, 'Service not defined\n')
  t.equal(sh(st, '-S -n').stdout.split('\n').filter((l) => l.startsWith('-a')).length, 2)
  const aborted = sh(st, '-R', '-A -t 10.0.0.5:80\n-A -t bad\n-A -t 10.0.0.6:80\n')
  t.equal(aborted.exitCode, 2, 'a validation error aborts the restore')
  t.match(sh(st, '-S -n').stdout, /10\.0\.0\.5:80/)
  t.notMatch(sh(st, '-S -n').stdout, /10\.0\.0\.6/)
  t.equal(sh(st, '-R', '-R\n').exitCode, 255, '-R inside -R')
})

t.test('lvs table sources', async (t) => {
  const fromArgs = parseLvsArgs(['129.254.203.149:80', 'rr', '129.254.203.146,129.254.203.147@3,129.254.203.148:8080'])
  t.ok(fromArgs.ok)
  if (fromArgs.ok) {
    t.same(fromArgs.table.services[0]?.reals.map((r) => `${r.addr}:${r.port}/${r.forwarding}/${r.weight}`), ['129.254.203.146:80/dr/1', '129.254.203.147:80/dr/3', '129.254.203.148:80/dr/1'], 'DR forces the service port')
  }
  const nat = parseLvsArgs(['udp/10.0.0.1:53', 'wlc', '10.0.0.2:5353', 'nat'])
  t.same(nat.ok && nat.table.services[0], { proto: 'udp', addr: '10.0.0.1', port: 53, scheduler: 'wlc', reals: [{ addr: '10.0.0.2', port: 5353, forwarding: 'nat', weight: 1 }] })
  for (const bad of [['129.254.203.149'], ['129.254.203.149', 'rr', 'x'], ['10.0.0.1:80', 'rr', '10.0.0.2', 'fast'], ['icmp/10.0.0.1:80', 'rr', '10.0.0.2'], ['10.0.0.1:80', 'rr', '10.0.0.2@99999']]) {
    const r = parseLvsArgs(bad)
    t.equal(r.ok, false, `${bad.join('::')} refused`)
    if (!r.ok) t.match(r.message, /lvs::.*VIP:PORT::SCHEDULER/, 'message names the arguments and the syntax')
  }
  const text = readFileSync(seedMonCf, 'utf8')
  const mon = parseMonCf(text, seedMonCf)
  const fromMon = tableFromMonCf(mon.config, seedMonCf)
  t.same(fromMon.diagnostics, [])
  t.same(fromMon.table.services, [{
    proto: 'tcp', addr: '129.254.203.149', port: 80, scheduler: 'rr',
    reals: ['146', '147', '148'].map((n) => ({ addr: `129.254.203.${n}`, port: 80, forwarding: 'dr', weight: 1 })),
  }], "the seed mon.cf's lvs.alert lines (en-dashes included) give VIP:80, rr, three real servers, -g, weight 1")
  const rules = parseRules('# saved\nipvsadm -A -t 10.0.0.1:80 -s wrr -p 600\n-a -t 10.0.0.1:80 -r 10.0.0.2:80 -i -w 2\n-C\n', '/etc/ha.d/ipvsadm.rules')
  t.same(rules.diagnostics, [])
  t.same(rules.table.services[0], { proto: 'tcp', addr: '10.0.0.1', port: 80, scheduler: 'wrr', persistentSec: 600, reals: [{ addr: '10.0.0.2', port: 80, forwarding: 'tun', weight: 2 }] })
  const broken = parseRules('-A -t 10.0.0.1:80\n-a -t 10.0.0.9:80 -r 10.0.0.2\n-Z\n', '/etc/ha.d/ipvsadm.rules')
  t.same(broken.diagnostics.map((d) => `${d.path}:${d.line}`), ['/etc/ha.d/ipvsadm.rules:2', '/etc/ha.d/ipvsadm.rules:3'])
  t.match(broken.diagnostics[1]?.message, /"-Z"/, 'the offending line is quoted')
})

t.test('lvs apply/remove plans are idempotent and equal the seed script table', async (t) => {
  const mon = parseMonCf(readFileSync(seedMonCf, 'utf8'), seedMonCf)
  const desired = tableFromMonCf(mon.config, seedMonCf).table
  const st = emptyState()
  const live = (): LvsTable => parseRules(runIpvsadm(['-S', '-n'], st, noLocal).stdout, 'live', 'ipvsadm').table
  for (const argv of planApply(desired, live())) t.equal(runIpvsadm(argv, st, noLocal).exitCode, 0, argv.join(' '))
  const seed = seedScriptTable()
  t.equal(runIpvsadm(['-S', '-n'], st, noLocal).stdout, seed.save, "same table as the seed init.d/lvs's own ipvsadm lines")
  t.same(seed.literalErrors, Array(3).fill("invalid option `-R'"), 'taken literally, ipvsadm 1.31 refuses the seed\'s -R real-server lines')
  t.same(planApply(desired, live()), [], 'second apply does nothing')
  t.ok(tablePresent(desired, live()))
  runIpvsadm(['-d', '-t', '129.254.203.149:80', '-r', '129.254.203.147'], st, noLocal)
  t.same(planApply(desired, live()), [['-a', '-t', '129.254.203.149:80', '-r', '129.254.203.147:80', '-g', '-w', '1']], 'a missing real server is re-added')
  for (const argv of planRemove(desired, live())) runIpvsadm(argv, st, noLocal)
  t.equal(runIpvsadm(['-S', '-n'], st, noLocal).stdout, '')
  t.same(planRemove(desired, live()), [], 'remove twice: nothing')
  t.notOk(tablePresent(desired, live()))
})

t.test('lvs agent end to end with the stand-in on PATH (child processes)', async (t) => {
  const standin = join(repo, 'dist/test/support/ipvsadm-standin.js')
  if (!existsSync(standin) || !existsSync(join(repo, 'dist/lib/agents/lvs.js'))) {
    t.fail('dist/ is missing: run `npm run build` first (npm test does)')
    return
  }
  const dir = mkdtempSync(join(tmpdir(), 't5-lvs-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  mkdirSync(join(dir, 'proc/net/ipv4'), { recursive: true })
  writeFileSync(join(dir, 'proc/net/ipv4/ip_forward'), '0\n')
  // A monitor stub: records that it ran with -c <mon.cf>, has a child like mon's monitors, and lives until killed.
  const stub = join(dir, 'mon-stub')
  writeFileSync(stub, `#!/bin/sh\necho "$@" > ${dir}/mon-args\nsleep 300 &\necho $! > ${dir}/mon-child\nwait\n`)
  chmodSync(stub, 0o755)
  const env: Record<string, string> = {
    PATH: `${join(repo, 'test/bin')}:${process.env.PATH ?? ''}`,
    IPVSADM_STANDIN_STATE: join(dir, 'ipvs.json'),
    HBTS_RUN_DIR: join(dir, 'run'),
    HBTS_HA_DIR: join(dir, 'ha.d'),
    HBTS_MON_CF: seedMonCf,
    HBTS_PROC_SYS: join(dir, 'proc'),
    HBTS_LVS_MONITOR_CMD: stub,
  }
  const status0 = await runLvs([], 'status', env)
  t.equal(status0.exitCode, 3)
  t.match(status0.stdout, /stopped/)
  const start = await runLvs([], 'start', env)
  t.equal(start.exitCode, 0, start.stderr)
  t.equal(readFileSync(join(dir, 'proc/net/ipv4/ip_forward'), 'utf8'), '1\n', 'forwarding on')
  const save = (await execa('ipvsadm', ['-S', '-n'], { env })).stdout + '\n'
  t.equal(save, seedScriptTable().save, 'ipvsadm -S -n after lvs start = the seed script table')
  const status1 = await runLvs([], 'status', env)
  t.equal(status1.exitCode, 0)
  t.match(status1.stdout, /running/)
  for (let i = 0; i < 100 && !existsSync(join(dir, 'mon-child')); i++) await new Promise((r) => setTimeout(r, 20))
  t.equal(readFileSync(join(dir, 'mon-args'), 'utf8').trim(), `-c ${seedMonCf}`, 'monitor started with the mon.cf')
  const child = Number(readFileSync(join(dir, 'mon-child'), 'utf8').trim())
  t.teardown(() => {
    try {
      process.kill(child, 'SIGKILL')
    } catch {
      // gone, as it should be
    }
  })
  const again = await runLvs([], 'start', env)
  t.equal(again.exitCode, 0)
  t.match(again.stderr, /monitor already running/, 'start twice keeps one monitor')
  const stop = await runLvs([], 'stop', env)
  t.equal(stop.exitCode, 0, stop.stderr)
  t.equal((await execa('ipvsadm', ['-S', '-n'], { env })).stdout, '', 'table empty after stop')
  t.equal(readFileSync(join(dir, 'proc/net/ipv4/ip_forward'), 'utf8'), '0\n', 'forwarding back to what it was')
  t.throws(() => process.kill(child, 0), 'the monitor\'s child process is gone too')
  const stop2 = await runLvs([], 'stop', env)
  t.equal(stop2.exitCode, 0, 'stop twice is fine')
  // Arguments beat the rules file, which beats mon.cf.
  mkdirSync(join(dir, 'ha.d'), { recursive: true })
  writeFileSync(join(dir, 'ha.d/ipvsadm.rules'), '-A -t 10.9.9.9:443 -s wlc\n-a -t 10.9.9.9:443 -r 10.9.9.10\n')
  const viaRules = await runLvs([], 'start', { ...env, HBTS_LVS_MONITOR_CMD: '/bin/true' })
  t.match(viaRules.stdout, /10\.9\.9\.9:443 wlc.*from rules-file/)
  const viaArgs = await runLvs(['10.8.8.8:80', 'sh', '10.8.8.9'], 'start', { ...env, HBTS_LVS_MONITOR_CMD: '/bin/true' })
  t.match(viaArgs.stdout, /10\.8\.8\.8:80 sh.*from arguments/)
  await runLvs([], 'stop', env)
  await runLvs(['10.8.8.8:80', 'sh', '10.8.8.9'], 'stop', env)
  t.equal((await execa('ipvsadm', ['-S', '-n'], { env })).stdout, '')
  const unconfigured = await runLvs([], 'start', { ...env, HBTS_MON_CF: join(dir, 'none'), HBTS_LVS_RULES: join(dir, 'none') })
  t.equal(unconfigured.exitCode, 6)
  t.match(unconfigured.stderr, /no table/)
  const bad = await runLvs([], 'reload', env)
  t.equal(bad.exitCode, 2)
})

t.test('lvs start costs two ipvsadm runs (one -S -n, one -R), stop one (the delete), idempotent, a failed line in the restore is caught', async (t) => {
  if (!existsSync(join(repo, 'dist/test/support/ipvsadm-standin.js'))) {
    t.fail('dist/ is missing: run `npm run build` first (npm test does)')
    return
  }
  const dir = mkdtempSync(join(tmpdir(), 't17-lvs-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  mkdirSync(join(dir, 'proc/net/ipv4'), { recursive: true })
  writeFileSync(join(dir, 'proc/net/ipv4/ip_forward'), '1\n')
  // Counts the calls: each line of calls is one ipvsadm process, its stdin after a tab.
  const counting = join(dir, 'ipvsadm')
  writeFileSync(counting, `#!/bin/sh\nin=""\n[ "$1" = "-R" ] && in=$(cat)\nprintf '%s\\t%s\\n' "$*" "$(echo $in)" >> ${dir}/calls\nprintf '%s\\n' "$in" | ${join(repo, 'test/bin/ipvsadm')} "$@"\n`)
  chmodSync(counting, 0o755)
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    HBTS_IPVSADM: counting,
    IPVSADM_STANDIN_STATE: join(dir, 'ipvs.json'),
    HBTS_RUN_DIR: join(dir, 'run'),
    HBTS_HA_DIR: join(dir, 'ha.d'),
    HBTS_MON_CF: join(dir, 'no-mon.cf'),
    HBTS_PROC_SYS: join(dir, 'proc'),
  }
  const calls = (): string[] => {
    const text = existsSync(join(dir, 'calls')) ? readFileSync(join(dir, 'calls'), 'utf8') : ''
    rmSync(join(dir, 'calls'), { force: true })
    return text.split('\n').filter((l) => l !== '')
  }
  const seedArgs = ['129.254.203.149:80', 'rr', '129.254.203.146,129.254.203.147,129.254.203.148']
  const start = await runLvs(seedArgs, 'start', env)
  t.equal(start.exitCode, 0, start.stderr)
  const c1 = calls()
  t.equal(c1.length, 2, `start on an empty table: ${c1.join(' | ')}`)
  t.match(c1[1] ?? '', /^-R\t-A -t 129\.254\.203\.149:80 -s rr -a .*-a .*-a -t 129\.254\.203\.149:80 -r 129\.254\.203\.148:80 -g -w 1$/, 'the service and its 3 real servers in one restore')
  t.equal((await execa(counting, ['-S', '-n'], { env })).stdout.split('\n').length, 4, 'all four lines in the table')
  calls()
  const again = await runLvs(seedArgs, 'start', env)
  t.equal(again.exitCode, 0, again.stderr)
  t.same(calls().map((l) => l.split('\t')[0]), ['-S -n'], 'start again: only the reading, nothing to change')
  const stop = await runLvs(seedArgs, 'stop', env)
  t.equal(stop.exitCode, 0, stop.stderr)
  t.same(calls().map((l) => l.split('\t')[0]), ['-D -t 129.254.203.149:80'], 'stop: the delete alone, no reading first (the release is the time both directors may hold the address)')
  t.equal((await execa(counting, ['-S', '-n'], { env })).stdout, '', 'table empty after stop')
  calls()
  const stop2 = await runLvs(seedArgs, 'stop', env)
  t.equal(stop2.exitCode, 0, `stop of a stopped table is fine: ${stop2.stderr}`)
  // Two services, the first with a scheduler the kernel lacks: -R goes on and exits 0 after the last line.
  mkdirSync(join(dir, 'ha.d'), { recursive: true })
  writeFileSync(join(dir, 'ha.d/ipvsadm.rules'), '-A -t 10.9.9.9:443 -s bogus\n-A -t 10.9.9.8:443 -s rr\n')
  const bad = await runLvs([], 'start', env)
  t.equal(bad.exitCode, 1, 'a kernel error on an early line fails the start')
  t.match(bad.stderr, /Scheduler or persistence engine not found/, 'and says why')
  t.match(bad.stdout, /lvs start failed/)
  rmSync(join(dir, 'ha.d/ipvsadm.rules'))
  // An ipvsadm that fails every call (no IPVS in the kernel): stop still succeeds, the group is not wedged.
  const broken = join(dir, 'ipvsadm-broken')
  writeFileSync(broken, '#!/bin/sh\necho "Can\'t initialize ipvs: Protocol not available" >&2\nexit 1\n')
  chmodSync(broken, 0o755)
  const stopBroken = await runLvs(seedArgs, 'stop', { ...env, HBTS_IPVSADM: broken })
  t.equal(stopBroken.exitCode, 0, `stop with an unreadable table: ${stopBroken.stderr}`)
  t.match(stopBroken.stderr, /nothing of ours can be in it/, 'and says why it is not a failure')
  // A delete that fails while the table reads fine is a failed stop.
  const failingDelete = join(dir, 'ipvsadm-failing-delete')
  writeFileSync(failingDelete, `#!/bin/sh\n[ "$1" = "-S" ] && exit 0\necho "Memory allocation problem" >&2\nexit 1\n`)
  chmodSync(failingDelete, 0o755)
  const stopFailing = await runLvs(seedArgs, 'stop', { ...env, HBTS_IPVSADM: failingDelete })
  t.equal(stopFailing.exitCode, 1, 'a delete that fails on a readable table fails the stop')
  t.match(stopFailing.stdout, /lvs stop failed/)
})
