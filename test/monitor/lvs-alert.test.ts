// Built-in lvs.alert: both option sets, argv planning, idempotence, quiescent mode; against a fake and the stand-in ipvsadm.
import t from 'tap'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { run } from '../../lib/agents/agent-exec.js'
import type { ExecOutcome } from '../../lib/agents/agent-exec.js'
import { LvsAlertMemo, lvsAlertSettingsFromEnv, parseLvsAlertArgs, planLvsAlert, runLvsAlert } from '../../lib/agents/lvs-alert.js'
import type { ExecFn } from '../../lib/agents/lvs-alert.js'
import { parseRules } from '../../lib/agents/lvs-table.js'

const VIP = '129.254.203.149:80'
// What mon passes (docs §1.12), after the reader repaired the en-dash.
const monHead = ['-s', 'http', '-g', 'realNode-1', '-h', '129.254.203.146', '-t', '1795626379']
const down = [...monHead, '-P', 'tcp', '-V', VIP, '-R', '129.254.203.146', '-W', '1', '-F', 'dr', '-X', 'down']
const up = [...monHead, '-u', '-P', 'tcp', '-V', VIP, '-R', '129.254.203.146', '-W', '1', '-F', 'dr']

const table = (lines: string[]) => parseRules(lines.join('\n'), 'test', 'ipvsadm').table
const full = table([
  `-A -t ${VIP} -s rr`,
  `-a -t ${VIP} -r 129.254.203.146:80 -g -w 1`,
  `-a -t ${VIP} -r 129.254.203.147:80 -g -w 1`,
])
const without146 = table([`-A -t ${VIP} -s rr`, `-a -t ${VIP} -r 129.254.203.147:80 -g -w 1`])
const quiet146 = table([`-A -t ${VIP} -s rr`, `-a -t ${VIP} -r 129.254.203.146:80 -g -w 0`])
const empty = table([])
const remove = { quiescent: false }
const quiesce = { quiescent: true }

t.test('option sets: classic lvs.alert and mon-contrib ipvs.alert', async (t) => {
  const d = parseLvsAlertArgs(down)
  t.ok(d.ok)
  if (d.ok) {
    t.same(
      { up: d.request.up, proto: d.request.proto, v: `${d.request.virtualAddr}:${d.request.virtualPort}`, r: d.request.realAddr, w: d.request.weight, f: d.request.forwarding },
      { up: false, proto: 'tcp', v: VIP, r: '129.254.203.146', w: 1, f: 'dr' },
    )
    t.same(d.request.notes, ['-X "down" ignored (no known lvs.alert has -X; up/down comes from -u)'], '-X is accepted and noted')
  }
  const u = parseLvsAlertArgs(up)
  t.ok(u.ok && u.request.up, '-u = upalert')
  const raw = parseLvsAlertArgs(['-P', 'tcp', '-V', VIP, '\u2013R', '10.0.0.1'])
  t.ok(raw.ok && raw.request.realAddr === '10.0.0.1', 'an en-dash reaching the alert itself is repaired too')
  t.match(raw.ok ? raw.request.notes[0] : '', /en-dash/)
  const contrib = parseLvsAlertArgs(['-uB', '-P', 'udp', '-V', '10.0.0.9:53', '-R', '10.0.0.1:5353', '-W', '3', '-F', 'nat', '-S', 'wlc'])
  t.ok(contrib.ok)
  if (contrib.ok) {
    t.same([contrib.request.up, contrib.request.addService, contrib.request.proto, contrib.request.realPort, contrib.request.weight, contrib.request.forwarding, contrib.request.scheduler],
      [true, true, 'udp', 5353, 3, 'nat', 'wlc'], 'bundled -uB, -S, -F nat')
  }
  const D = parseLvsAlertArgs(['-D', '-P', 'tcp', '-V', VIP])
  t.ok(D.ok && D.request.deleteService, '-D needs no -R')
  t.same(parseLvsAlertArgs(['-P', 'tcp', '-R', '10.0.0.1']), { ok: false, message: 'no -V virtual address:port' })
  t.same(parseLvsAlertArgs(['-P', 'sctp', '-V', VIP, '-R', '1.2.3.4']), { ok: false, message: '-P must be tcp or udp, not "sctp"' })
  t.same(parseLvsAlertArgs(['-V', VIP, '-R', '1.2.3.4', '-W', 'heavy']), { ok: false, message: '-W must be a weight 0-65535, not "heavy"' })
  t.same(parseLvsAlertArgs(['-V', VIP]), { ok: false, message: 'no -R real server' })
  t.same(parseLvsAlertArgs(['-V']), { ok: false, message: 'option -V needs a value' })
})

