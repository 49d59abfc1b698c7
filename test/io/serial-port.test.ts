// The serial medium on a pty pair (socat as the null-modem cable): frames cross whole, the line is
// set up as 3.0.6 sets it (CR dropped and the 8th bit stripped on input), the UUCP lock is taken,
// refused to a second opener and released, noise is counted not thrown, and a line that goes away
// and comes back is opened again.

import t, { type Test } from 'tap'
import { access, mkdir, mkdtemp, open, readFile, rm, writeFile } from 'node:fs/promises'
import { constants } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { execa } from 'execa'
import { openSerialPort, type SerialEvents, type SerialPort } from '../../lib/io/serial-port.js'
import { lockPath } from '../../lib/io/tty-lock.js'
import { gate, waitFor } from '../netns/kit.js'
import { ptyPair, socatAvailability, type PtyPair } from '../support/pty-pair.js'

interface Seen {
  frames: Buffer[]
  bad: string[]
  errors: string[]
  events: SerialEvents
}

function seen(): Seen {
  const s: Seen = {
    frames: [],
    bad: [],
    errors: [],
    events: {
      onFrame: (_link, bytes) => s.frames.push(bytes),
      onBadFrame: (_link, reason) => s.bad.push(reason),
      onError: (link, err) => s.errors.push(`${link}: ${err.message}`),
    },
  }
  return s
}

