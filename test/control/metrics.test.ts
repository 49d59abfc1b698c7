// hbctl metrics: the daemon's counters over the control socket, in a Prometheus text exposition
// a scraper accepts (every sample in a declared family, labels quoted, values numbers).
import t from 'tap'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startControlServer } from '../../lib/io/control-socket.js'
import { formatMetrics, type MetricsInput } from '../../lib/control/metrics-format.js'
import { REPO, requireBuilt, run } from '../cli/heartbeat-kit.js'

const HBCTL = join(REPO, 'dist', 'lib', 'cli', 'hbctl.js')

const input: MetricsInput = {
  node: 'titanic6.etri.re.kr',
  membership: {
    received: 120,
    delivered: 60,
    duplicates: 55,
    dropped: { malformed: 0, 'unknown-node': 2, replay: 1, 'old-seq': 0, 'stale-status': 0, 'not-for-us': 0, 'dead-node': 0, 'stale-control': 0 },
    lostPackets: 3,
    recovered: 3,
    rexmitRequestsSent: 2,
    retransmissions: 4,
    naksSent: 0,
    naksReceived: 0,
    acksSent: 9,
    beforeCommUp: 0,
    statusCopiesSent: 0,
    lossSignals: 1,
  },
  badPackets: new Map([
    ['bad-auth', 7],
    ['bad "odd" reason', 1],
  ]),
  sendErrors: 0,
  core: { nodeDeaths: 1, linkDown: 1, linkUp: 2, takeovers: 2, releases: 1, agentRuns: { 'start ok': 3, 'stop failed': 1 }, agentDurationMs: { start: 1500, stop: 250 } },
  nodesUp: 1,
  linksUp: 1,
  journalDropped: 0,
}

/** A strict reader of the text format: families → samples, or the first line it refuses. */
function parseExposition(text: string): Map<string, { type: string; samples: Array<{ labels: Record<string, string>; value: number }> }> {
  const families = new Map<string, { type: string; samples: Array<{ labels: Record<string, string>; value: number }> }>()
  if (!text.endsWith('\n')) throw new Error('no final newline')
  for (const line of text.slice(0, -1).split('\n')) {
    const type = /^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram|summary|untyped)$/.exec(line)
    if (type?.[1] !== undefined && type[2] !== undefined) {
      if (families.has(type[1])) throw new Error(`TYPE twice: ${type[1]}`)
      families.set(type[1], { type: type[2], samples: [] })
      continue
    }
    if (/^# HELP [a-zA-Z_:][a-zA-Z0-9_:]* .+$/.test(line)) continue
    const s = /^([a-zA-Z_:][a-zA-Z0-9_:]*)\{((?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*",?)*)\} (-?[0-9.e+]+|NaN)$/.exec(line)
    if (s?.[1] === undefined) throw new Error(`bad line ${JSON.stringify(line)}`)
    const fam = families.get(s[1])
    if (fam === undefined) throw new Error(`sample before its TYPE: ${s[1]}`)
    const labels: Record<string, string> = {}
    for (const m of (s[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[m[1] ?? ''] = (m[2] ?? '').replace(/\\(.)/g, (_x, c: string) => (c === 'n' ? '\n' : c))
    fam.samples.push({ labels, value: Number(s[3]) })
  }
  return families
}

t.test('the exposition parses and holds the counters', async (t) => {
  const fams = parseExposition(formatMetrics(input))
  for (const [name, f] of fams) if (f.type === 'counter') t.ok(name.endsWith('_total'), `${name}: a counter ends in _total`)
  t.same(fams.get('heartbeat_packets_received_total')?.samples, [{ labels: { node: input.node }, value: 120 }])
  t.same(
    fams.get('heartbeat_bad_packets_total')?.samples.map((s) => [s.labels.reason, s.value]),
    [
      ['bad-auth', 7],
      ['bad "odd" reason', 1],
    ],
    'bad packets by reason, a quote escaped',
  )
  t.equal(fams.get('heartbeat_retransmissions_total')?.samples[0]?.value, 4)
  t.same(
    fams.get('heartbeat_link_transitions_total')?.samples.map((s) => s.value),
    [1, 2],
    'link flaps',
  )
  t.same(
    fams.get('heartbeat_agent_runs_total')?.samples.map((s) => s.labels),
    [
      { node: input.node, op: 'start', outcome: 'ok' },
      { node: input.node, op: 'stop', outcome: 'failed' },
    ],
  )
  t.equal(fams.get('heartbeat_agent_duration_seconds_total')?.samples[0]?.value, 1.5, 'durations in seconds')
  t.equal(fams.get('heartbeat_takeovers_total')?.samples[0]?.value, 2)
  t.equal(fams.get('heartbeat_nodes_up')?.type, 'gauge')
})

t.test('hbctl metrics asks the daemon over the control socket', async (t) => {
  requireBuilt(HBCTL)
  const dir = await mkdtemp(join(tmpdir(), 'hbts-metrics-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  const server = await startControlServer(join(dir, 'run', 'hbctl.sock'), async (req) =>
    req.type === 'metrics' ? { ok: true, type: 'metrics', text: formatMetrics(input) } : { ok: false, code: 'bad-request', error: 'no' },
  )
  t.teardown(() => server.close())
  const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HBTS_RUN_DIR: join(dir, 'run') }
  const r = await run(HBCTL, ['metrics'], env)
  t.equal(r.exitCode, 0, r.stderr)
  t.equal(parseExposition(r.stdout).get('heartbeat_node_deaths_total')?.samples[0]?.value, 1)
  const usage = await run(HBCTL, ['metrics', 'extra'], env)
  t.equal(usage.exitCode, 2)
})
