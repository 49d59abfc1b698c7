// The seed's files read unchanged; ha.cf, authkeys and haresources behave as heartbeat 3.0.6 reads them.
import t from 'tap'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { formatDiagnostic, type Diagnostic } from '../../lib/config/diagnostics.js'
import { parseDuration } from '../../lib/config/duration.js'
import { checkLocalNode, parseHaCf } from '../../lib/config/ha-cf.js'
import { parseAuthkeys } from '../../lib/config/authkeys.js'
import { parseHaresources } from '../../lib/config/haresources.js'
import { parseIpaddrSpec, parseIpv6 } from '../../lib/config/ipaddr-spec.js'
import { tokenizeDirectives } from '../../lib/config/line-tokenizer.js'

const example = (rel: string): string => fileURLToPath(new URL(`../../ha.d-example/${rel}`, import.meta.url))
const read = (rel: string): string => readFileSync(example(rel), 'utf8')
const errors = (ds: Diagnostic[]): string[] => ds.filter((d) => d.severity === 'error').map(formatDiagnostic)
const lines = (ds: Diagnostic[]): string[] => ds.map(formatDiagnostic)

t.test('the seed files of both directors read unchanged, with no errors', async (t) => {
  for (const view of ['titanic5', 'titanic6']) {
    const haCf = parseHaCf(read(`${view}/ha.d/ha.cf`), `${view}/ha.cf`)
    t.same(errors(haCf.diagnostics), [], `${view} ha.cf has no errors`)
    const c = haCf.config
    t.same(c.nodes, ['titanic5.etri.re.kr', 'titanic6.etri.re.kr'], 'both directors, named by their full uname -n')
    t.equal(c.keepaliveMs, 2000, 'keepalive 2 is two seconds')
    t.equal(c.deadtimeMs, 5000, 'deadtime 5 is five seconds')
    t.equal(c.initdeadMs, 12000, 'initdead defaults to 12 s when deadtime is under 6 s')
    t.equal(c.warntimeMs, 2500, 'warntime defaults to half of deadtime')
    t.equal(c.udpPort, 1001)
    t.same(c.media, [{ kind: 'bcast', interfaces: ['eth0'], port: 1001, line: 8 }], '"udp eth0" is a broadcast medium on the udpport above it')
    t.equal(c.autoFailback, 'legacy', 'no auto_failback line: legacy')
    t.equal(c.logfacility, 'local0')
    t.equal(c.logfile, '/var/log/ha-log')
    t.equal(c.debugfile, '/var/log/ha-debug')
    t.equal(c.hopfudge, 1)
    t.ok(haCf.diagnostics.some((d) => d.line === 8 && d.severity === 'warning' && d.message.includes('"udp" is read as "bcast"')), 'udp draws the warning heartbeat logs')
    t.same(checkLocalNode(c, 'ha.cf', view === 'titanic5' ? 'titanic5.etri.re.kr' : 'TITANIC6.etri.re.kr'), [], 'the local director is listed (case does not matter)')

    const auth = parseAuthkeys(read(`${view}/ha.d/authkeys`), `${view}/authkeys`, 0o100600)
    t.same(lines(auth.diagnostics), [], `${view} authkeys reads cleanly at mode 600`)
    t.equal(auth.keys?.active, 1, 'auth 1 signs')
    t.same([...(auth.keys?.keys.keys() ?? [])], [1], 'the commented crc and md5 lines are not keys')
    t.equal(auth.keys?.keys.get(1)?.method, 'sha1')
    t.equal(auth.keys?.keys.get(1)?.key.toString('utf8'), 'HI!', 'the key is the third word, as written')

    const res = parseHaresources(read(`${view}/ha.d/haresources`), `${view}/haresources`, c.nodes)
    t.same(lines(res.diagnostics), [], `${view} haresources reads cleanly`)
    t.same(res.groups, [{
      node: 'titanic5.etri.re.kr',
      key: '129.254.203.149',
      resources: [
        { agent: 'IPaddr', args: ['129.254.203.149'], text: '129.254.203.149' },
        { agent: 'lvs', args: [], text: 'lvs' },
      ],
      line: 2,
    }], 'one group: the VIP (a bare address is IPaddr) then lvs; the trailing comment is not a resource')
  }
})