t.test('planning: the argv that changes the table, nothing when it is already so', async (t) => {
  const plan = (argv: string[], live: typeof full, s = remove) => {
    const p = parseLvsAlertArgs(argv)
    if (!p.ok) throw new Error(p.message)
    const r = planLvsAlert(p.request, live, s)
    return r.kind === 'run' ? r.commands : r.reason
  }
  t.same(plan(down, full), [['-d', '-t', VIP, '-r', '129.254.203.146:80']], 'down removes')
  t.same(plan(down, without146), `129.254.203.146:80 already out of TCP ${VIP}`, 'down when absent: nothing')
  t.same(plan(up, without146), [['-a', '-t', VIP, '-r', '129.254.203.146:80', '-g', '-w', '1']], 'up adds with weight and -g')
  t.same(plan(up, full), `129.254.203.146:80 already in TCP ${VIP} with weight 1`, 'up when present: nothing')
  t.same(plan(down, full, quiesce), [['-e', '-t', VIP, '-r', '129.254.203.146:80', '-g', '-w', '0']], 'quiescent down: weight 0')
  t.same(plan(down, quiet146, quiesce), `129.254.203.146:80 already has weight 0 in TCP ${VIP}`)
  t.same(plan(up, quiet146, quiesce), [['-e', '-t', VIP, '-r', '129.254.203.146:80', '-g', '-w', '1']], 'up from weight 0 edits the weight back')
  t.same(plan(up, empty), `TCP ${VIP} is not in the table (is the lvs resource started?); not adding 129.254.203.146:80`)
  t.same(plan(['-u', '-B', '-S', 'rr', '-P', 'tcp', '-V', VIP, '-R', '129.254.203.146'], empty),
    [['-A', '-t', VIP, '-s', 'rr'], ['-a', '-t', VIP, '-r', '129.254.203.146:80', '-g', '-w', '1']], '-B creates the service first')
  t.same(plan(['-D', '-P', 'tcp', '-V', VIP], full), [['-D', '-t', VIP]], '-D deletes the virtual service')
  t.same(plan(['-P', 'tcp', '-V', VIP, '-R', '129.254.203.146:8080', '-F', 'dr'], full), [['-d', '-t', VIP, '-r', '129.254.203.146:80']], 'DR forces the service port')
})

/** A fake ipvsadm over an in-memory table: records every call. */
function fakeIpvsadm(initial: string[]) {
  let rules = [...initial]
  const calls: string[][] = []
  const exec: ExecFn = async (_file, args): Promise<ExecOutcome> => {
    calls.push([...args])
    const command = ['ipvsadm', ...args].join(' ')
    if (args[0] === '-S') return { command, exitCode: 0, stdout: rules.join('\n') + '\n', stderr: '' }
    const r = args.indexOf('-r')
    const real = args[r + 1] ?? ''
    if (args[0] === '-d') {
      const before = rules.length
      rules = rules.filter((l) => !l.includes(`-r ${real} `))
      return rules.length < before ? { command, exitCode: 0, stdout: '', stderr: '' } : { command, exitCode: 255, stdout: '', stderr: 'No such destination\n' }
    }
    if (args[0] === '-a') {
      if (rules.some((l) => l.includes(`-r ${real} `))) return { command, exitCode: 255, stdout: '', stderr: 'Destination already exists\n' }
      rules.push(`-a ${args.slice(1, 3).join(' ')} -r ${real} ${args[args.indexOf('-r') + 2]} -w ${args[args.indexOf('-w') + 1]}`)
      return { command, exitCode: 0, stdout: '', stderr: '' }
    }
    if (args[0] === '-e') {
      rules = rules.map((l) => (l.includes(`-r ${real} `) ? l.replace(/-w \d+/, `-w ${args[args.indexOf('-w') + 1]}`) : l))
      return { command, exitCode: 0, stdout: '', stderr: '' }
    }
    return { command, exitCode: 2, stdout: '', stderr: 'unexpected\n' }
  }
  return { exec, calls, rules: () => rules }
}

