// heartbeat's log lines and files: logfile, debugfile, debug only in debugfile, reopen after rotation.

import t from 'tap'
import { mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { formatLogLine, openLogger } from '../../lib/io/logger.js'

t.test('line format', async (t) => {
  const at = new Date(2026, 10, 25, 17, 17, 9)
  t.equal(
    formatLogLine('warn', 'node titanic5.etri.re.kr: is dead', at, { syslogFormat: true, host: 'titanic6.etri.re.kr', pid: 9536 }),
    'Nov 25 17:17:09 titanic6.etri.re.kr heartbeat: [9536]: WARN: node titanic5.etri.re.kr: is dead',
    'syslogmsgfmt (3.0.6 default): as in the captured ha-log',
  )
  t.equal(
    formatLogLine('info', 'x', new Date(2026, 0, 5, 1, 2, 3), { syslogFormat: true, host: 'h', pid: 1 }),
    'Jan  5 01:02:03 h heartbeat: [1]: info: x',
    'day padded with a space like syslog',
  )
  t.equal(
    formatLogLine('error', 'oops', at, { syslogFormat: false, host: 'h', pid: 1234 }),
    'heartbeat[1234]: 2026/11/25_17:17:09 ERROR: oops',
    'syslogmsgfmt off',
  )
  t.match(formatLogLine('crit', 'c', at, { syslogFormat: true, host: 'h', pid: 1 }), / CRIT: c$/)
  t.match(formatLogLine('debug', 'd', at, { syslogFormat: true, host: 'h', pid: 1 }), / debug: d$/)
})

t.test('files, debug routing and reopen', async (t) => {
  const d = await mkdtemp(join(tmpdir(), 'hbts-log-'))
  t.teardown(() => rm(d, { recursive: true, force: true }))
  const logfile = join(d, 'ha-log')
  const debugfile = join(d, 'ha-debug')
  const log = await openLogger({ logfile, debugfile, logfacility: undefined, syslogFormat: true, host: 'n1', debugLevel: 0, pid: 77 })
  log.log('info', 'one')
  log.log('debug', 'hidden at debug level 0')
  log.setDebugLevel(1)
  log.log('debug', 'two')
  await log.flush()
  await rename(logfile, `${logfile}.1`)
  await log.reopen()
  log.log('warn', 'three')
  await log.close()
  const rotated = await readFile(`${logfile}.1`, 'latin1')
  const fresh = await readFile(logfile, 'latin1')
  const debug = await readFile(debugfile, 'latin1')
  t.match(rotated, /n1 heartbeat: \[77\]: info: one\n$/, 'first line went to the file that was rotated away')
  t.notMatch(rotated, /two/, 'debug messages never reach logfile')
  t.match(fresh, /^\w{3} [ \d]\d \d\d:\d\d:\d\d n1 heartbeat: \[77\]: WARN: three\n$/, 'after reopen a new logfile is written')
  t.same(
    debug.split('\n').filter(Boolean).map((l) => l.replace(/^.*\]: /, '')),
    ['info: one', 'debug: two', 'WARN: three'],
    'debugfile gets everything that passes the debug level',
  )
})

t.test('an unwritable log does not throw', async (t) => {
  const d = await mkdtemp(join(tmpdir(), 'hbts-log-'))
  t.teardown(() => rm(d, { recursive: true, force: true }))
  await writeFile(join(d, 'file'), '')
  const log = await openLogger({ logfile: join(d, 'file', 'log'), debugfile: undefined, logfacility: undefined, syslogFormat: true, host: 'n', debugLevel: 0 })
  t.doesNotThrow(() => log.log('info', 'x'))
  await log.close()
})
