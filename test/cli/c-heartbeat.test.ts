// Issue 13 item 5, against the real daemon: a node where the C heartbeat 3.0.6 runs (a migration under
// way, a rollback done) while heartbeat-ts is installed. Our cl_status (ahead of /usr/bin/cl_status on
// PATH) must answer exactly as the real one, because it hands the call over; hbctl status and heartbeat
// status say what runs; heartbeat start refuses to start a second daemon. Then the C daemon stops and
// heartbeat-ts starts on the same node: our cl_status answers itself again.

import t from 'tap'
import { createKit, distFile, gate, realHeartbeatAvailability, waitFor, REAL_HEARTBEAT, type ExecResult, type Host } from '../netns/kit.js'
import { SEED_ADDRESS, SEED_NODENAME, installSeedConfig } from '../netns/seed-node.js'
import { startTsNode } from '../netns/ts-node.js'

const T6 = SEED_NODENAME.titanic6

async function ours(host: Host, file: string, args: readonly string[]): Promise<ExecResult> {
  const js = await distFile(file)
  return host.exec([process.execPath, js, ...args], { env: { NO_COLOR: '1' }, timeoutMs: 40_000 })
}

/** cl_log's stderr prefix carries time, host and pid: not compared. */
function normalise(r: ExecResult): ExecResult {
  return { ...r, stderr: r.stderr.replace(/^[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d \S+ cl_status: \[\d+\]: /gm, '<log> ') }
}

/** What monitoring scripts ask, plus help and a bad sub-command. */
const QUESTIONS: readonly string[][] = [
  ['hbstatus'],
  ['hbstatus', '-v'],
  ['listnodes'],
  ['nodestatus', T6],
  ['nodestatus', SEED_NODENAME.titanic5],
  ['rscstatus'],
  ['hbparameter', '-p', 'hbversion'],
  ['hbparameter', '-p', 'deadtime'],
  ['-h'],
  ['nosuchcommand'],
]

t.test('the C heartbeat runs: cl_status hands over, hbctl and heartbeat say so', async (t) => {
  if (!gate(t, await realHeartbeatAvailability())) return
  const kit = await createKit('hbcdet')
  t.teardown(() => kit.destroy())
  const host = await kit.addHost({ name: 't6', address: SEED_ADDRESS.titanic6, hostname: T6 })
  await installSeedConfig(host, 'titanic6', { auth: 'sha1' })

  // Nothing runs yet: both cl_status say stopped, in the same words.
  const before = normalise(await ours(host, 'lib/cli/cl-status.js', ['hbstatus']))
  t.same(before, normalise(await host.clStatus(['hbstatus'])), 'nothing running: our cl_status hbstatus = the real one')
  t.equal((await ours(host, 'lib/cli/hbctl.js', ['status'])).exitCode, 3, 'hbctl status: not running (3)')

  const started = await host.startRealHeartbeat()
  t.equal(started.exitCode, 0, `the real heartbeat started${started.exitCode === 0 ? "" : `: ${started.stderr}`}`)
  await waitFor('the real cl_status sees its daemon', async () => ((await host.clStatus(['hbstatus'])).exitCode === 0 ? true : undefined), 30_000, 250)
  const pid = Number((await host.readFile('run/heartbeat.pid')).toString('latin1').trim())
  t.ok(pid > 0, `the C daemon wrote /var/run/heartbeat.pid (${pid})`)

  for (const args of QUESTIONS) {
    const theirs = normalise(await host.clStatus(args))
    const mine = normalise(await ours(host, 'lib/cli/cl-status.js', args))
    t.same(mine, theirs, `cl_status ${args.join(' ')}: same stdout, stderr and exit (${JSON.stringify(theirs.stdout.split('\n')[0])}, exit ${theirs.exitCode})`)
  }
  // Only the real one prints its own build: proof that the answer came from it.
  const version = await ours(host, 'lib/cli/cl-status.js', ['hbparameter', '-p', 'hbversion'])
  t.notMatch(version.stdout, /heartbeat-ts/, 'hbversion is the C build, not ours')
  const viaHbctl = normalise(await ours(host, 'lib/cli/hbctl.js', ['cl_status', 'hbstatus']))
  t.same(viaHbctl, normalise(await host.clStatus(['hbstatus'])), 'hbctl cl_status hands over too')

  const status = await ours(host, 'lib/cli/hbctl.js', ['status'])
  t.equal(status.exitCode, 5, 'hbctl status: exit 5, the C heartbeat runs')
  t.match(status.stdout, `heartbeat-ts is not running on this node; the C heartbeat (pid ${pid}, ${REAL_HEARTBEAT}) is.`)
  t.notMatch(status.stdout + status.stderr, /not running \(no one listens/, 'not the plain "not running" message')
  const json = await ours(host, 'lib/cli/hbctl.js', ['status', '--json'])
  t.equal(json.exitCode, 5)
  t.equal(json.stdout, '', '--json: nothing on stdout that a script could take for a snapshot')
  t.match(json.stderr, 'the C heartbeat')

  for (const sub of ['nodes', 'metrics', 'reload', 'standby']) {
    const r = await ours(host, 'lib/cli/hbctl.js', [sub])
    t.equal(r.exitCode, 5, `hbctl ${sub}: exit 5`)
    t.match(r.stderr, `hbctl ${sub}: heartbeat-ts is not running on this node; the C heartbeat (pid ${pid}`)
  }
  const s = await ours(host, 'lib/cli/heartbeat.js', ['status'])
  t.match(s.stdout, `heartbeat OK [pid ${pid} et al] is running on`, 'heartbeat status: running, as the C init script says')
  t.equal(s.exitCode, 0)
  const start = await ours(host, 'lib/cli/heartbeat.js', ['start'])
  t.equal(start.exitCode, 1, 'heartbeat start refuses a second daemon on the node')
  t.match(start.stdout, `the C heartbeat (pid ${pid}, ${REAL_HEARTBEAT}) is running; stop it before starting heartbeat-ts`)
  const fg = await ours(host, 'lib/cli/heartbeat.js', ['-f'])
  t.equal(fg.exitCode, 1, 'heartbeat -f refuses too')
  t.equal((await host.clStatus(['hbstatus'])).exitCode, 0, 'the C daemon still runs')

  // The C daemon stops; heartbeat-ts starts on the same node and answers for itself.
  const k = await host.exec([REAL_HEARTBEAT, '-k'], { timeoutMs: 60_000 })
  t.equal(k.exitCode, 0, 'the C heartbeat stopped')
  await waitFor('the C daemon gone', async () => ((await host.clStatus(['hbstatus'])).exitCode !== 0 ? true : undefined), 30_000, 250)
  t.equal((await ours(host, 'lib/cli/hbctl.js', ['status'])).exitCode, 3, 'hbctl status: not running (3) again')
  const ts = await startTsNode(host)
  await ts.waitFor(/./, 20_000)
  await waitFor('heartbeat-ts answers', async () => ((await ours(host, 'lib/cli/hbctl.js', ['status'])).exitCode === 0 ? true : undefined), 30_000, 250)
  const tsVersion = await ours(host, 'lib/cli/cl-status.js', ['hbparameter', '-p', 'hbversion'])
  t.match(tsVersion.stdout, /heartbeat-ts/, 'cl_status answers from heartbeat-ts itself now')
  t.equal((await ours(host, 'lib/cli/cl-status.js', ['hbstatus'])).exitCode, 0)
})
