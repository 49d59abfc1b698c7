// heartbeat's log lines and files as cl_log writes them: logfile, debugfile (debug only there),
// syslog records, reopen on SIGHUP and when logrotate renamed or deleted the file under us.

import t from 'tap'
import type { Test } from 'tap'
import { createSocket } from 'node:dgram'
import { mkdir, mkdtemp, readFile, rename, rm, unlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import { formatLogLine, openLogger, MAX_HELD_LINES, MAX_QUEUED_BYTES, type LoggerConfig } from '../../lib/io/logger.js'

const SYSLOG_LINE = /^[A-Z][a-z]{2} \d\d \d\d:\d\d:\d\d n1 heartbeat: \[77\]: /

async function tmp(t: Test): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'hbts-log-'))
  t.teardown(() => rm(d, { recursive: true, force: true }))
  return d
}

function base(over: Partial<LoggerConfig>): LoggerConfig {
  return { logfile: undefined, debugfile: undefined, logfacility: undefined, syslogFormat: true, host: 'n1', debugLevel: 0, pid: 77, ...over }
}

/** The message part of each line ("info: one"), dropping the stamp, host and pid. */
async function messages(path: string): Promise<string[]> {
  const text = await readFile(path, 'latin1').catch(() => '')
  return text.split('\n').filter(Boolean).map((l) => l.replace(/^.*?\]: /, ''))
}

/** A UDP socket standing in for syslogd on 127.0.0.1: the records it got, and its port. */
async function syslogCatcher(t: Test): Promise<{ got: string[]; port: number }> {
  const got: string[] = []
  const sock = createSocket('udp4')
  sock.on('message', (m) => got.push(m.toString('latin1')))
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()))
  t.teardown(() => sock.close())
  return { got, port: sock.address().port }
}

t.test('line format', async (t) => {
  const at = new Date(2026, 10, 25, 17, 17, 9)
  t.equal(
    formatLogLine('warn', 'node titanic5.etri.re.kr: is dead', at, { syslogFormat: true, host: 'titanic6.etri.re.kr', pid: 9536 }),
    'Nov 25 17:17:09 titanic6.etri.re.kr heartbeat: [9536]: WARN: node titanic5.etri.re.kr: is dead',
    'syslogmsgfmt (3.0.6 default): as in the captured ha-log',
  )
  t.equal(
    formatLogLine('info', 'x', new Date(2026, 0, 5, 1, 2, 3), { syslogFormat: true, host: 'h', pid: 1 }),
    'Jan 05 01:02:03 h heartbeat: [1]: info: x',
    "day printed with %02d, as cl_log's syslog_timestamp does",
  )
  t.equal(
    formatLogLine('error', 'oops', at, { syslogFormat: false, host: 'h', pid: 1234 }),
    'heartbeat[1234]: 2026/11/25_17:17:09 ERROR: oops',
    'syslogmsgfmt off',
  )
  t.match(formatLogLine('crit', 'c', at, { syslogFormat: true, host: 'h', pid: 1 }), / CRIT: c$/)
  t.match(formatLogLine('debug', 'd', at, { syslogFormat: true, host: 'h', pid: 1 }), / debug: d$/)
})

