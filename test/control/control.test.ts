// Control protocol, the control socket, hbctl status/nodes/standby/takeover/reload and cl_status as commands.

import t from 'tap'
import { mkdtemp, rm, stat, readFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { connect, createServer } from 'node:net'
import { execa } from 'execa'
import { parseControlRequest, parseControlResponse, encodeLine } from '../../lib/control/protocol.js'
import type { ControlRequest, ControlResponse } from '../../lib/control/protocol.js'
import { startControlServer, controlRequest } from '../../lib/io/control-socket.js'
import { formatStatus, formatDuration } from '../../lib/control/status-format.js'
import type { ClusterStatus } from '../../lib/control/cluster-status.js'
import { SCENARIOS, T5, T6, normaliseLog, parseTranscript, statusFor, REAL_HBVERSION } from './status-fixtures.js'
import { hbVersionString } from '../../lib/control/version.js'
import { REPO, requireBuilt, run } from '../cli/heartbeat-kit.js'

const HBCTL = join(REPO, 'dist', 'lib', 'cli', 'hbctl.js')
const CL_STATUS = join(REPO, 'dist', 'lib', 'cli', 'cl-status.js')
const afbOn = statusFor(SCENARIOS['afb-on-titanic5.txt']!)
const crashed = statusFor(SCENARIOS['afb-on-titanic6-after-titanic5-crash.txt']!)
// Width is measured without colour codes.
const plain = (s: string) => s.replace(/\x1b\[[0-9;]*m/g, '')

t.test('protocol: requests parse or say why not', async (t) => {
  t.same(parseControlRequest('{"type":"status"}'), { ok: true, value: { type: 'status' } })
  t.same(parseControlRequest('{"type":"standby","resources":"failback"}'), { ok: true, value: { type: 'standby', resources: 'failback' } })
  for (const [line, why] of [
    ['', /not JSON/],
    ['nonsense', /not JSON/],
    ['[1]', /JSON object/],
    ['{"type":"explode"}', /unknown request type "explode"/],
    ['{"type":"takeover","resources":"everything"}', /resources must be one of all, local, foreign, failback/],
    ['{"type":"standby"}', /resources must be/],
  ] as const) {
    const r = parseControlRequest(line)
    t.equal(r.ok, false, JSON.stringify(line))
    if (!r.ok) t.match(r.error, why)
  }
  const round: ControlResponse = { ok: true, type: 'status', status: afbOn }
  t.same(parseControlResponse(encodeLine(round).trim()), { ok: true, value: round })
  t.same(parseControlResponse('{"ok":false,"code":"refused","error":"legacy"}'), { ok: true, value: { ok: false, code: 'refused', error: 'legacy' } })
  t.equal(parseControlResponse('{"ok":true,"type":"status"}').ok, false)
  t.equal(parseControlResponse('{"ok":false}').ok, false)
})

t.test('status table: fits 80 columns, says what matters, colour only when asked', async (t) => {
  const text = formatStatus(afbOn, { color: false, width: 80, timeZone: 'UTC' })
  for (const line of text.split('\n')) t.ok(line.length <= 80, `≤ 80 columns: ${JSON.stringify(line)}`)
  t.notMatch(text, /\x1b\[/, 'no escape codes without colour')
  t.match(text, new RegExp(`^${T5}: holding local resources, auto_failback on`))
  t.match(text, new RegExp(`^${T5}\\s+active\\s+local\\s+5s\\s+3\\s+eth0 up$`, 'm'))
  t.match(text, new RegExp(`^${T6}\\s+active\\s+0\\.4s ago\\s+5s\\s+7\\s+eth0 up$`, 'm'))
  t.match(text, new RegExp(`^10\\.99\\.0\\.149 lvs\\s+${T5}\\s+running\\s+17:36:55 \\(3m05s ago\\)\\n    started$`, 'm'))
  t.match(text, /^10\.99\.0\.7:80\s+10\.99\.0\.149:80\s+down\s+1\.0s ago: failed \(connect ECONNREFUSED\)$/m)
  // columns line up: STATUS column starts at the same offset on every node row
  const rows = text.split('\n').filter((l) => l.startsWith('NODE') || ((l.startsWith(T5) || l.startsWith(T6)) && !l.includes(':')))
  const at = rows.map((l) => l.search(/ (STATUS|active|dead)/))
  t.equal(new Set(at).size, 1, 'aligned')

  const after = formatStatus(crashed, { color: true, width: 80, timeZone: 'UTC' })
  t.match(after, /\x1b\[31mdead\x1b\[39m/, 'a dead node is red on a terminal')
  t.match(after, /\x1b\[32mrunning\x1b\[39m/)
  for (const line of plain(after).split('\n')) t.ok(line.length <= 80, `coloured, still ≤ 80: ${JSON.stringify(line)}`)
  t.match(plain(after), new RegExp(`${T6}\\s+running\\s+17:39:56 \\(4\\.0s ago\\)\\n    taken over from ${T5}$`, 'm'))

  const long: ClusterStatus = { ...afbOn, groups: [{ ...afbOn.groups[0]!, lastTransition: { what: `start failed: IPaddr 10.99.0.149 exited 1 after ${'x'.repeat(60)}`, atMs: afbOn.generatedAtMs } }] }
  for (const line of formatStatus(long, { color: false, width: 80, timeZone: 'UTC' }).split('\n')) t.ok(line.length <= 80, 'long text shortened')
  const noLvs = formatStatus({ ...afbOn, realServers: null }, { color: false, width: 80 })
  t.notMatch(noLvs, /REAL SERVER/, 'no real-server table when LVS does not run here')
  const withAgents = formatStatus(
    { ...afbOn, agents: [{ name: 'IPaddr', runs: 'built-in IPaddr', why: 'the built-in by default' }, { name: 'lvs', runs: '/etc/ha.d/resource.d/lvs', why: 'heartbeat-ts.conf [agents] site_scripts names it' }] },
    { color: false, width: 80 },
  )
  t.match(withAgents, /^RESOURCE +AGENT\nIPaddr +built-in IPaddr\nlvs +\/etc\/ha\.d\/resource\.d\/lvs$/m, 'which agent each resource runs (issue 12)')
  t.notMatch(text, /^RESOURCE/m, 'no agents table when the status carries none')
  const longPath = formatStatus({ ...afbOn, agents: [{ name: 'lvs', runs: `/tmp/${'x'.repeat(120)}/resource.d/lvs`, why: '' }] }, { color: false, width: 80 })
  for (const line of longPath.split('\n')) t.ok(line.length <= 80, 'a long script path is shortened to 80 columns')
  t.equal(formatDuration(420), '0.4s')
  t.equal(formatDuration(75_000), '1m15s')
  t.equal(formatDuration(2 * 3600_000 + 5 * 60_000), '2h05m')
  t.equal(formatDuration(50 * 3600_000), '2d02h')
})

async function tempDir(t: { teardown(fn: () => unknown): void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'hbts-t8-ctl-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  return dir
}

t.test('control socket: root-only file, requests in order, bad input answered, stale socket replaced', async (t) => {
  const dir = await tempDir(t)
  const path = join(dir, 'run', 'hbctl.sock')
  const seen: ControlRequest[] = []
  const server = await startControlServer(path, async (req) => {
    seen.push(req)
    if (req.type === 'status') return { ok: true, type: 'status', status: afbOn }
    if (req.type === 'reload') throw new Error('config broke')
    if (req.type === 'metrics') return { ok: true, type: 'metrics', text: '' }
    return { ok: true, type: 'done', message: `${req.type} ${req.resources}` }
  })
  t.teardown(() => server.close())
  t.equal((await stat(path)).mode & 0o777, 0o600, 'socket 0600')
  t.equal((await stat(join(dir, 'run'))).mode & 0o777, 0o700, 'directory 0700')

  t.same(await controlRequest(path, { type: 'status' }), { ok: true, type: 'status', status: afbOn })
  t.same(await controlRequest(path, { type: 'standby', resources: 'all' }), { ok: true, type: 'done', message: 'standby all' })
  t.same(await controlRequest(path, { type: 'reload' }), { ok: false, code: 'internal', error: 'config broke' })

  // Raw garbage and two requests in one write.
  const raw = await new Promise<string>((resolve) => {
    const s = connect(path)
    let got = ''
    s.setEncoding('utf8')
    s.on('data', (d: string) => {
      got += d
      if (got.split('\n').length > 3) {
        s.destroy()
        resolve(got)
      }
    })
    s.write('garbage\n{"type":"takeover","resources":"local"}\n{"type":"status"}\n')
  })
  const lines = raw.trim().split('\n').map((l) => JSON.parse(l) as ControlResponse)
  t.equal(lines[0]?.ok, false)
  t.match(lines[0], { code: 'bad-request' })
  t.same(lines[1], { ok: true, type: 'done', message: 'takeover local' }, 'answers in request order')
  t.match(lines[2], { ok: true, type: 'status' })
  t.same(seen.map((r) => r.type), ['status', 'standby', 'reload', 'takeover', 'status'])

  await t.rejects(startControlServer(path, async () => ({ ok: true, type: 'done', message: '' })), /in use/, 'a second daemon cannot take the socket')
  await server.close()
  t.same(await controlRequest(path, { type: 'status' }), {
    ok: false,
    code: 'not-running',
    error: `heartbeat is not running (no one listens on ${path})`,
  })

  // A socket file left by a crashed daemon: nobody listens, so the next daemon replaces it.
  const stale = join(dir, 'stale.sock')
  const old = createServer()
  await new Promise<void>((r) => old.listen(stale, r))
  // close the fd but keep the file, as a SIGKILLed daemon does
  const handle = (old as unknown as { _handle: { close(): void } | null })._handle
  handle?.close()
  const again = await startControlServer(stale, async () => ({ ok: true, type: 'done', message: 'fresh' }))
  t.teardown(() => again.close())
  t.same(await controlRequest(stale, { type: 'reload' }), { ok: true, type: 'done', message: 'fresh' })

  const silent = await startControlServer(join(dir, 'silent.sock'), () => new Promise<ControlResponse>(() => undefined))
  t.teardown(() => silent.close())
  t.match(await controlRequest(join(dir, 'silent.sock'), { type: 'status' }, 200), { ok: false, code: 'timeout' })
})

t.test('hbctl and cl_status as commands against a daemon socket', async (t) => {
  requireBuilt(HBCTL)
  requireBuilt(CL_STATUS)
  const dir = await tempDir(t)
  const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HBTS_RUN_DIR: join(dir, 'run') }
  const seen: ControlRequest[] = []
  let current: ClusterStatus = afbOn
  const server = await startControlServer(join(dir, 'run', 'hbctl.sock'), async (req) => {
    seen.push(req)
    if (req.type === 'status') return { ok: true, type: 'status', status: current }
    if (req.type === 'metrics') return { ok: true, type: 'metrics', text: '' }
    if (req.type === 'standby' && req.resources === 'local') return { ok: false, code: 'refused', error: 'auto_failback legacy: standby is ignored' }
    return { ok: true, type: 'done', message: `asked: ${req.type}${req.type !== 'reload' ? ` ${req.resources}` : ''}` }
  })
  t.teardown(() => server.close())

  const human = await run(HBCTL, ['status'], env)
  t.equal(human.exitCode, 0)
  t.equal(human.stdout, formatStatus(afbOn, { color: false, width: 80 }), 'not a terminal: plain 80-column text')
  for (const line of human.stdout.split('\n')) t.ok(line.length <= 80)

  const json = await run(HBCTL, ['status', '--json'], env)
  t.same(JSON.parse(json.stdout), afbOn, '--json is the snapshot')

  current = crashed
  const nodes = await run(HBCTL, ['nodes', '--json'], env)
  t.same((JSON.parse(nodes.stdout) as Array<{ name: string; status: string }>).map((n) => [n.name, n.status]), [
    [T5, 'dead'],
    [T6, 'active'],
  ])
  t.match((await run(HBCTL, ['nodes'], env)).stdout, new RegExp(`^${T5}\\s+dead`, 'm'))

  // --watch --json: a line per snapshot until interrupted
  const watch = execa(process.execPath, [HBCTL, 'status', '--watch', '--json', '--interval', '0.05'], { env, extendEnv: false, reject: false })
  let lines = 0
  watch.stdout?.on('data', (d: Buffer) => {
    lines += d.toString().split('\n').filter((l) => l.trim()).length
    if (lines >= 3) watch.kill('SIGINT')
  })
  const w = await watch
  t.ok(lines >= 3, `--watch printed ${lines} snapshots`)
  t.equal(w.exitCode, 0, 'Ctrl-C ends --watch cleanly')

  for (const [args, want] of [
    [['standby'], 'asked: standby all'],
    [['standby', 'failback'], 'asked: standby failback'],
    [['takeover', 'foreign'], 'asked: takeover foreign'],
    [['reload'], 'asked: reload'],
  ] as const) {
    const r = await run(HBCTL, [...args], env)
    t.equal(r.stdout, `${want}\n`, args.join(' '))
    t.equal(r.exitCode, 0)
  }
  const refused = await run(HBCTL, ['standby', 'local'], env)
  t.equal(refused.exitCode, 1)
  t.equal(refused.stderr, 'hbctl standby: auto_failback legacy: standby is ignored\n')
  const bad = await run(HBCTL, ['takeover', 'everything'], env)
  t.equal(bad.exitCode, 2)
  t.match(bad.stderr, 'usage: hbctl takeover [all|local|foreign|failback]')
  t.equal((await run(HBCTL, ['standby', 'all', 'local'], env)).exitCode, 2)

  // cl_status, the command: one real transcript replayed through the binary and through hbctl
  current = statusFor(SCENARIOS['seed-legacy-titanic5.txt']!)
  const entries = parseTranscript(await readFile(join(REPO, 'test', 'fixtures', 'vectors', 'cl_status', 'seed-legacy-titanic5.txt'), 'utf8'))
  for (const e of entries) {
    const r = await run(CL_STATUS, e.args, env)
    t.equal(normaliseLog(r.stdout + r.stderr), normaliseLog(e.output.replaceAll(REAL_HBVERSION, hbVersionString())), `cl_status ${e.args.join(' ')}`)
    t.equal(r.exitCode, e.exitCode, `cl_status ${e.args.join(' ')} exit`)
  }
  const viaHbctl = await run(HBCTL, ['cl_status', 'nodestatus', T6], env)
  t.same([viaHbctl.stdout, viaHbctl.exitCode], ['active\n', 0], 'hbctl cl_status')
  const logged = await run(CL_STATUS, ['hblinkstatus', T6, 'eth1'], env)
  t.match(logged.stderr, /^[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d \S+ cl_status: \[\d+\]: ERROR: Cannot get heartbeat link status$/m)

  await server.close()
  const down = await run(HBCTL, ['status'], env)
  t.equal(down.exitCode, 3, 'hbctl status without a daemon: 3')
  t.match(down.stderr, 'heartbeat is not running')
  t.same([(await run(CL_STATUS, ['hbstatus'], env)).stdout, (await run(CL_STATUS, ['hbstatus'], env)).exitCode], ['Heartbeat is stopped on this machine.\n', 1])
  const signon = await run(CL_STATUS, ['rscstatus'], env)
  t.equal(signon.exitCode, 1)
  t.match(signon.stderr, 'ERROR: Cannot signon with heartbeat')
  t.equal((await run(CL_STATUS, ['bogus'], env)).exitCode, 11)
})