t.test('the modern example reads with no diagnostics at all', async (t) => {
  const haCf = parseHaCf(read('modern/ha.d/ha.cf'), 'ha.cf')
  t.same(lines(haCf.diagnostics), [])
  const c = haCf.config
  t.equal(c.keepaliveMs, 200)
  t.equal(c.warntimeMs, 500)
  t.equal(c.deadtimeMs, 1000)
  t.equal(c.initdeadMs, 10000)
  t.equal(c.autoFailback, 'on')
  t.same(c.media.map((m) => (m.kind === 'ucast' ? [m.interface, m.address, m.port] : m.kind)), [['eth0', '10.0.0.5', 694], ['eth0', '10.0.0.6', 694]])
  t.same(c.nodes, ['director1', 'director2'])
  const auth = parseAuthkeys(read('modern/ha.d/authkeys'), 'authkeys', 0o600)
  t.same(lines(auth.diagnostics), [])
  t.equal(auth.keys?.keys.get(1)?.method, 'sha1')
  const res = parseHaresources(read('modern/ha.d/haresources'), 'haresources', c.nodes)
  t.same(lines(res.diagnostics), [])
  t.same(res.groups.map((g) => [g.node, g.key, g.resources.map((r) => [r.agent, ...r.args])]), [
    ['director1', 'IPaddr::10.0.0.100/24/eth0', [['IPaddr', '10.0.0.100/24/eth0'], ['lvs']]],
  ])
})

t.test('time values follow cl_get_msec', async (t) => {
  const ok: Array<[string, number]> = [
    ['2', 2000], ['0.1', 100], ['1.5', 1500], ['500ms', 500], ['500msec', 500], ['500MS', 500],
    ['100us', 0], ['501us', 1], ['1500usec', 2], ['.25', 250], ['0', 0], ['0.0004', 0], ['0.0005', 1],
  ]
  for (const [text, ms] of ok) {
    const r = parseDuration(text)
    t.same(r, { ok: true, ms }, `${text} = ${ms}ms`)
  }
  const seconds = parseDuration('2s')
  t.same(seconds, { ok: false, message: '"2s" is not a time heartbeat accepts (did you mean 2 = 2 seconds, or 2000ms?)' })
  const sec = parseDuration('1sec')
  t.same(sec, { ok: false, message: '"1sec" is not a time heartbeat accepts (did you mean 1 = 1 second, or 1000ms?)' })
  const minutes = parseDuration('1.5min')
  t.same(minutes, { ok: false, message: '"1.5min" is not a time heartbeat accepts (did you mean 90 = 90 seconds, or 90000ms?)' })
  for (const bad of ['', 'fast', '-1', 'ms', '.', '1h30']) t.equal(parseDuration(bad).ok, false, `${JSON.stringify(bad)} is refused`)
  const trailing = parseDuration('5msfoo')
  t.same(trailing, { ok: true, ms: 5, note: '"5msfoo" is read as 5ms; heartbeat ignores "foo"' }, 'cl_get_msec only looks at the first two letters of the unit')
  const twoDots = parseDuration('1.2.3')
  t.ok(twoDots.ok && twoDots.ms === 1200 && twoDots.note !== undefined, 'atof stops at the second dot, with a note')
})