t.test('every captured 3.0.6 daemon line has the shape we write', async (t) => {
  // The heartbeat lines of a capture (resource scripts write their own format beside them).
  const captured = (await readFile(new URL('../fixtures/vectors/crc-legacy-failover/logs/n2-ha-log.txt', import.meta.url), 'latin1'))
    .split('\n')
    .filter((l) => / heartbeat: \[\d+\]: /.test(l))
  t.ok(captured.length > 3, `${captured.length} heartbeat lines in the capture`)
  for (const line of captured) {
    const m = /^(\w{3}) (\d\d) (\d\d):(\d\d):(\d\d) (\S+) heartbeat: \[(\d+)\]: (info|WARN|ERROR|CRIT|debug): (.*)$/.exec(line)
    if (!m) {
      t.fail(`unexpected captured line: ${line}`)
      continue
    }
    const [, mon, day, hh, mm, ss, host, pid, word, text] = m
    const level = ({ info: 'info', WARN: 'warn', ERROR: 'error', CRIT: 'crit', debug: 'debug' } as const)[word as 'info']
    const at = new Date(2026, ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'].indexOf(mon ?? ''), Number(day), Number(hh), Number(mm), Number(ss))
    t.equal(formatLogLine(level, text ?? '', at, { syslogFormat: true, host: host ?? '', pid: Number(pid) }), line)
  }
})

t.test('what goes where: logfile info and above, debugfile everything, debug only at debug level', async (t) => {
  const d = await tmp(t)
  const logfile = join(d, 'ha-log')
  const debugfile = join(d, 'ha-debug')
  const log = await openLogger(base({ logfile, debugfile }))
  log.log('debug', 'hidden at debug level 0')
  log.log('info', 'one')
  log.setDebugLevel(1)
  log.log('debug', 'two')
  log.log('warn', 'three')
  log.log('error', 'four')
  log.log('crit', 'five')
  log.setDebugLevel(0)
  log.log('debug', 'hidden again')
  await log.close()
  t.same(await messages(logfile), ['info: one', 'WARN: three', 'ERROR: four', 'CRIT: five'], 'logfile: no debug lines')
  t.same(await messages(debugfile), ['info: one', 'debug: two', 'WARN: three', 'ERROR: four', 'CRIT: five'], 'debugfile: every line that passes the debug level')
  t.match((await readFile(logfile, 'latin1')).split('\n')[0], SYSLOG_LINE, 'syslog-format line')
})

t.test('only a logfile: debug lines reach no file; only a debugfile: it gets everything', async (t) => {
  const d = await tmp(t)
  const only = join(d, 'only-log')
  const a = await openLogger(base({ logfile: only, debugLevel: 1 }))
  a.log('debug', 'dbg')
  a.log('info', 'inf')
  await a.close()
  t.same(await messages(only), ['info: inf'])

  const onlyDebug = join(d, 'only-debug')
  const b = await openLogger(base({ debugfile: onlyDebug, debugLevel: 1 }))
  b.log('debug', 'dbg')
  b.log('info', 'inf')
  await b.close()
  t.same(await messages(onlyDebug), ['debug: dbg', 'info: inf'])
})

t.test('logfile and debugfile the same path: every line once', async (t) => {
  const d = await tmp(t)
  const same = join(d, 'ha-log')
  const log = await openLogger(base({ logfile: same, debugfile: same, debugLevel: 1 }))
  log.log('info', 'a')
  log.log('debug', 'b')
  await log.close()
  t.same(await messages(same), ['info: a', 'debug: b'])
})

t.test('/dev/null as a file name means no file (cl_log), and nothing is written to it', async (t) => {
  const log = await openLogger(base({ logfile: '/dev/null', debugfile: '/DEV/NULL' }))
  t.doesNotThrow(() => log.log('info', 'x'))
  await log.close()
})

t.test('SIGHUP reopen: after logrotate moved the file, new lines go to a new file at the path', async (t) => {
  const d = await tmp(t)
  const logfile = join(d, 'ha-log')
  // A long check interval: only the explicit reopen may move us to the new file.
  const log = await openLogger(base({ logfile, rotationCheckMs: 3_600_000 }))
  log.log('info', 'one')
  await log.flush()
  await rename(logfile, `${logfile}.1`)
  log.log('info', 'still the old file')
  await log.reopen()
  log.log('warn', 'three')
  await log.close()
  t.same(await messages(`${logfile}.1`), ['info: one', 'info: still the old file'])
  t.same(await messages(logfile), ['WARN: three'])
})

t.test('a renamed log file is noticed from the write path and reopened, without SIGHUP', async (t) => {
  const d = await tmp(t)
  const logfile = join(d, 'ha-log')
  const debugfile = join(d, 'ha-debug')
  const log = await openLogger(base({ logfile, debugfile, rotationCheckMs: 0 }))
  log.log('info', 'one')
  await log.flush()
  await rename(logfile, `${logfile}.1`)
  log.log('info', 'two') // the first line after the move: it waits for the check it triggers
  await log.flush()
  log.log('info', 'three')
  await log.close()
  t.same(await messages(`${logfile}.1`), ['info: one'], 'nothing after the move went to the rotated file')
  t.same(await messages(logfile), [`info: log-rotate detected on logfile ${logfile}`, 'info: two', 'info: three'], "the new file starts with cl_log's rotation note, then every later line")
  t.same(
    (await messages(debugfile)).filter((m) => !m.includes('log-rotate')),
    ['info: one', 'info: two', 'info: three'],
    'the debugfile, not moved, kept one file',
  )
})

t.test('a deleted log file is recreated at the path', async (t) => {
  const d = await tmp(t)
  const logfile = join(d, 'ha-log')
  const log = await openLogger(base({ logfile, rotationCheckMs: 0 }))
  log.log('info', 'one')
  await log.flush()
  await unlink(logfile)
  log.log('info', 'two')
  await log.flush()
  log.log('info', 'three')
  await log.close()
  t.same((await messages(logfile)).slice(-1), ['info: three'])
})

t.test('the rotation check is rate-limited: a rename is not seen before the interval passed', async (t) => {
  const d = await tmp(t)
  const logfile = join(d, 'ha-log')
  const log = await openLogger(base({ logfile, rotationCheckMs: 3_600_000 }))
  log.log('info', 'one') // the first write checks (nothing moved yet); the next check is an hour away
  await log.flush()
  await rename(logfile, `${logfile}.1`)
  log.log('info', 'two')
  await log.flush()
  log.log('info', 'three')
  await log.close()
  t.same(await messages(`${logfile}.1`), ['info: one', 'info: two', 'info: three'])
})

t.test('syslog: every line with its facility and priority, as heartbeat: [pid]: LEVEL: text', async (t) => {
  const { got, port } = await syslogCatcher(t)
  const log = await openLogger(base({ logfacility: 'local0', debugLevel: 1, syslogTarget: { kind: 'udp', host: '127.0.0.1', port } }))
  log.log('info', 'hello')
  log.log('warn', 'careful')
  log.log('debug', 'detail')
  await log.close()
  const deadline = Date.now() + 5000
  while (got.length < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50))
  t.same(
    got.map((g) => g.replace(/^(<\d+>).*? heartbeat: /, '$1heartbeat: ')),
    ['<134>heartbeat: [77]: info: hello', '<132>heartbeat: [77]: WARN: careful', '<135>heartbeat: [77]: debug: detail'],
    'local0 = 16: info 134, warning 132, debug 135',
  )
})

