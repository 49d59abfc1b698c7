// ha.cf watchdog (issue 12, item 4): a FIFO stands in for the device. Each heartbeat this node sends
// writes one byte; a clean stop writes the magic close 'V'; a stalled daemon writes nothing.
import t from 'tap'
import { closeSync, constants, mkdirSync, openSync, readSync, symlinkSync, writeFileSync } from 'node:fs'
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { execFileSync } from 'node:child_process'
import { join } from 'node:path'
import { PassThrough } from 'node:stream'
import { openWatchdog } from '../../lib/io/watchdog.js'
import { runDaemon } from '../../lib/daemon/run.js'
import type { DaemonPaths } from '../../lib/config/paths.js'

/** A FIFO with its read end open (non-blocking), so the daemon's non-blocking open finds a reader. */
function standIn(dir: string): { path: string; take: () => string; close: () => void } {
  const path = join(dir, 'watchdog')
  execFileSync('mkfifo', [path])
  const fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK)
  const take = (): string => {
    let out = ''
    const buf = Buffer.alloc(4096)
    for (;;) {
      let n = 0
      try {
        n = readSync(fd, buf, 0, buf.length, null)
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'EAGAIN') return out
        throw err
      }
      if (n === 0) return out
      out += buf.subarray(0, n).toString('latin1')
    }
  }
  return { path, take, close: () => closeSync(fd) }
}

t.test('one byte per feed, the magic close on a clean stop only', async (t) => {
  const dir = t.testdir()
  const dev = standIn(dir)
  t.teardown(dev.close)
  const dog = await openWatchdog(dev.path)
  dog.feed()
  dog.feed()
  dog.feed()
  t.equal(dev.take(), '\0\0\0', 'three feeds, three bytes')
  t.equal(dog.fed, 3)
  await dog.close(true)
  t.equal(dev.take(), 'V', 'clean stop: the magic close disarms the driver')
  dog.feed()
  t.equal(dev.take(), '', 'nothing after close')

  const again = await openWatchdog(dev.path)
  again.feed()
  await again.close(false)
  t.equal(dev.take(), '\0', 'a failed stop leaves it armed: no V')
})

t.test('a regular file or a link is not a watchdog device', async (t) => {
  const dir = t.testdir()
  writeFileSync(join(dir, 'file'), '')
  await t.rejects(openWatchdog(join(dir, 'file')), /is not a device \(a regular file\)/)
  mkdirSync(join(dir, 'real'))
  const dev = standIn(join(dir, 'real'))
  t.teardown(dev.close)
  symlinkSync(dev.path, join(dir, 'link'))
  await t.rejects(openWatchdog(join(dir, 'link')), /it is a symbolic link/)
  await t.rejects(openWatchdog(join(dir, 'missing')), /cannot open watchdog device .*ENOENT/)
})

const ME = 'alpha'
const DUMMY = '#!/bin/sh\nexit 0\n'

/** Resolves once `check` holds; polls on a short timer (the FIFO has no event to wait on). */
async function until(check: () => boolean): Promise<void> {
  while (!check()) await new Promise((r) => setTimeout(r, 20))
}

t.test('the daemon feeds it with each heartbeat, stops when stalled, disarms it on a clean stop', async (t) => {
  // a short path: the control socket's name must fit sockaddr_un
  const dir = await mkdtemp(join(tmpdir(), 'hbts-wd-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  const dev = standIn(dir)
  t.teardown(dev.close)
  const paths: DaemonPaths = { haDir: join(dir, 'ha.d'), stateDir: join(dir, 'state'), runDir: join(dir, 'run'), pidFile: join(dir, 'pid'), monCf: join(dir, 'mon.cf') }
  await mkdir(join(paths.haDir, 'resource.d'), { recursive: true })
  await mkdir(paths.stateDir, { mode: 0o700 })
  await mkdir(paths.runDir, { mode: 0o700 })
  await writeFile(join(paths.haDir, 'ha.cf'), `logfile /dev/null\nkeepalive 1\ndeadtime 5\ninitdead 10\nudpport 47011\nucast lo 127.0.0.2\nauto_failback legacy\nwatchdog ${dev.path}\nnode ${ME}\n`)
  await writeFile(join(paths.haDir, 'authkeys'), 'auth 1\n1 sha1 watchdog-test\n', { mode: 0o600 })
  await writeFile(join(paths.haDir, 'haresources'), `${ME} Dummy\n`)
  await writeFile(join(paths.haDir, 'resource.d', 'Dummy'), DUMMY)
  await chmod(join(paths.haDir, 'resource.d', 'Dummy'), 0o755)
  // one status per keepalive, no copies: one byte per heartbeat
  await writeFile(join(paths.haDir, 'heartbeat-ts.conf'), '[membership]\nstatus_copies = 1\n')
  const echo = new PassThrough()
  let log = ''
  echo.on('data', (b: Buffer) => (log += b.toString()))
  let stop: () => void = () => undefined
  const stopSignal = new Promise<void>((r) => (stop = r))
  const exited = runDaemon({ paths, nodeName: ME, foreground: true, debugLevel: 0, echo, stopSignal, env: { PATH: process.env.PATH } })

  // the group is started before the stall, so the stop below has no resource activity to wait for
  await until(() => /Dummy start: ok/.test(log))
  let bytes = ''
  await until(() => (bytes += dev.take()).length >= 2)
  t.match(log, `Watchdog device ${dev.path} opened: fed with each heartbeat`)
  t.match(bytes, /^\0+$/, 'heartbeats feed it, one NUL each')

  // A stalled daemon: its event loop blocked for longer than a keepalive (not as long as warntime).
  // Nothing feeds the device meanwhile: no timer or thread of its own keeps feeding a hung daemon.
  dev.take()
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1500)
  t.equal(dev.take(), '', 'stalled: not fed')
  await until(() => dev.take().length > 0)
  t.pass('running again: fed again')

  stop()
  t.equal(await exited, 0)
  t.match(dev.take(), /V$/, 'a clean stop ends with the magic close')
})