t.test('ha.cf lexical rules', async (t) => {
  const tok = tokenizeDirectives('  node a, b\tc # d e\nbcast eth0,eth1\r\n\n# all comment\nkeepalive#2\nstonith_host * baytech 10.0.0.3 mylogin mysecretpassword\n', 'f')
  t.same(tok.lines.map((l) => [l.line, l.directive, l.values]), [
    [1, 'node', ['a', 'b', 'c']],
    [2, 'bcast', ['eth0', 'eth1']],
    [5, 'keepalive', []],
    [6, 'stonith_host', ['*', 'baytech', '10.0.0.3', 'mylogin', 'mysecretpassword']],
  ], '# anywhere ends the line, commas and blanks split values, CR is dropped, blank and comment lines vanish')
  t.equal(tok.lines[3]?.rest, '* baytech 10.0.0.3 mylogin mysecretpassword', 'whole-line directives get the rest verbatim')

  const c = parseHaCf('keepalive 2 3\ndeadtime 10\nnode Alpha,BETA\nbcast eth0 eth1\nlogfile /var/log/ha-log\n', 'ha.cf')
  t.equal(c.config.keepaliveMs, 3000, '"keepalive 2 3": each value is applied, the last wins')
  t.ok(c.diagnostics.some((d) => d.line === 1 && d.severity === 'warning' && d.message.includes('keeps the last, "3"')), 'and that is pointed out')
  t.same(c.config.nodes, ['alpha', 'beta'], 'node names are lowercased, one per value')
  t.same(c.config.media, [{ kind: 'bcast', interfaces: ['eth0', 'eth1'], port: 694, line: 4 }])
  t.equal(c.config.initdeadMs, 20000, 'deadtime 6-10 s: initdead is twice deadtime')
  t.equal(c.config.useLogd, false)

  const defaults = parseHaCf('bcast eth0\nnode a\n', 'ha.cf').config
  t.equal(defaults.keepaliveMs, 1000)
  t.equal(defaults.deadtimeMs, 30000)
  t.equal(defaults.warntimeMs, 15000)
  t.equal(defaults.initdeadMs, 30000, 'deadtime above 10 s: initdead equals it')
  t.equal(defaults.deadpingMs, 30000)
  t.equal(defaults.udpPort, 694)
  t.equal(defaults.maxRexmitDelayMs, 250)
  t.equal(defaults.msgfmt, 'classic')
  t.equal(defaults.autoFailback, 'legacy')
  t.equal(defaults.useLogd, true, 'no log destination at all: logd is forced on')
  t.equal(defaults.parameters.get('keepalive'), '1000ms', 'the parameter table has heartbeat defaults')
})

t.test('ordering rules and quirks that change what heartbeat does', async (t) => {
  const latched = parseHaCf('node a\nbcast eth0\nudpport 700\nucast eth0 10.0.0.2\ndeadtime 10\n', 'ha.cf')
  t.same(latched.config.media.map((m) => (m.kind === 'bcast' || m.kind === 'ucast' ? m.port : 0)), [694, 700], 'bcast latched the port before udpport; the later ucast uses 700')
  t.same(lines(latched.diagnostics).filter((l) => l.includes('udpport')), ['ha.cf:3: warning: udpport comes after a bcast line, which already uses port 694; put udpport above the media lines'])

  const niceFirst = parseHaCf('node a\nbcast eth0\nnice_failback on\n', 'ha.cf').config
  t.equal(niceFirst.autoFailback, 'legacy', 'nice_failback on with no auto_failback before it means legacy (config.c quirk)')
  const niceAfter = parseHaCf('node a\nbcast eth0\nauto_failback on\nnice_failback on\n', 'ha.cf').config
  t.equal(niceAfter.autoFailback, 'off', 'after auto_failback, nice_failback forces off')

  const pcmk = parseHaCf('node a\nbcast eth0\ncrm respawn\ncrm_daemon_dir /usr/lib/pacemaker\n', 'ha.cf', { refuseUnsupported: false })
  t.equal(pcmk.config.manageResources, false, 'crm (alias of pacemaker) on: no haresources')
  t.same(errors(pcmk.diagnostics), ['ha.cf:4: crm_daemon_dir must come before the pacemaker (or crm) line'])

  const mcast = parseHaCf('node a\nmcast eth1 239.0.0.43 694 1 0\n', 'ha.cf').config
  t.same(mcast.media, [{ kind: 'mcast', interface: 'eth1', group: '239.0.0.43', port: 694, ttl: 1, loop: 0, line: 2 }])

  const six = parseHaCf('node a\nauto_failback on\nlogfacility daemon\nudpport 1001\nucast6 eth0 fe80::2\nucast6 eth1 FD00::2%eth1\nmcast6 eth0 ff12::1:2:3:4 695 1 0\n', 'ha.cf')
  t.same(lines(six.diagnostics), [], 'the IPv6 media are accepted')
  t.same(six.config.media, [
    { kind: 'ucast6', interface: 'eth0', address: 'fe80::2', port: 1001, line: 5 },
    { kind: 'ucast6', interface: 'eth1', address: 'FD00::2%eth1', port: 1001, line: 6 },
    { kind: 'mcast6', interface: 'eth0', group: 'ff12::1:2:3:4', port: 695, hops: 1, loop: 0, line: 7 },
  ], 'ucast6 takes udpport, mcast6 its own port, as 3.0.6')

  const ping = parseHaCf('node a\nbcast eth0\nping 10.0.0.254\nping_group routers 10.0.0.1 10.0.0.2\n', 'ha.cf').config
  t.same(ping.pingNodes.map((p) => p.name), ['10.0.0.254', 'routers'], 'ping nodes are named by the address as written, or the group name')
  t.same(ping.nodes, ['a'], 'ping nodes are not cluster nodes')

  const children = parseHaCf('node a\nbcast eth0\nrespawn hacluster /usr/lib/heartbeat/ipfail -v\napiauth ipfail uid=hacluster,root\n', 'ha.cf').config
  t.same(children.respawn, [{ user: 'hacluster', command: '/usr/lib/heartbeat/ipfail -v', path: '/usr/lib/heartbeat/ipfail', failfast: false, line: 3 }])
  t.same(children.apiauth.find((a) => a.client === 'ipfail'), { client: 'ipfail', uids: ['hacluster', 'root'], gids: undefined, line: 4 }, 'an apiauth line overrides the built-in default')
  t.ok(children.apiauth.some((a) => a.client === 'anon' && a.line === undefined), 'built-in defaults stay for the others')
})

