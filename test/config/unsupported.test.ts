// Issue 12: no ha.cf directive is accepted and silently ignored. What heartbeat-ts does not act on is
// refused on its line (the daemon does not start, hbctl check fails); a value with no effect here is
// a warning on its line; man/ha.cf.5 says, for every directive, "as 3.0.6", "differs: ..." or "refused: ...".
import t from 'tap'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { formatDiagnostic } from '../../lib/config/diagnostics.js'
import { HA_CF_DIRECTIVES, parseHaCf } from '../../lib/config/ha-cf.js'
import { DIRECTIVE_SUPPORT } from '../../lib/config/ha-cf-support.js'
import { loadConfig } from '../../lib/daemon/load-config.js'

const HA_CF = '/etc/ha.d/ha.cf'
/** A clean ha.cf (no diagnostics at all); the line under test is line 9. */
const base = ['keepalive 1', 'deadtime 10', 'initdead 20', 'bcast eth0', 'auto_failback on', 'logfacility daemon', 'node alpha', 'node beta'].join('\n') + '\n'
const read = (line: string): string[] => parseHaCf(`${base}${line}\n`, HA_CF).diagnostics.map(formatDiagnostic)

t.test('every directive heartbeat-ts does not act on is an error on its line, with the reason', async (t) => {
  const refused: Array<[string, string]> = [
    ['failfast hacluster /usr/lib/heartbeat/ipfail', 'failfast'],
    ['apiauth ipfail uid=hacluster', 'apiauth'],
    ['use_apphbd on', 'use_apphbd'],
    ['crm respawn', 'crm'],
    ['pacemaker on', 'pacemaker'],
    ['uuidfrom nodename', 'uuidfrom'],
  ]
  for (const [line, directive] of refused) {
    const out = read(line)
    t.equal(out.length, 1, `${line}: one diagnostic`)
    t.match(out[0], new RegExp(`^${HA_CF}:9: directive ${directive} is not supported by heartbeat-ts: \\S.{20,}`), `${line}: refused on its line with a reason`)
  }
})

t.test('a refused directive is refused only for the values heartbeat-ts cannot act on', async (t) => {
  for (const line of ['pacemaker off', 'crm no', 'use_apphbd off', 'uuidfrom file', 'baud 19200', 'deadping 20', 'quorum_server q1', 'crm_daemon_dir /usr/lib/pacemaker', 'record_config_changes on', 'msgfmt netstring', 'hbgenmethod time', 'ucast6 eth0 fe80::2', 'mcast6 eth0 ff12::1:2:3:4 694 1 0', 'stonith baytech /etc/ha.d/conf/stonith.baytech', 'stonith_host * null alpha beta',
    // ping nodes are pinged and ipfail is built in (lib/io/pinger.ts, lib/resources/ipfail.ts)
    'serial /dev/ttyS0', 'ping 10.0.0.254', 'ping6 fe80::1', 'ping_group routers 10.0.0.1 10.0.0.2', 'respawn hacluster /usr/lib/heartbeat/ipfail', 'respawn hacluster /usr/lib64/heartbeat/ipfail -d']) {
    t.same(read(line), [], `${line}: accepted, nothing said`)
  }
})

t.test('a value that has no effect here is a warning on its line', async (t) => {
  for (const [line, what] of [
    ['rtprio 20', /rtprio has no effect/],
    ['memreserve 10000', /memreserve has no effect/],
    ['coredumps off', /coredumps has no effect/],
    ['coreroot /var/lib/heartbeat/cores', /coreroot has no effect/],
    ['conn_logd_time 30', /conn_logd_time has no effect/],
    ['use_logd yes', /use_logd on: heartbeat-ts does not send its lines to ha_logd/],
    ['watchdog /dev/watchdog', /watchdog: heartbeat-ts feeds the device .* cannot set its timeout/],
    ['respawn hacluster /usr/lib/heartbeat/ccm', /respawn: this program is a heartbeat API client; heartbeat-ts has no client API, so it cannot sign on/],
    ['respawn root /usr/lib/pacemaker/pingd -m 100', /respawn: this program is a heartbeat API client/],
  ] as const) {
    const out = read(line)
    t.equal(out.length, 1, line)
    t.match(out[0], new RegExp(`^${HA_CF}:9: warning: ${what.source}`), line)
  }
  t.same(read('use_logd no'), [], 'use_logd off: nothing to say')
  t.same(read('respawn nobody /usr/local/bin/my-daemon --ccm'), [], 'respawn of a program that is not an API client: run, nothing to say')
  t.same(read('respawn hacluster /usr/lib/heartbeat/ipfail'), [], 'respawn ipfail: accepted (built in, not spawned)')
})

