// Issue 11 "Reload is transactional": the real daemon (runDaemon, in this process) on the loopback
// interface with one node and a script resource. A reload to an ha.cf the new life cannot use is
// refused before the running life changes anything: the node keeps running and holding.
import t from 'tap'
import { chmod, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { PassThrough } from 'node:stream'
import { runDaemon } from '../../lib/daemon/run.js'
import { JOURNAL_NAME, readJournal } from '../../lib/io/event-journal.js'
import { controlSocketPath, type DaemonPaths } from '../../lib/config/paths.js'
import { controlRequest } from '../../lib/io/control-socket.js'

const ME = 'alpha'

const DUMMY = `#!/bin/sh
f="$HA_DIR/dummy.state"
case "$1" in
  start) echo running > "$f" ;;
  stop) rm -f "$f" ;;
  status) if [ -f "$f" ]; then echo running; else echo stopped; fi ;;
esac
exit 0
`

function haCf(port: number, extra = ''): string {
  return `logfacility none\nlogfile /dev/null\nkeepalive 1\ndeadtime 5\ninitdead 10\nudpport ${port}\nucast lo 127.0.0.2\nauto_failback legacy\nnode ${ME}\n${extra}`
}

interface Daemon {
  paths: DaemonPaths
  /** Every log line so far. */
  text(): string
  /** Resolves when the log has a line matching `re` (after `from` characters). */
  waitFor(re: RegExp, from?: number): Promise<void>
  stop(): void
  exited: Promise<number>
}

async function startDaemon(t: { teardown(fn: () => unknown): void }, port: number): Promise<Daemon> {
  const dir = await mkdtemp(join(tmpdir(), 'hbts-reload-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  const paths: DaemonPaths = { haDir: join(dir, 'ha.d'), stateDir: join(dir, 'state'), runDir: join(dir, 'run'), pidFile: join(dir, 'pid'), monCf: join(dir, 'mon.cf') }
  await mkdir(join(paths.haDir, 'resource.d'), { recursive: true })
  await mkdir(paths.stateDir, { mode: 0o700 })
  await mkdir(paths.runDir, { mode: 0o700 })
  await writeFile(join(paths.haDir, 'ha.cf'), haCf(port))
  await writeFile(join(paths.haDir, 'authkeys'), 'auth 1\n1 sha1 reload-test\n', { mode: 0o600 })
  await writeFile(join(paths.haDir, 'haresources'), `${ME} Dummy\n`)
  await writeFile(join(paths.haDir, 'resource.d', 'Dummy'), DUMMY)
  await chmod(join(paths.haDir, 'resource.d', 'Dummy'), 0o755)
  const echo = new PassThrough()
  let log = ''
  const waiters: Array<() => void> = []
  echo.on('data', (b: Buffer) => {
    log += b.toString()
    for (const w of waiters.splice(0)) w()
  })
  let stop: () => void = () => undefined
  const stopSignal = new Promise<void>((r) => (stop = r))
  const exited = runDaemon({ paths, nodeName: ME, foreground: true, debugLevel: 0, echo, stopSignal, env: { PATH: process.env.PATH } })
  const waitFor = async (re: RegExp, from = 0): Promise<void> => {
    for (;;) {
      if (re.test(log.slice(from))) return
      const outcome = await Promise.race([new Promise<'line'>((r) => waiters.push(() => r('line'))), exited.then(() => 'exited' as const)])
      if (outcome === 'exited' && !re.test(log.slice(from))) throw new Error(`daemon exited before ${re}; log:\n${log}`)
    }
  }
  return { paths, text: () => log, waitFor, stop, exited }
}

const held = async (paths: DaemonPaths): Promise<boolean> =>
  readFile(join(paths.haDir, 'dummy.state'), 'utf8').then(
    () => true,
    () => false,
  )

t.test('reload to an ha.cf naming an interface that does not exist: refused, the node runs on holding its resource', async (t) => {
  const d = await startDaemon(t, 47_001)
  await d.waitFor(/Dummy start: ok/)
  t.ok(await held(d.paths), 'the resource is up')
  const gen = (await readFile(join(d.paths.stateDir, 'hb_generation'), 'latin1')).trim()
  const metrics = await controlRequest(controlSocketPath(d.paths), { type: 'metrics' })
  t.match(metrics.ok && metrics.type === 'metrics' ? metrics.text : '', /^heartbeat_agent_runs_total\{node="[^"]+",op="start",outcome="ok"\} 1$/m, 'hbctl metrics counts the agent run')

  await writeFile(join(d.paths.haDir, 'ha.cf'), haCf(47_001, 'mcast nosuch0 239.0.0.42 47001 1 0\n'))
  const mark = d.text().length
  const reply = await controlRequest(controlSocketPath(d.paths), { type: 'reload' })
  t.equal(reply.ok, false, 'hbctl reload reports the failure')
  t.match(reply.ok ? '' : reply.error, /nosuch0/, 'and says which interface')
  t.match(d.text().slice(mark), /Reload refused, running on unchanged: .*nosuch0/, 'the log says why')
  t.notMatch(d.text().slice(mark), /Restarting heartbeat/, 'no restart was begun')

  // Still the same life: it answers status and holds the resource.
  const status = await controlRequest(controlSocketPath(d.paths), { type: 'status' })
  t.equal(status.ok, true, 'the daemon still answers')
  t.ok(await held(d.paths), 'the resource is still up')
  t.not(gen, '', 'a generation was written at start')

  // A good ha.cf afterwards restarts in-process keeping the resource.
  await writeFile(join(d.paths.haDir, 'ha.cf'), haCf(47_001, 'warntime 3\n'))
  const mark2 = d.text().length
  const ok = await controlRequest(controlSocketPath(d.paths), { type: 'reload' })
  t.equal(ok.ok, true, 'a reload to a usable ha.cf is accepted')
  await d.waitFor(/UDP heartbeat started/, mark2)
  t.notMatch(d.text().slice(mark2), /Dummy stop/, 'the resource was not stopped by the restart')
  t.ok(await held(d.paths), 'the resource is still up after the restart')


  d.stop()
  t.equal(await d.exited, 0, 'a stop afterwards exits 0')
  t.notOk(await held(d.paths), 'and releases the resource')
  t.ok((await stat(join(d.paths.stateDir, 'hb_generation'))).isFile())
  // the event history survived the in-process restart and says what happened
  const kinds = (await readJournal(join(d.paths.stateDir, JOURNAL_NAME))).map((r) => `${r.kind}${r.kind === 'reload' ? ` ${String(r.outcome)}` : r.kind === 'group' ? ` ${String(r.to)} ${String(r.cause)}` : ''}`)
  t.ok(kinds.includes('group starting start-up'), 'the start-up takeover')
  t.ok(kinds.includes('reload refused') && kinds.includes('reload restart'), 'both reload outcomes')
  t.equal(kinds[kinds.length - 1], 'shutdown', 'the exit last')
})