t.test('another program (hb-mon) logs under its own name, in the files and as its syslog tag', async (t) => {
  const d = await tmp(t)
  const logfile = join(d, 'ha-log')
  const { got, port } = await syslogCatcher(t)
  const log = await openLogger(base({ logfile, entity: 'hb-mon', logfacility: 'daemon', syslogTarget: { kind: 'udp', host: '127.0.0.1', port } }))
  log.log('warn', 'realNode-2/http: down: 129.254.203.147')
  await log.close()
  t.match(await readFile(logfile, 'latin1'), /^[A-Z][a-z]{2} \d\d \d\d:\d\d:\d\d n1 hb-mon: \[77\]: WARN: realNode-2\/http: down: 129\.254\.203\.147\n$/)
  const deadline = Date.now() + 5000
  while (got.length < 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50))
  t.match(got[0], /^<28>.* hb-mon: \[77\]: WARN: realNode-2\/http: down/, 'facility daemon (3), warning: <28>, tag hb-mon')
})

t.test('logfacility without a syslog socket: one note in the log file, no syslog', async (t) => {
  const d = await tmp(t)
  const logfile = join(d, 'ha-log')
  const missing = join(d, 'no-such-dev-log')
  const log = await openLogger(base({ logfile, logfacility: 'local0', syslogTarget: { kind: 'socket', path: missing } }))
  log.log('info', 'a')
  log.log('info', 'b')
  await log.reopen()
  log.log('info', 'c')
  await log.close()
  const m = await messages(logfile)
  t.same(m.filter((x) => x.startsWith('WARN: logfacility')), [`WARN: logfacility local0: ${missing} is not a syslog socket (no syslog daemon?); messages go to the log files only`], 'said once, even across a reopen')
  t.same(m.filter((x) => x.startsWith('info:')), ['info: a', 'info: b', 'info: c'])
})

t.test('an unwritable log does not throw, and a directory that appears later is used', async (t) => {
  const d = await tmp(t)
  await writeFile(join(d, 'file'), '')
  const log = await openLogger(base({ logfile: join(d, 'file', 'log') }))
  t.doesNotThrow(() => log.log('info', 'x'))
  await log.close()

  const later = join(d, 'later')
  const l2 = await openLogger(base({ logfile: join(later, 'ha-log'), rotationCheckMs: 0 }))
  l2.log('info', 'lost')
  await l2.flush()
  await mkdir(later)
  l2.log('info', 'retry')
  await l2.flush()
  l2.log('info', 'found')
  await l2.close()
  t.same((await messages(join(later, 'ha-log'))).slice(-1), ['info: found'])
})

