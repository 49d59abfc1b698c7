// The [notify] hook: the event as arguments and HBTS_EVENT_* variables, killed at its timeout,
// never waited for (a slow hook holds up neither the caller nor the next event's hook), and bounded.
import t from 'tap'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { NotifyRunner, type NotifyResult } from '../../lib/io/notify-runner.js'

const groupEvent = { time: '2026-12-02T05:00:00.000Z', host: 'titanic6', kind: 'group', group: '10.0.0.1', from: 'stopped', to: 'starting', cause: 'peer-dead', text: 'titanic5 dead' }

t.test('the hook gets the event as arguments and environment', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'hbts-notify-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  const out = join(dir, 'out')
  let resolveDone: (r: NotifyResult) => void = () => undefined
  const done = new Promise<NotifyResult>((r) => (resolveDone = r))
  const n = new NotifyRunner({
    command: ['/bin/sh', '-c', 'echo "$@" > "$OUT"; echo "$HBTS_EVENT_KIND $HBTS_EVENT_CAUSE $HBTS_EVENT_GROUP" >> "$OUT"', 'hook'],
    timeoutMs: 10_000,
    maxRunning: 2,
    env: { PATH: '/usr/bin:/bin', OUT: out },
    onDone: resolveDone,
  })
  n.notify(groupEvent)
  t.match(await done, { outcome: 'ok', exitCode: 0 })
  t.equal(
    await readFile(out, 'utf8'),
    'time=2026-12-02T05:00:00.000Z host=titanic6 group group=10.0.0.1 from=stopped to=starting cause=peer-dead text=titanic5 dead\ngroup peer-dead 10.0.0.1\n',
  )
})

t.test('a hook past its timeout is killed; a slow hook does not hold up the next one', async (t) => {
  const finished: NotifyResult[] = []
  let onAll: () => void = () => undefined
  const all = new Promise<void>((r) => (onAll = r))
  const n = new NotifyRunner({
    // the first event's hook sleeps far past its timeout; the second exits at once
    command: ['/bin/sh', '-c', 'case "$HBTS_EVENT_NODE" in slow) exec sleep 60;; esac; exit 3', 'hook'],
    timeoutMs: 300,
    maxRunning: 2,
    env: { PATH: '/usr/bin:/bin' },
    onDone: (r) => {
      finished.push(r)
      if (finished.length === 3) onAll()
    },
  })
  n.notify({ ...groupEvent, node: 'slow' })
  t.equal(n.active, 1, 'notify returned while the hook runs: the caller never waits')
  n.notify({ ...groupEvent, node: 'fast' })
  t.equal(n.active, 2, 'the next event starts its hook beside the slow one')
  n.notify({ ...groupEvent, node: 'third' })
  t.equal(n.skipped, 1, 'a third while two run is skipped and counted')
  t.match(finished[0], { outcome: 'skipped' })
  await all
  t.same(
    finished.map((r) => r.outcome),
    ['skipped', 'failed', 'timeout'],
    'the fast hook (exit 3) finished before the slow one was killed at its timeout',
  )
  t.equal(finished[1]?.exitCode, 3)
  t.equal(n.active, 0)
})

t.test('only node and group state changes run the hook; no command runs nothing', async (t) => {
  const seen: NotifyResult[] = []
  const n = new NotifyRunner({ command: ['/bin/true'], timeoutMs: 1000, maxRunning: 1, onDone: (r) => seen.push(r) })
  n.notify({ kind: 'agent', op: 'status' })
  n.notify({ kind: 'request', request: 'standby' })
  t.equal(n.active, 0)
  const none = new NotifyRunner({ command: [], timeoutMs: 1000, maxRunning: 1 })
  none.notify(groupEvent)
  t.equal(none.active, 0)
})
