// The FIFO: framing, creation, and the stock hb_standby / hb_takeover writing into it.

import t from 'tap'
import { chown, mkdtemp, readFile, rm, stat, writeFile, access } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { execa } from 'execa'
import { FifoFramer, encodeFifoMessage, FIFO_MAX_LINE_BYTES } from '../../lib/control/fifo-text.js'
import type { FifoEvent } from '../../lib/control/fifo-text.js'
import { ensureFifo, openFifoReader } from '../../lib/io/fifo.js'
import { writeFifoMessage } from '../../lib/io/fifo-write.js'
import type { HaMessage } from '../../lib/wire/message.js'
import { HEARTBEAT_JS, makeNode, removeNode, requireBuilt, run } from '../cli/heartbeat-kit.js'

const pairs = (m: HaMessage) => m.fields.map((f) => [f.name, f.value.toString('latin1')])
const messages = (evs: FifoEvent[]) => evs.flatMap((e) => (e.kind === 'message' ? [pairs(e.msg)] : []))
const problems = (evs: FifoEvent[]) => evs.flatMap((e) => (e.kind === 'problem' ? [e.reason] : []))

t.test('framing: any chunking, junk around, broken messages', async (t) => {
  const text = Buffer.from('>>>\nt=ask_resources\nrsc_hold=all\ninfo=me\n<<<\n>>>\nt=hb_takeover\nrsc_hold=local\n<<<\n')
  const whole = new FifoFramer().push(text)
  t.same(messages(whole), [
    [
      ['t', 'ask_resources'],
      ['rsc_hold', 'all'],
      ['info', 'me'],
    ],
    [
      ['t', 'hb_takeover'],
      ['rsc_hold', 'local'],
    ],
  ])
  const f = new FifoFramer()
  const byByte = [...text].flatMap((b) => f.push(Buffer.from([b])))
  t.same(messages(byByte), messages(whole), 'byte by byte gives the same messages')

  const junk = new FifoFramer().push(Buffer.from('hello\n\n>>>\nt=x\n<<<\n'))
  t.same(messages(junk), [[['t', 'x']]])
  t.match(problems(junk), [/text outside ">>>" … "<<<" ignored: "hello"/])

  const restarted = new FifoFramer().push(Buffer.from('>>>\nt=half\n>>>\nt=whole\n<<<\n'))
  t.same(messages(restarted), [[['t', 'whole']]])
  t.match(problems(restarted), [/without "<<<" dropped/])

  const long = new FifoFramer().push(Buffer.from(`>>>\nt=x\nv=${'a'.repeat(FIFO_MAX_LINE_BYTES)}\n<<<\n>>>\nt=next\n<<<\n`))
  t.same(messages(long), [[['t', 'next']]], 'the over-long message is dropped, the next one read')
  t.match(problems(long), [/message dropped: line longer than 511 bytes/])

  const endless = new FifoFramer()
  t.match(problems(endless.push(Buffer.alloc(4 * FIFO_MAX_LINE_BYTES, 0x61))), [/line longer than 511 bytes/], 'an endless line does not pile up')
  t.same(messages(endless.push(Buffer.from('\n>>>\nt=after\n<<<\n'))), [[['t', 'after']]])

  const bad = new FifoFramer().push(Buffer.from('>>>\nno equals sign here\n<<<\n'))
  t.same(messages(bad), [])
  t.match(problems(bad), [/message dropped: /])

  t.equal(encodeFifoMessage([['t', 'ask_resources'], ['rsc_hold', 'all'], ['info', 'me']]).toString(), '>>>\nt=ask_resources\nrsc_hold=all\ninfo=me\n<<<\n')
})