t.test('strings from the wire cannot start a line: control bytes are escaped in files, echo and syslog', async (t) => {
  const d = await tmp(t)
  const logfile = join(d, 'ha-log')
  const { got, port } = await syslogCatcher(t)
  const echoed: string[] = []
  const echo = new Writable({ write(chunk: Buffer, _enc, cb) { echoed.push(chunk.toString('latin1')); cb() } })
  const log = await openLogger(base({ logfile, echo, logfacility: 'local0', syslogTarget: { kind: 'udp', host: '127.0.0.1', port } }))
  const evil = 'n2\n<0>Nov 25 17:17:09 n1 heartbeat: [77]: CRIT: forged\r\x1b[2J\x07'
  log.log('warn', `node ${evil}: is dead`)
  // Longer than logger's 1024-byte record, with a priority where the second record would begin.
  log.log('info', `resource ${'a'.repeat(1200)}<0>EMERG`)
  await log.close()
  const fileLines = (await readFile(logfile, 'latin1')).split('\n').filter(Boolean)
  t.equal(fileLines.length, 2, 'two calls, two lines')
  t.match(fileLines[0], /WARN: node n2\\n<0>Nov 25 17:17:09 n1 heartbeat: \[77\]: CRIT: forged\\r\\x1b\[2J\\x07: is dead$/)
  t.match(fileLines[1], /aaa\.\.\. \[\d+ more bytes cut\]$/, 'an over-long text is cut, saying so')
  t.equal(echoed.join('').split('\n').filter(Boolean).length, 2, 'the echo too')
  const deadline = Date.now() + 5000
  while (got.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50))
  await new Promise((r) => setTimeout(r, 200))
  t.equal(got.length, 2, 'one syslog record per call (logger splits nothing)')
  t.same(got.map((g) => /^<(\d+)>/.exec(g)?.[1]), ['132', '134'], 'each at its own priority, none at <0>')
})

t.test('bounded buffers: a stuck output drops lines past its limit and says how many when it catches up', async (t) => {
  const pending: Array<() => void> = []
  const seen: string[] = []
  const echo = new Writable({
    highWaterMark: 16,
    write(chunk: Buffer, _enc, cb) {
      seen.push(chunk.toString('latin1'))
      pending.push(cb)
    },
  })
  const log = await openLogger(base({ echo }))
  const text = 'x'.repeat(200)
  for (let i = 0; i < 20_000; i++) log.log('info', text)
  t.ok(echo.writableLength <= MAX_QUEUED_BYTES + 400, `queue bounded (${echo.writableLength} bytes)`)
  // Let the output catch up.
  while (pending.length > 0) {
    pending.splice(0).forEach((cb) => cb())
    await new Promise((r) => setImmediate(r))
  }
  log.log('info', 'after')
  while (pending.length > 0) {
    pending.splice(0).forEach((cb) => cb())
    await new Promise((r) => setImmediate(r))
  }
  await log.close()
  const lines = seen.join('').split('\n').filter(Boolean)
  const note = lines.find((l) => /log lines dropped: standard error did not keep up/.test(l))
  t.ok(note, 'a note says lines were dropped')
  const dropped = Number(/(\d+) log lines dropped/.exec(note ?? '')?.[1])
  t.equal(lines.filter((l) => l.endsWith(text)).length + dropped, 20_000, 'every line is either written or counted')
  t.match(lines.at(-1), /info: after$/)
})

t.test('lines waiting for a rotation check are bounded and counted', async (t) => {
  const d = await tmp(t)
  const logfile = join(d, 'ha-log')
  const log = await openLogger(base({ logfile, rotationCheckMs: 0 }))
  const total = MAX_HELD_LINES + 500
  for (let i = 0; i < total; i++) log.log('info', `l${i}`) // all in one tick: the first starts a check, the rest wait
  await log.flush()
  await log.close()
  const m = await messages(logfile)
  const note = m.find((x) => /log lines dropped while checking the log files for rotation/.test(x))
  t.ok(note, 'a note counts the lines dropped')
  const dropped = Number(/(\d+) log lines dropped/.exec(note ?? '')?.[1])
  t.equal(m.filter((x) => /^info: l\d+$/.test(x)).length + dropped, total, 'every line is either written or counted')
  t.ok(dropped > 0)
})