t.test('the local node check', async (t) => {
  const c = parseHaCf('node alpha\nnode beta\nbcast eth0\n', 'ha.cf').config
  t.same(checkLocalNode(c, 'ha.cf', 'BETA\n'), [], 'uname -n is lowercased and trimmed, as heartbeat does')
  t.same(lines(checkLocalNode(c, 'ha.cf', 'alpah')), ['ha.cf: local node "alpah" is not in a node line (listed: "alpha", "beta"); nodes are named by uname -n or /etc/ha.d/nodeinfo (did you mean "alpha"?)'])
  const any = parseHaCf('node alpha\nbcast eth0\nautojoin any\ncrm on\n', 'ha.cf').config
  t.equal(checkLocalNode(any, 'ha.cf', 'gamma')[0]?.severity, 'warning', 'autojoin any adds the local node instead of refusing')
})

t.test('authkeys: active key, order and key secrecy', async (t) => {
  const multi = parseAuthkeys('auth 2\n1 crc\n2 md5 abc\n# 3 sha1 x\n15 sha1 zz\n', 'k', 0o600)
  t.same(lines(multi.diagnostics), [])
  t.equal(multi.keys?.active, 2)
  t.same([...(multi.keys?.keys.entries() ?? [])].map(([i, k]) => [i, k.method, k.key.toString()]), [[1, 'crc', ''], [2, 'md5', 'abc'], [15, 'sha1', 'zz']])
  const zero = parseAuthkeys('auth 0\n0 sha1 k\n', 'k', 0o400)
  t.equal(zero.keys?.active, 0, 'index 0 is accepted (the man page says 1-15, the code 0-15); mode 0400 passes')
  const writable = parseAuthkeys('auth 1\n1 sha1 k\n', 'k', 0o620)
  t.equal(writable.keys?.active, 1, 'write bits are not checked, as in heartbeat')
  const kept = parseAuthkeys('auth 1\n1 sha1 k\nauth 3\n', 'k', 0o600)
  t.equal(kept.keys?.active, 1, 'a later "auth 3" with no key 3 after it leaves key 1 active, as auth.c does')
  t.same(lines(kept.diagnostics), ['k:3: warning: auth 3: key 3 is not defined after this line; heartbeat keeps signing with key 1'])
  const refused = parseAuthkeys('auth 1\n1 sha1 TopSecret99\n', 'k', 0o644)
  t.equal(refused.keys, undefined, 'a group-readable file yields no keys')
  const secretLeak = [
    parseAuthkeys('auth 1\n1 crc TopSecret99\n', 'k', 0o600),
    parseAuthkeys('auth 1\n1 sha1 TopSecret99 more words\n', 'k', 0o600),
    parseAuthkeys('auth 1\n1 sha2 TopSecret99\n', 'k', 0o600),
    parseAuthkeys('TopSecret99 sha1\n', 'k', 0o644),
    parseAuthkeys('aTopSecret99\n', 'k', 0o644),
  ].flatMap((r) => lines(r.diagnostics))
  t.ok(secretLeak.length >= 5, 'each of those draws diagnostics')
  t.notOk(secretLeak.some((l) => l.includes('TopSecret99')), 'no diagnostic prints key text')
})