const seedRules = [`-A -t ${VIP} -s rr`, `-a -t ${VIP} -r 129.254.203.146:80 -g -w 1`, `-a -t ${VIP} -r 129.254.203.147:80 -g -w 1`]

t.test('idempotent runs: a repeated down alert runs no ipvsadm at all', async (t) => {
  const f = fakeIpvsadm(seedRules)
  const deps = { ipvsadm: 'ipvsadm', exec: f.exec, settings: remove, memo: new LvsAlertMemo() }
  const first = await runLvsAlert(down, deps)
  t.equal(first.exitCode, 0)
  t.same(first.ran, [['-S', '-n'], ['-d', '-t', VIP, '-r', '129.254.203.146:80']])
  t.notOk(f.rules().some((l) => l.includes('129.254.203.146')), 'removed')
  for (let i = 0; i < 5; i++) {
    const again = await runLvsAlert(down, deps)
    t.same(again.ran, [], `repeat ${i + 1}: no ipvsadm run`)
    t.equal(again.exitCode, 0)
  }
  t.equal(f.calls.length, 2, 'five repeated down alerts cost nothing')
  const back = await runLvsAlert(up, deps)
  t.same(back.ran, [['-S', '-n'], ['-a', '-t', VIP, '-r', '129.254.203.146:80', '-g', '-w', '1']], 'the upalert puts it back')
  t.ok(f.rules().some((l) => l.includes('129.254.203.146')))
  t.same((await runLvsAlert(up, deps, true)).ran, [['-S', '-n']], 'a forced re-assert looks at the table but changes nothing that is right')
})

t.test('a fresh monitor meeting a table already right: only -S -n, no error spam', async (t) => {
  const f = fakeIpvsadm([`-A -t ${VIP} -s rr`])
  const r = await runLvsAlert(down, { ipvsadm: 'ipvsadm', exec: f.exec, settings: remove, memo: new LvsAlertMemo() })
  t.equal(r.exitCode, 0)
  t.same(r.ran, [['-S', '-n']])
  t.same(r.messages.filter((m) => !m.includes('note:')), [`lvs.alert: 129.254.203.146:80 already out of TCP ${VIP}`])
})

t.test('quiescent mode keeps the server with weight 0', async (t) => {
  t.same(lvsAlertSettingsFromEnv({ HBTS_LVS_QUIESCENT: '1' }), quiesce)
  t.same(lvsAlertSettingsFromEnv({}), remove, 'off by default')
  const f = fakeIpvsadm(seedRules)
  const deps = { ipvsadm: 'ipvsadm', exec: f.exec, settings: quiesce, memo: new LvsAlertMemo() }
  await runLvsAlert(down, deps)
  t.ok(f.rules().includes(`-a -t ${VIP} -r 129.254.203.146:80 -g -w 0`), 'weight 0, still listed')
  await runLvsAlert(up, deps)
  t.ok(f.rules().includes(`-a -t ${VIP} -r 129.254.203.146:80 -g -w 1`), 'weight restored')
})

t.test('ipvsadm failures are reported, and the next alert tries again', async (t) => {
  let fail = true
  const calls: string[][] = []
  const exec: ExecFn = async (_f, args) => {
    calls.push([...args])
    if (args[0] === '-S') return { command: 'ipvsadm -S -n', exitCode: 0, stdout: seedRules.join('\n'), stderr: '' }
    return fail ? { command: `ipvsadm ${args.join(' ')}`, exitCode: 255, stdout: '', stderr: 'Memory allocation problem\n' } : { command: '', exitCode: 0, stdout: '', stderr: '' }
  }
  const deps = { ipvsadm: 'ipvsadm', exec, settings: remove, memo: new LvsAlertMemo() }
  const r = await runLvsAlert(down, deps)
  t.equal(r.exitCode, 1)
  t.match(r.messages.at(-1), `lvs.alert: ipvsadm -d -t ${VIP} -r 129.254.203.146:80: exit 255: Memory allocation problem`)
  fail = false
  const r2 = await runLvsAlert(down, deps)
  t.equal(r2.exitCode, 0)
  t.equal(r2.ran.length, 2, 'not memoised after a failure')
  const noTable = await runLvsAlert(down, { ...deps, memo: new LvsAlertMemo(), exec: async () => ({ command: 'ipvsadm -S -n', exitCode: 2, stdout: '', stderr: "Can't initialize ipvs: Protocol not available\n" }) })
  t.equal(noTable.exitCode, 1)
  t.match(noTable.messages.at(-1), "cannot read the table: ipvsadm -S -n: exit 2: Can't initialize ipvs")
  const bad = await runLvsAlert(['-V', VIP], deps)
  t.same(bad, { exitCode: 2, messages: ['lvs.alert: no -R real server'], ran: [] })
})