async function setup(t: Test): Promise<{ dir: string; lockDir: string; pair: PtyPair } | undefined> {
  if (!gate(t, await socatAvailability())) return undefined
  const dir = await mkdtemp(join(tmpdir(), 'hbts-serial-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  const lockDir = join(dir, 'lock')
  await mkdir(lockDir)
  const pair = await ptyPair(dir, (fn) => t.teardown(fn))
  return { dir, lockDir, pair }
}

async function opened(t: Test, device: string, s: Seen, lockDir: string): Promise<SerialPort> {
  const p = await openSerialPort({ kind: 'serial', device, baud: 19200 }, s.events, { lockDir, reopenMs: 100 })
  t.teardown(() => p.close())
  return p
}

const FRAME = Buffer.from('>>>\nt=status\nsrc=titanic5\n<<<\n', 'latin1')

t.test('a frame written on one end arrives whole on the other, the line set up as 3.0.6 does', async (t) => {
  const env = await setup(t)
  if (env === undefined) return
  const sa = seen()
  const sb = seen()
  const a = await opened(t, env.pair.a, sa, env.lockDir)
  await opened(t, env.pair.b, sb, env.lockDir)
  a.send(FRAME)
  await waitFor('the frame on b', async () => (sb.frames.length > 0 ? true : undefined), 10_000, 20)
  t.same(sb.frames, [FRAME], 'the frame, byte for byte')
  // serial.c: IGNCR and ISTRIP on input
  a.send(Buffer.from('>>>\r\nt=st\xe1tus\n<<<\n', 'latin1'))
  await waitFor('the second frame on b', async () => (sb.frames.length > 1 ? true : undefined), 10_000, 20)
  t.equal(sb.frames[1]?.toString('latin1'), '>>>\nt=status\n<<<\n', 'CR dropped and the 8th bit stripped on input (IGNCR, ISTRIP)')
  const settings = (await execa('stty', ['-F', env.pair.b, '-a'], { timeout: 5000 })).stdout
  t.match(settings, /speed 19200 baud/, 'the configured speed')
  for (const flag of ['cs8', 'cread', 'clocal', 'crtscts', '-parenb', 'istrip', 'igncr', '-icrnl', '-ixon', '-opost', '-icanon', '-echo', '-isig']) {
    t.match(settings, new RegExp(`(^|\\s)${flag.replace('-', '\\-')}(\\s|$)`), `stty shows ${flag}`)
  }
  t.same([...sa.errors, ...sb.errors, ...sa.bad, ...sb.bad], [], 'no errors, no bad frames')
})

t.test('the UUCP lock: pid inside, a second opener refused, a stale lock taken over, released at close', async (t) => {
  const env = await setup(t)
  if (env === undefined) return
  const path = lockPath(env.lockDir, env.pair.a)
  t.equal(path, join(env.lockDir, 'LCK..a'), 'LCK.. and the device base name')
  const p = await openSerialPort({ kind: 'serial', device: env.pair.a, baud: 19200 }, seen().events, { lockDir: env.lockDir })
  t.equal(await readFile(path, 'latin1'), `${String(process.pid).padStart(10)}\n`, 'our pid, ten columns and a newline')
  const holder = execa('sleep', ['30'], { reject: false, timeout: 60_000 })
  t.teardown(() => {
    holder.kill()
  })
  await p.close()
  await t.rejects(access(path), 'the lock is gone after close')
  await writeFile(path, `${String(holder.pid).padStart(10)}\n`)
  await t.rejects(openSerialPort({ kind: 'serial', device: env.pair.a, baud: 19200 }, seen().events, { lockDir: env.lockDir }), new RegExp(`held by pid ${holder.pid}`), 'a live holder keeps the line')
  holder.kill()
  await holder
  const again = await openSerialPort({ kind: 'serial', device: env.pair.a, baud: 19200 }, seen().events, { lockDir: env.lockDir })
  t.equal(await readFile(path, 'latin1'), `${String(process.pid).padStart(10)}\n`, 'a stale lock (its process gone) is taken over')
  await again.close()
})

t.test('a reload: the new life opens the line while the old one still has it; the lock stays until both let go', async (t) => {
  const env = await setup(t)
  if (env === undefined) return
  const path = lockPath(env.lockDir, env.pair.a)
  const old = await openSerialPort({ kind: 'serial', device: env.pair.a, baud: 19200 }, seen().events, { lockDir: env.lockDir })
  const next = await openSerialPort({ kind: 'serial', device: env.pair.a, baud: 19200 }, seen().events, { lockDir: env.lockDir })
  await old.close()
  t.equal(await readFile(path, 'latin1'), `${String(process.pid).padStart(10)}\n`, 'the old life closing leaves the lock to the new one')
  await next.close()
  await t.rejects(access(path), 'gone when the last holder closes')
})

t.test('not a tty: a regular file named as the serial port is refused', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'hbts-serial-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  await writeFile(join(dir, 'plain'), '')
  await t.rejects(openSerialPort({ kind: 'serial', device: join(dir, 'plain'), baud: 19200 }, seen().events, { lockDir: dir }), /not a char device/)
  await t.rejects(openSerialPort({ kind: 'serial', device: join(dir, 'none'), baud: 19200 }, seen().events, { lockDir: dir }), /Nonexistent serial port/)
})

t.test('noise and an over-long frame on the line are counted; the next frame still arrives', async (t) => {
  const env = await setup(t)
  if (env === undefined) return
  const sb = seen()
  await opened(t, env.pair.b, sb, env.lockDir)
  // the other end written raw, as a broken peer or line noise would
  const raw = await open(env.pair.a, constants.O_WRONLY | constants.O_NOCTTY)
  t.teardown(() => raw.close())
  const noise = Buffer.alloc(100_000)
  for (let i = 0; i < noise.length; i++) noise[i] = (i * 7919) % 251
  await raw.write(noise)
  await raw.write(Buffer.concat([Buffer.from('\n>>>\n'), Buffer.from('x=y\n'.repeat(20_000)), Buffer.from('<<<\n')]))
  await raw.write(FRAME)
  await waitFor('the good frame on b', async () => (sb.frames.length > 0 ? true : undefined), 20_000, 50)
  t.same(sb.frames, [FRAME], 'only the good frame is handed on')
  t.ok(sb.bad.some((r) => /frame longer than/.test(r)), `the over-long frame is reported dropped: ${sb.bad.join('; ')}`)
})

t.test('the cable pulled and plugged back: the line is reported lost, opened again, and frames flow', async (t) => {
  const env = await setup(t)
  if (env === undefined) return
  const sa = seen()
  const sb = seen()
  const a = await opened(t, env.pair.a, sa, env.lockDir)
  await opened(t, env.pair.b, sb, env.lockDir)
  await env.pair.cut()
  await waitFor('b to report the line lost', async () => (sb.errors.length > 0 ? true : undefined), 10_000, 20)
  t.match(sb.errors[0], /opening it again/, `reported: ${sb.errors[0]}`)
  a.send(FRAME)
  await env.pair.plug()
  await waitFor('a frame across the new cable', async () => {
    a.send(FRAME)
    return sb.frames.length > 0 ? true : undefined
  }, 20_000, 200)
  t.same(sb.frames[0], FRAME, 'frames cross again')
})