t.test('no log destination: 3.0.6 logs through ha_logd (syslog, facility daemon); heartbeat-ts logs to syslog daemon itself, and says so', async (t) => {
  const r = parseHaCf('bcast eth0\nnode a\nauto_failback on\n', HA_CF)
  t.same(r.diagnostics.map(formatDiagnostic), [
    `${HA_CF}: warning: no logfile, debugfile or logfacility: 3.0.6 logs through ha_logd, to syslog facility daemon by default; heartbeat-ts logs to syslog facility daemon itself`,
  ])
  t.equal(r.config?.logfacility, 'daemon', 'the lines go to syslog, facility daemon')
  t.equal(r.config?.logfile, '/dev/null', 'no log file, as with any facility')
})

t.test('read as 3.0.6 (hbctl export-pacemaker), nothing is refused', async (t) => {
  const text = `${base}apiauth ipfail uid=hacluster\nfailfast hacluster /usr/lib/heartbeat/ipfail\npacemaker on\n`
  t.same(parseHaCf(text, HA_CF, { refuseUnsupported: false }).diagnostics, [])
  t.equal(parseHaCf(text, HA_CF).diagnostics.length, 3)
})

t.test('the support table covers every directive the reader knows, and nothing else', async (t) => {
  t.same(Object.keys(DIRECTIVE_SUPPORT).sort(), [...HA_CF_DIRECTIVES].sort())
})

/** man/ha.cf.5's DIRECTIVES section: one `.TP` entry per directive, its heading first. */
function manEntries(): Map<string, string> {
  const page = readFileSync(fileURLToPath(new URL('../../man/ha.cf.5', import.meta.url)), 'utf8')
  const start = page.indexOf('\n.SH DIRECTIVES\n')
  const end = page.indexOf('\n.SH ', start + 1)
  const section = page.slice(start, end)
  const entries = new Map<string, string>()
  for (const chunk of section.split('\n.TP\n').slice(1)) {
    const [heading = '', ...body] = chunk.split('\n')
    // `.B name` or `.BI name " args"`: the first word after the macro
    const name = /^\.BI? "?([a-z_0-9]+)/.exec(heading)?.[1]
    if (name !== undefined) entries.set(name, body.join(' ').replace(/\\-/g, '-'))
  }
  return entries
}

t.test('ha.cf(5) lists every directive with "as 3.0.6", "differs: ..." or "refused: ..." as the reader does', async (t) => {
  const entries = manEntries()
  for (const directive of HA_CF_DIRECTIVES) {
    const body = entries.get(directive)
    if (body === undefined) {
      t.fail(`ha.cf(5) has no entry for ${directive}`)
      continue
    }
    const said = /\b(as 3\.0\.6|differs:|refused:)/i.exec(body)?.[1]?.toLowerCase().replace(':', '')
    t.equal(said, DIRECTIVE_SUPPORT[directive]?.status, `ha.cf(5) ${directive}: ${said ?? 'says nothing'}`)
  }
  t.same([...entries.keys()].filter((name) => !HA_CF_DIRECTIVES.includes(name)), [], 'no entry for a directive the reader does not know')
})

t.test('the daemon refuses at start what hbctl check refuses (the same reader)', async (t) => {
  const dir = join(t.testdir(), 'ha.d')
  mkdirSync(dir)
  writeFileSync(join(dir, 'ha.cf'), `${base}failfast hacluster /usr/lib/heartbeat/ipfail\n`)
  writeFileSync(join(dir, 'authkeys'), 'auth 1\n1 sha1 k\n', { mode: 0o600 })
  writeFileSync(join(dir, 'haresources'), 'alpha 10.0.0.5\n')
  const r = await loadConfig(dir, 'alpha', true)
  t.equal(r.ok, false, 'not started')
  t.same(r.diagnostics.map(formatDiagnostic).filter((l) => l.includes('not supported')), [`${join(dir, 'ha.cf')}:9: directive failfast is not supported by heartbeat-ts: heartbeat-ts does not start failfast programs nor reboot when one dies; remove the line`])
})
