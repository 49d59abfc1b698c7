// Issue 11: the daemon must not depend on the directory it was started from. An admin starts heartbeat
// in some directory that is later removed (a release unpacked in /tmp, a home directory cleaned up):
// every later spawn (agents, scripts, hb-mon) then failed, because execa asks for process.cwd().
// heartbeat makes its paths absolute and changes to / at start, as hb-mon does.

import t from 'tap'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { execa } from 'execa'
import { HEARTBEAT_JS, makeNode, removeNode, requireBuilt } from './heartbeat-kit.js'

requireBuilt(HEARTBEAT_JS)

// Stand-in daemon loop: on SIGHUP it spawns a child as every agent run does (execa), and notes where it
// is, what its paths are and whether the spawn worked.
const SPAWNING_DAEMON = (execaUrl: string) => `
import { appendFileSync } from 'node:fs'
import { join } from 'node:path'
import { execa } from ${JSON.stringify(execaUrl)}
export async function runDaemon(opts) {
  const note = (line) => appendFileSync(join(opts.paths.stateDir, 'notes'), line + '\\n')
  let cwd
  try { cwd = process.cwd() } catch (e) { cwd = 'gone: ' + e.code }
  note('START cwd=' + cwd + ' stateDir=' + opts.paths.stateDir + ' haDir=' + opts.paths.haDir)
  process.on('SIGHUP', () => {
    execa(process.execPath, ['-e', '0'], { timeout: 10000 }).then(
      (r) => note('SPAWN exit=' + r.exitCode),
      (e) => note('SPAWN failed: ' + e.message.split('\\n')[0]),
    )
  })
  // Signal handlers do not keep Node alive; the real loop has its sockets.
  const keepAlive = setInterval(() => undefined, 1 << 30)
  await new Promise((r) => process.once('SIGTERM', r))
  clearInterval(keepAlive)
  return 0
}
`

/** The notes once a line matches `re` (or what there is after 400 polls, for the failure message). */
async function waitForNote(file: string, re: RegExp): Promise<string> {
  let text = ''
  for (let i = 0; i < 400; i++) {
    text = await readFile(file, 'utf8').catch(() => '')
    if (re.test(text)) return text
    await new Promise((r) => setTimeout(r, 50))
  }
  return text
}

t.test('started in a directory that is then removed, the daemon still spawns', async (t) => {
  const node = await makeNode('keepalive 2\ndeadtime 5\n')
  t.teardown(() => removeNode(node))
  await writeFile(node.env.HBTS_TEST_DAEMON_MODULE ?? '', SPAWNING_DAEMON(import.meta.resolve('execa')))
  const startDir = await mkdtemp(join(tmpdir(), 'hbts-cwd-'))
  t.teardown(() => rm(startDir, { recursive: true, force: true }))
  const notes = join(node.stateDir, 'notes')

  const daemon = execa(process.execPath, [HEARTBEAT_JS, '-f'], { cwd: startDir, env: node.env, extendEnv: false, reject: false, timeout: 60_000 })
  t.teardown(() => {
    daemon.kill('SIGKILL')
  })
  const started = await waitForNote(notes, /^START /m)
  t.match(started, 'START cwd=/ ', 'the daemon runs in /')
  await rm(startDir, { recursive: true, force: true })

  daemon.kill('SIGHUP')
  const after = await waitForNote(notes, /^SPAWN /m)
  t.match(after, /^SPAWN exit=0$/m, 'a spawn after the start directory was removed works')
  daemon.kill('SIGTERM')
  t.equal((await daemon).exitCode, 0)
})

t.test('relative paths in the environment are made absolute before the change to /', async (t) => {
  const node = await makeNode('keepalive 2\ndeadtime 5\n')
  t.teardown(() => removeNode(node))
  await writeFile(node.env.HBTS_TEST_DAEMON_MODULE ?? '', SPAWNING_DAEMON(import.meta.resolve('execa')))
  const env = { ...node.env, HBTS_STATE_DIR: 'state', HBTS_HA_DIR: './ha.d' }
  const daemon = execa(process.execPath, [HEARTBEAT_JS, '-f'], { cwd: node.dir, env, extendEnv: false, reject: false, timeout: 60_000 })
  t.teardown(() => {
    daemon.kill('SIGKILL')
  })
  const started = await waitForNote(join(node.stateDir, 'notes'), /^START /m)
  t.match(started, `stateDir=${join(node.dir, 'state')} haDir=${join(node.dir, 'ha.d')}`)
  daemon.kill('SIGTERM')
  await daemon
})

t.test('a start from a directory that is already gone says so instead of failing later', async (t) => {
  const node = await makeNode('keepalive 2\ndeadtime 5\n')
  t.teardown(() => removeNode(node))
  // A shell whose directory was removed under it runs heartbeat with a relative path.
  const gone = await mkdtemp(join(tmpdir(), 'hbts-gone-'))
  // tap's process-info loader (NODE_OPTIONS) asks for the working directory itself: not what an admin runs.
  const script = `unset NODE_OPTIONS; cd ${JSON.stringify(gone)} && rmdir ${JSON.stringify(gone)} && exec ${JSON.stringify(process.execPath)} ${JSON.stringify(HEARTBEAT_JS)} -s`
  const env = { ...node.env, HBTS_PIDFILE: 'heartbeat.pid' }
  const r = await execa('sh', ['-c', script], { env, extendEnv: false, reject: false, timeout: 60_000 })
  t.equal(r.exitCode, 1, 'a failure, not a crash')
  t.match(r.stderr, /working directory is gone/)
  t.notMatch(r.stderr, /at .*\(node:/, 'no stack trace')
})