async function tempDir(t: { teardown(fn: () => unknown): void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'hbts-t8-fifo-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  return dir
}

/** Collect messages until `n` arrived (each write is one event-loop turn away). */
function collector() {
  const got: HaMessage[] = []
  const bad: string[] = []
  const waiters: Array<() => void> = []
  return {
    got,
    bad,
    handler: {
      onMessage: (m: HaMessage) => {
        got.push(m)
        waiters.splice(0).forEach((w) => w())
      },
      onProblem: (r: string) => bad.push(r),
    },
    async until(n: number): Promise<void> {
      while (got.length < n) await new Promise<void>((r) => waiters.push(r))
    },
  }
}

t.test('ensureFifo: mode 0600, fixes the mode, refuses a regular file', async (t) => {
  const dir = await tempDir(t)
  const p = join(dir, 'state', 'fifo')
  await ensureFifo(p)
  const st = await stat(p)
  t.ok(st.isFIFO())
  t.equal(st.mode & 0o777, 0o600)
  await execa('chmod', ['644', p])
  await ensureFifo(p)
  t.equal((await stat(p)).mode & 0o777, 0o600, 'mode put back to 0600')
  const file = join(dir, 'notafifo')
  await writeFile(file, '')
  await t.rejects(ensureFifo(file), /exists and is not a FIFO/)
  await t.rejects(writeFifoMessage(p, [['t', 'x']]), { code: 'ENXIO' }, 'no reader: a writer fails at once instead of hanging')
})

const HB_STANDBY = '/usr/share/heartbeat/hb_standby'
const HB_TAKEOVER = '/usr/share/heartbeat/hb_takeover'

t.test('ensureFifo: a FIFO another account made is refused, not used', async (t) => {
  if (process.geteuid?.() !== 0) {
    t.plan(0, 'needs root to give the FIFO to nobody')
    return
  }
  const dir = await mkdtemp(join(tmpdir(), 'hbts-fifo-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  const p = join(dir, 'fifo')
  await ensureFifo(p)
  await chown(p, 65534, 65534)
  await t.rejects(ensureFifo(p), /owned by uid 65534, not root/)
})

t.test("Debian's hb_standby and hb_takeover write into our FIFO", async (t) => {
  const present = await access(HB_STANDBY).then(
    () => true,
    () => false,
  )
  if (!present) {
    if (process.env.CI === 'true') t.fail(`${HB_STANDBY} missing: .ci/run installs the heartbeat package`)
    else t.plan(0, `${HB_STANDBY} not installed (Debian package heartbeat): stock scripts not exercised`)
    return
  }
  const dir = await tempDir(t)
  const fifo = join(dir, 'fifo')
  const c = collector()
  const reader = await openFifoReader(fifo, c.handler)
  t.teardown(() => reader.close())
  // shellfuncs: HA_FIFO defaults to /var/lib/heartbeat/fifo unless set.
  const env = { ...process.env, HA_FIFO: fifo, HA_LOGFACILITY: 'none', HA_LOGFILE: join(dir, 'ha-log'), HA_DEBUGLOG: join(dir, 'ha-debug') }
  const sh = (script: string, args: string[]) => execa('sh', [script, ...args], { env, reject: false, timeout: 30_000 })

  const r1 = await sh(HB_STANDBY, [])
  t.equal(r1.exitCode, 0, 'hb_standby exit 0')
  await c.until(1)
  t.same(pairs(c.got[0]!), [
    ['t', 'ask_resources'],
    ['rsc_hold', 'all'],
    ['info', 'me'],
  ], 'hb_standby: ask_resources rsc_hold=all info=me')

  await sh(HB_STANDBY, ['failback'])
  await c.until(2)
  t.same(pairs(c.got[1]!), [
    ['t', 'ask_resources'],
    ['rsc_hold', 'foreign'],
    ['info', 'me'],
  ], 'hb_standby failback asks to give the foreign resources')

  await sh(HB_TAKEOVER, ['local'])
  await c.until(3)
  t.same(pairs(c.got[2]!), [
    ['t', 'hb_takeover'],
    ['rsc_hold', 'local'],
  ])
  const wrong = await sh(HB_STANDBY, ['everything'])
  t.equal(wrong.exitCode, 1, 'a bad argument never reaches the FIFO')
  t.same(c.bad, [], 'nothing unreadable arrived')
  t.equal(c.got.length, 3)
})

t.test('`heartbeat standby` writes what hb_standby writes', async (t) => {
  requireBuilt(HEARTBEAT_JS)
  const node = await makeNode('auto_failback on\n')
  t.teardown(() => removeNode(node))
  const c = collector()
  const reader = await openFifoReader(join(node.stateDir, 'fifo'), c.handler)
  t.teardown(() => reader.close())
  // Named heartbeat.js: the CLI takes only a process running heartbeat for the daemon (lib/io/pid-check.ts).
  const standIn = join(node.dir, 'heartbeat.js')
  await writeFile(standIn, 'setInterval(() => {}, 1000)\n')
  const sleeper = execa(process.execPath, [standIn], { reject: false })
  for (let i = 0; i < 500 && !(await readFile(`/proc/${sleeper.pid}/cmdline`, 'latin1').catch(() => '')).includes(standIn); i++) {
    await new Promise((r) => setTimeout(r, 10))
  }
  t.teardown(() => {
    sleeper.kill('SIGKILL')
  })
  await writeFile(node.pidFile, `${sleeper.pid}\n`)
  const r = await run(HEARTBEAT_JS, ['standby'], node.env)
  t.equal(r.stdout, 'auto_failback: on\nAttempting to enter standby mode: Done.\n')
  t.equal(r.exitCode, 0)
  await c.until(1)
  t.same(pairs(c.got[0]!), [
    ['t', 'ask_resources'],
    ['rsc_hold', 'all'],
    ['info', 'me'],
  ])
  await reader.close()
  const noReader = await run(HEARTBEAT_JS, ['standby'], node.env)
  t.equal(noReader.exitCode, 1, 'no one reading the FIFO: standby fails')
  t.match(noReader.stdout, /Attempting to enter standby mode: Heartbeat failure \[rc=1\]\. Failed\.\n\ncannot write .*fifo: .*ENXIO/)
})
