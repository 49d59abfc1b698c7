// The event journal: appended in order without waiting, bounded by rotation (one old file), read
// back across the rotation, --since by duration or time; and hbctl events printing it.
import t from 'tap'
import { mkdtemp, rm, stat, readFile, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { EventJournal, JOURNAL_NAME, parseSince, readJournal } from '../../lib/io/event-journal.js'
import { formatEvent } from '../../lib/cli/hbctl-events.js'
import { REPO, requireBuilt, run } from '../cli/heartbeat-kit.js'

const HBCTL = join(REPO, 'dist', 'lib', 'cli', 'hbctl.js')
const T0 = Date.parse('2026-12-02T05:00:00.000Z')
const at = (s: number): string => new Date(T0 + s * 1000).toISOString()

t.test('rotation keeps the journal bounded and the newest events readable', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'hbts-journal-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  const path = join(dir, JOURNAL_NAME)
  const j = new EventJournal({ path, maxBytes: 2000 })
  for (let i = 0; i < 100; i++) j.append({ time: at(i), host: 'titanic6', kind: 'request', request: 'standby', by: `n${i}` })
  await j.flush()
  t.ok((await stat(path)).size <= 2000, 'current file within its bound')
  t.ok((await stat(`${path}.1`)).size <= 2000, 'one old file within its bound')
  const all = await readJournal(path)
  t.ok(all.length < 100 && all.length > 10, 'the oldest lines were rotated away')
  t.equal(all[all.length - 1]?.by, 'n99', 'the newest is last')
  const bys = all.map((r) => Number(String(r.by).slice(1)))
  t.same(bys, [...bys].sort((a, b) => a - b), 'in the order written, across the rotation')
  const since = await readJournal(path, T0 + 95_000)
  t.same(
    since.map((r) => r.by),
    ['n95', 'n96', 'n97', 'n98', 'n99'],
    '--since keeps the later ones',
  )
})

t.test('append never waits and a full queue drops and counts', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'hbts-journal-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  const j = new EventJournal({ path: join(dir, JOURNAL_NAME), maxPending: 3 })
  // the first line starts the write; the queue then holds 3 more
  for (let i = 0; i < 10; i++) j.append({ time: at(i), host: 'a', kind: 'shutdown', text: String(i) })
  t.equal(j.dropped, 6, 'six dropped and counted')
  await j.flush()
  t.equal((await readJournal(join(dir, JOURNAL_NAME))).length, 4)
})

t.test('a link planted as the journal is not written through', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'hbts-journal-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  await writeFile(join(dir, 'victim'), 'keep\n')
  await symlink(join(dir, 'victim'), join(dir, JOURNAL_NAME))
  const errors: string[] = []
  const j = new EventJournal({ path: join(dir, JOURNAL_NAME), onError: (e) => errors.push(e.message) })
  j.append({ time: at(0), host: 'a', kind: 'shutdown', text: 'x' })
  await j.flush()
  t.equal(await readFile(join(dir, 'victim'), 'utf8'), 'keep\n', 'the target is untouched')
  t.equal(errors.length, 1, 'the failure is reported')
})

t.test('--since: durations and times', async (t) => {
  t.equal(parseSince('10m', T0), T0 - 600_000)
  t.equal(parseSince('90s', T0), T0 - 90_000)
  t.equal(parseSince('2h', T0), T0 - 7_200_000)
  t.equal(parseSince('2026-12-02T04:00:00Z', T0), T0 - 3_600_000)
  t.equal(parseSince('yesterday-ish', T0), undefined)
})

t.test('formatEvent says why', async (t) => {
  t.equal(
    formatEvent({ time: at(0), host: 'titanic6', kind: 'node-dead', node: 'titanic5', silentMs: 5003, deadtimeMs: 5000, links: [{ link: 'eth0', silentMs: 5003 }] }),
    '2026-12-02 05:00:00Z titanic6 node titanic5 dead: no status for 5.0 s (deadtime 5.0 s); eth0 silent 5.0 s',
  )
  t.equal(
    formatEvent({ time: at(1), host: 'titanic6', kind: 'group', group: '10.0.0.1', from: 'stopped', to: 'starting', cause: 'peer-dead', text: 'titanic5 dead' }),
    '2026-12-02 05:00:01Z titanic6 group 10.0.0.1 stopped -> starting: peer-dead (titanic5 dead)',
  )
  t.equal(
    formatEvent({ time: at(2), host: 'titanic6', kind: 'stonith', node: 'titanic5', device: 'null', attempt: 1, outcome: 'started' }),
    '2026-12-02 05:00:02Z titanic6 reset titanic5 with null: started (attempt 1)',
  )
  t.equal(
    formatEvent({ time: at(3), host: 'titanic6', kind: 'stonith', node: 'titanic5', device: 'external/ipmi', attempt: 1, outcome: 'bad', durationMs: 1200, detail: 'exit 1\nipmitool: timeout' }),
    '2026-12-02 05:00:03Z titanic6 reset titanic5 with external/ipmi: FAILED (bad) (attempt 1 in 1.2 s): exit 1 | ipmitool: timeout',
    'a failed reset says so loudly, with what the device said',
  )
  t.equal(
    formatEvent({ time: at(9), host: 'titanic6', kind: 'stonith', node: 'titanic5', device: 'null', attempt: 2, outcome: 'ok', durationMs: 1000 }),
    '2026-12-02 05:00:09Z titanic6 reset titanic5 with null: ok (attempt 2 in 1.0 s)',
  )
})

t.test('hbctl events: text, --json, --since, usage errors', async (t) => {
  requireBuilt(HBCTL)
  const dir = await mkdtemp(join(tmpdir(), 'hbts-events-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  const now = Date.now()
  const lines = [
    { time: new Date(now - 3_600_000).toISOString(), host: 't6', kind: 'request', request: 'standby', by: 't5' },
    { time: new Date(now - 60_000).toISOString(), host: 't6', kind: 'group', group: 'vip', from: 'stopped', to: 'starting', cause: 'peer-dead', text: 't5 dead' },
  ]
  await writeFile(join(dir, JOURNAL_NAME), lines.map((l) => JSON.stringify(l)).join('\n') + '\nnot json\n')
  const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HBTS_STATE_DIR: dir }
  const all = await run(HBCTL, ['events'], env)
  t.equal(all.exitCode, 0)
  t.match(all.stdout, /standby requested by t5\n.*group vip stopped -> starting: peer-dead \(t5 dead\)\n$/)
  const recent = await run(HBCTL, ['events', '--since', '10m', '--json'], env)
  t.same(
    recent.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as unknown),
    [lines[1]],
  )
  const bad = await run(HBCTL, ['events', '--since', 'soon'], env)
  t.equal(bad.exitCode, 2, 'a bad --since is a usage error')
  t.match(bad.stderr, /--since "soon"/)
  const help = await run(HBCTL, ['events', '--help'], env)
  t.equal(help.exitCode, 0)
  t.match(help.stdout, /usage: hbctl events/)
})