t.test('haresources: continuation, comments, forms', async (t) => {
  const text = [
    '# node  resources',
    'alpha 10.0.0.5/24/eth0/10.0.0.255 \\',
    '   Filesystem::/dev/sda1::/data1::ext2  httpd',
    'BETA IPaddr::10.0.0.6/255.255.255.0 10.0.0.7/24/10.0.0.255 squid  # proxy',
    '',
  ].join('\n')
  const r = parseHaresources(text, 'h', ['alpha', 'beta'])
  t.same(lines(r.diagnostics), [])
  t.same(r.groups.map((g) => ({ node: g.node, key: g.key, line: g.line, rs: g.resources.map((x) => [x.agent, ...x.args]) })), [
    { node: 'alpha', key: '10.0.0.5/24/eth0/10.0.0.255', line: 2, rs: [['IPaddr', '10.0.0.5/24/eth0/10.0.0.255'], ['Filesystem', '/dev/sda1', '/data1', 'ext2'], ['httpd']] },
    { node: 'beta', key: 'IPaddr::10.0.0.6/255.255.255.0', line: 4, rs: [['IPaddr', '10.0.0.6/255.255.255.0'], ['IPaddr', '10.0.0.7/24/10.0.0.255'], ['squid']] },
  ], 'a backslash joins lines, comments go, node matched case-insensitively, every IPaddr form')
  const glued = parseHaresources('alpha httpd\\\nsquid\n', 'h', ['alpha'])
  t.same(glued.groups[0]?.resources.map((x) => x.text), ['httpdsquid'], 'ResourceManager joins without adding a blank, as its sed does')

  t.same(parseIpaddrSpec('10.0.0.5/24/eth0'), { ok: true, value: { ip: '10.0.0.5', cidrBits: 24, netmask: '24', nic: 'eth0' } })
  t.same(parseIpaddrSpec('10.0.0.5/255.255.255.192/10.0.0.63'), { ok: true, value: { ip: '10.0.0.5', cidrBits: 26, netmask: '255.255.255.192', broadcast: '10.0.0.63' } })
  t.equal(parseIpaddrSpec('10.0.0.5/255.0.255.0').ok, false, 'a non-contiguous mask is refused')
})

t.test('IPv6 addresses as inet_pton reads them', async (t) => {
  const hex = (text: string): string | undefined => parseIpv6(text)?.map((b) => b.toString(16).padStart(2, '0')).join('')
  t.equal(hex('::'), '0'.repeat(32))
  t.equal(hex('::1'), `${'0'.repeat(30)}01`)
  t.equal(hex('fe80::1:2'), `fe80${'0'.repeat(20)}00010002`)
  t.equal(hex('1:2:3:4:5:6:7:8'), '00010002000300040005000600070008')
  t.equal(hex('1:2:3:4:5:6:7::'), '00010002000300040005000600070000', ':: may stand for one group')
  t.equal(hex('::ffff:129.254.203.145'), `${'0'.repeat(20)}ffff81fecb91`, 'a dotted-quad tail')
  for (const bad of ['', ':', ':::', '1::2::3', '1:2:3:4:5:6:7:8:9', '1::2:3:4:5:6:7:8', '12345::', 'g::1', '::1.2.3', '1.2.3.4::', ':1::', 'fe80::1%eth0']) {
    t.equal(parseIpv6(bad), undefined, `${JSON.stringify(bad)} is not an address`)
  }
})

t.test('fuzzing: no exception escapes a reader', async (t) => {
  const { fuzzReaders } = await import('../../bench/fuzz-config.js')
  const first = fuzzReaders(2000, 20011)
  t.equal(first.cases, 2000)
  t.same(first.failures, [], 'random and mutated ha.cf, authkeys, haresources and mon.cf text never throws')
  const again = fuzzReaders(50, 7)
  const same = fuzzReaders(50, 7)
  t.same(again, same, 'a seed gives the same run')
})