t.test('against the stand-in ipvsadm (ipvsadm 1.31 CLI and errors)', async (t) => {
  const bin = fileURLToPath(new URL('../bin/ipvsadm', import.meta.url))
  const built = fileURLToPath(new URL('../../dist/test/support/ipvsadm-standin.js', import.meta.url))
  if (!existsSync(built)) {
    if (process.env.CI === 'true') t.fail(`${built} missing: run npm run build`)
    else t.pass(`skipped: ${built} missing`, { skip: 'run npm run build first' })
    return
  }
  const dir = mkdtempSync(join(tmpdir(), 'lvsalert-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const env = { ...process.env, IPVSADM_STANDIN_STATE: join(dir, 'table.json'), IPVSADM_STANDIN_LOCAL: '' }
  const exec: ExecFn = (file, args, o) => run(file, args, { ...o, env })
  for (const l of seedRules) {
    const o = await exec(bin, l.split(' '))
    t.equal(o.exitCode, 0, `setup: ipvsadm ${l}`)
  }
  const memo = new LvsAlertMemo()
  const deps = { ipvsadm: bin, exec, settings: remove, memo }
  const r = await runLvsAlert(down, deps)
  t.equal(r.exitCode, 0, r.messages.join('; '))
  const save = await exec(bin, ['-S', '-n'])
  t.equal(save.stdout, `-A -t ${VIP} -s rr\n-a -t ${VIP} -r 129.254.203.147:80 -g -w 1\n`, 'the stand-in table lost .146')
  // A fresh monitor (empty memo) repeating the down alert: no "No such destination" error.
  const again = await runLvsAlert(down, { ...deps, memo: new LvsAlertMemo() })
  t.equal(again.exitCode, 0)
  t.same(again.ran, [['-S', '-n']])
  const u = await runLvsAlert(up, deps)
  t.equal(u.exitCode, 0, u.messages.join('; '))
  t.equal((await exec(bin, ['-S', '-n'])).stdout,
    `-A -t ${VIP} -s rr\n-a -t ${VIP} -r 129.254.203.146:80 -g -w 1\n-a -t ${VIP} -r 129.254.203.147:80 -g -w 1\n`, 'back in the table')
  const q = await runLvsAlert(down, { ...deps, settings: quiesce, memo: new LvsAlertMemo() })
  t.equal(q.exitCode, 0, q.messages.join('; '))
  t.match((await exec(bin, ['-S', '-n'])).stdout, `-a -t ${VIP} -r 129.254.203.146:80 -g -w 0\n`, 'quiescent: weight 0 through the real CLI syntax')
})

t.test('the down action: HBTS_LVS_QUIESCENT, else heartbeat-ts.conf [lvs] down_action, else remove', async (t) => {
  const { lvsSettings } = await import('../../lib/cli/hb-mon.js')
  const { mkdtempSync: mk, writeFileSync } = await import('node:fs')
  const haDir = mk(join(tmpdir(), 'lvsalertconf-'))
  t.teardown(() => rmSync(haDir, { recursive: true, force: true }))
  const warnings: string[] = []
  const warn = (m: string): void => {
    warnings.push(m)
  }
  t.same(await lvsSettings({ HBTS_HA_DIR: haDir }, warn), remove, 'no file: remove')
  writeFileSync(join(haDir, 'heartbeat-ts.conf'), '[lvs]\ndown_action = quiesce\n')
  t.same(await lvsSettings({ HBTS_HA_DIR: haDir }, warn), quiesce, 'down_action = quiesce')
  t.same(await lvsSettings({ HBTS_HA_DIR: haDir, HBTS_LVS_QUIESCENT: '0' }, warn), remove, 'the environment wins')
  t.same(warnings, [])
})
