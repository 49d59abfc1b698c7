// A table of bad ha.cf, authkeys and haresources lines, each with the exact `path:line: message` an admin sees.
import t from 'tap'
import { formatDiagnostic, hasErrors } from '../../lib/config/diagnostics.js'
import { parseHaCf } from '../../lib/config/ha-cf.js'
import { parseAuthkeys } from '../../lib/config/authkeys.js'
import { parseHaresources } from '../../lib/config/haresources.js'

const HA_CF = '/etc/ha.d/ha.cf'
const AUTHKEYS = '/etc/ha.d/authkeys'
const HARESOURCES = '/etc/ha.d/haresources'

/** A clean ha.cf (no diagnostics at all); a bad line appended to it is line 9. */
const base = ['keepalive 1', 'deadtime 10', 'initdead 20', 'bcast eth0', 'auto_failback on', 'logfacility daemon', 'node alpha', 'node beta'].join('\n') + '\n'
const plus = (line: string): string => base + line + '\n'
const at9 = (message: string): string => `${HA_CF}:9: ${message}`

interface Row {
  file: 'ha.cf' | 'authkeys' | 'haresources'
  text: string
  /** Every diagnostic the file draws, in order. */
  expect: string[]
  mode?: number
  /** Read as 3.0.6 reads it (no refusal of what heartbeat-ts does not act on: test/config/unsupported.test.ts). */
  as306?: boolean
}

const rows: Row[] = [
  // ha.cf: times
  { file: 'ha.cf', text: plus('keepalive 2s'), expect: [at9('keepalive: "2s" is not a time heartbeat accepts (did you mean 2 = 2 seconds, or 2000ms?)')] },
  { file: 'ha.cf', text: plus('deadtime fast'), expect: [at9('deadtime: "fast" is not a time (use 2, 500ms or 100us)')] },
  {
    file: 'ha.cf', text: plus('keepalive 500 ms'), expect: [
      at9('warning: keepalive: 2 values given ("500", "ms"); heartbeat applies each in turn and keeps the last, "ms"'),
      at9('keepalive: "ms" is not a time (use 2, 500ms or 100us)'),
      // the "500" was applied: 500 seconds
      `${HA_CF}:2: deadtime (10000ms) must be more than twice keepalive (500000ms)`,
    ],
  },
  { file: 'ha.cf', text: plus('warntime 0'), expect: [at9('warntime: "0" is 0ms; it must be more than 0')] },
  { file: 'ha.cf', text: plus('keepalive 100us'), expect: [at9('keepalive: "100us" is 0ms; it must be more than 0')] },
  { file: 'ha.cf', text: plus('initdead 1.2.3'), expect: [at9('warning: initdead: "1.2.3" is read as 1200ms (heartbeat stops at the second ".")'), at9('initdead (1200ms) is smaller than deadtime (10000ms)')] },
  {
    file: 'ha.cf', text: 'keepalive 2\ndeadtime 4\nbcast eth0\nauto_failback on\nlogfile /var/log/ha-log\nnode alpha\n',
    expect: [`${HA_CF}:2: deadtime (4000ms) must be more than twice keepalive (2000ms)`],
  },
  {
    file: 'ha.cf', text: 'deadtime 10\ninitdead 5\nbcast eth0\nauto_failback on\nlogfile /var/log/ha-log\nnode alpha\n',
    expect: [`${HA_CF}:2: initdead (5000ms) is smaller than deadtime (10000ms)`],
  },
  {
    file: 'ha.cf', text: 'deadtime 3\nbcast eth0\nauto_failback on\nlogfile /var/log/ha-log\nnode alpha\ninitdead 4\n',
    expect: [`${HA_CF}:6: warning: initdead (4000ms) may be too small: it covers slow network start-up and should be at least 10 s`],
  },
  // ha.cf: directives
  { file: 'ha.cf', text: plus('deadtme 30'), expect: [at9('unknown directive "deadtme" (did you mean "deadtime"?)')] },
  { file: 'ha.cf', text: plus('Node gamma'), expect: [at9('unknown directive "Node" (did you mean "node"?)')] },
  { file: 'ha.cf', text: plus('keeplaive 2'), expect: [at9('unknown directive "keeplaive" (did you mean "keepalive"?)')] },
  { file: 'ha.cf', text: plus('hbaping fc-card'), expect: [at9('unknown directive "hbaping": the hbaping plugin is not shipped with heartbeat 3.0.6')] },
  { file: 'ha.cf', text: plus('node,gamma'), expect: [at9('unknown directive "node,gamma" (a directive ends at a blank: write "node gamma")')] },
  { file: 'ha.cf', text: plus('udp eth1'), expect: [at9('warning: directive "udp" is read as "bcast" (heartbeat 3.0.6 renames it); write "bcast eth1"')] },
  { file: 'ha.cf', text: plus('node'), expect: [at9('warning: node: no value given; heartbeat ignores the line')] },
  { file: 'ha.cf', text: plus('node ALPHA'), expect: [at9('node "ALPHA" is listed twice (first on line 7); heartbeat-ts refuses a duplicate node (heartbeat 3.0.6 would count it twice)')] },
  // ha.cf: media
  { file: 'ha.cf', text: plus('mcast eth0 225.0.0.1 694 5 0'), expect: [at9('mcast: ttl "5" is out of range (0-4; heartbeat 3.0.6 refuses more than 4)')] },
  { file: 'ha.cf', text: plus('mcast eth0 225.0.0.1 694 1 2'), expect: [at9('mcast: loop "2" must be 0 or 1')] },
  { file: 'ha.cf', text: plus('mcast eth0 10.0.0.1 694 1 0'), expect: [at9('mcast: "10.0.0.1" is not an IPv4 multicast group (224.0.0.0-239.255.255.255)')] },
  { file: 'ha.cf', text: plus('mcast eth0 225.0.0.1 694'), expect: [at9('mcast: missing ttl (mcast <dev> <group> <port> <ttl> <loop>)')] },
  { file: 'ha.cf', text: plus('mcast eth0 225.0.0.1 99999 1 0'), expect: [at9('mcast: port "99999" is not 1-65535')] },
  { file: 'ha.cf', text: plus('ucast eth0'), expect: [at9('ucast: needs an interface and a peer address (ucast eth0 10.0.0.2)')] },
  { file: 'ha.cf', text: plus('ucast eth0 10.0.0.2 10.0.0.3'), expect: [at9('warning: ucast: only the first address is used; heartbeat ignores "10.0.0.3" (write one ucast line per peer)')] },
  { file: 'ha.cf', text: plus('ucast eth0 10.0.0.256'), expect: [at9('ucast: "10.0.0.256" is not an IPv4 address or host name')] },
  // ha.cf: IPv6 media, checked as ucast6.c and mcast6.c check them
  { file: 'ha.cf', text: plus('ucast6 eth0'), expect: [at9('ucast6: needs an interface and a peer address (ucast6 eth0 fd00::2)')] },
  { file: 'ha.cf', text: plus('ucast6 eth0 10.0.0.2'), expect: [at9('ucast6: "10.0.0.2" is not an IPv6 address')] },
  { file: 'ha.cf', text: plus('ucast6 eth0 fd00::1::2'), expect: [at9('ucast6: "fd00::1::2" is not an IPv6 address')] },
  { file: 'ha.cf', text: plus('ucast6 eth0 ff02::1'), expect: [at9('ucast6: "ff02::1" is a multicast address (use an mcast6 line for a group)')] },
  { file: 'ha.cf', text: plus('ucast6 eth0 ::'), expect: [at9('ucast6: "::" is the unspecified address ::')] },
  { file: 'ha.cf', text: plus('ucast6 eth0 ::1'), expect: [at9('ucast6: "::1" is the loopback address ::1')] },
  { file: 'ha.cf', text: plus('ucast6 eth0 fe80::2%eth1'), expect: [at9('ucast6: "fe80::2%eth1" names interface "eth1", not the line\'s "eth0"')] },
  { file: 'ha.cf', text: plus('ucast6 eth0 fd00::2 fd00::3'), expect: [at9('warning: ucast6: only the first address is used; heartbeat ignores "fd00::3" (write one ucast6 line per peer)')] },
  { file: 'ha.cf', text: plus('mcast6 eth0 ff12::1:2:3:4 694 5 0'), expect: [at9('mcast6: hops "5" is out of range (0-4; heartbeat 3.0.6 refuses more than 4)')] },
  { file: 'ha.cf', text: plus('mcast6 eth0 ff12::1:2:3:4 694 1 2'), expect: [at9('mcast6: loop "2" must be 0 or 1')] },
  { file: 'ha.cf', text: plus('mcast6 eth0 fd00::1 694 1 0'), expect: [at9('mcast6: "fd00::1" is not an IPv6 multicast group (ff..::)')] },
  { file: 'ha.cf', text: plus('mcast6 eth0 ff0e::1:2 694 1 0'), expect: [at9('mcast6: "ff0e::1:2" has a scope heartbeat 3.0.6 refuses (link 2, admin 4, site 5 or organization 8 only, e.g. ff12::1:2:3:4)')] },
  { file: 'ha.cf', text: plus('mcast6 eth0 ff32::1:2 694 1 0'), expect: [at9('mcast6: "ff32::1:2" has flags heartbeat 3.0.6 refuses (only ff0s:: and transient ff1s:: groups)')] },
  { file: 'ha.cf', text: plus('mcast6 eth0 ff02:: 694 1 0'), expect: [at9('mcast6: "ff02::" is a reserved group (all zero after the scope)')] },
  { file: 'ha.cf', text: plus('mcast6 eth0 ff12::1:2:3:4 694 1'), expect: [at9('mcast6: missing loop (mcast6 <dev> <group> <port> <hops> <loop>)')] },
  { file: 'ha.cf', text: plus('bcast eth0/1'), expect: [at9('bcast: "eth0/1" is not an interface name')] },
  { file: 'ha.cf', text: plus('udpport 700'), expect: [at9('warning: udpport comes after a bcast line, which already uses port 694; put udpport above the media lines')] },
  { file: 'ha.cf', text: plus('udpport none'), expect: [at9('warning: udpport: "none" is not a number; heartbeat reads it as 0'), at9('udpport: "none" is not a port number (1-65535)')] },
  {
    file: 'ha.cf', text: 'node alpha\nauto_failback on\nlogfile /var/log/ha-log\n',
    expect: [`${HA_CF}: no heartbeat media: add a bcast, ucast or mcast line`],
  },
  {
    file: 'ha.cf', text: 'bcast eth0\nauto_failback on\nlogfile /var/log/ha-log\n',
    expect: [`${HA_CF}: no nodes: add a node line for each cluster member (its uname -n)`],
  },
  // ha.cf: values
  { file: 'ha.cf', text: plus('hopfudge 300'), expect: [at9('hopfudge: "300" is out of range (0-255)')] },
  { file: 'ha.cf', text: plus('debug 3x'), expect: [at9('warning: debug: "3x" is read as 3; heartbeat ignores the rest')] },
  { file: 'ha.cf', text: plus('auto_failback maybe'), expect: [at9('auto_failback: "maybe" is not on, off or legacy')] },
  { file: 'ha.cf', text: plus('realtime sometimes'), expect: [at9('realtime: "sometimes" is not a boolean (use on/off, yes/no, true/false, 1/0)')] },
  { file: 'ha.cf', text: plus('logfacility local9'), expect: [at9('logfacility: "local9" is not a syslog facility (did you mean "local0"?)')] },
  { file: 'ha.cf', text: plus('baud 1234'), expect: [at9('baud: "1234" is not a supported rate (9600, 19200, 38400, 57600, 115200, 230400, 460800)')] },
  { file: 'ha.cf', text: plus('msgfmt json'), expect: [at9('msgfmt: "json" is not classic or netstring')] },
  { file: 'ha.cf', text: plus('max_rexmit_delay 0'), expect: [at9('max_rexmit_delay: "0" must be a whole number above 0')] },
  { file: 'ha.cf', text: plus('autojoin any'), expect: [at9('autojoin any conflicts with release-1 (haresources) resource management')] },
  { file: 'ha.cf', text: plus('nice_failback on'), expect: [at9('warning: nice_failback is obsolete; "nice_failback on" after auto_failback is read as "auto_failback off"')] },
  { file: 'ha.cf', as306: true, text: plus('apiauth ipfail'), expect: [at9('apiauth ipfail: give uid=... or gid=... (apiauth <client> [uid=a,b] [gid=c,d])')] },
  { file: 'ha.cf', as306: true, text: plus('apiauth ipfail users=hacluster'), expect: [at9('apiauth ipfail: "users=hacluster" is not uid=... or gid=... (apiauth <client> [uid=a,b] [gid=c,d])')] },
  { file: 'ha.cf', as306: true, text: plus('respawn hacluster ipfail'), expect: [at9('respawn: command "ipfail" is not a full path')] },
  { file: 'ha.cf', text: plus('env NOVALUE'), expect: [at9('env: "NOVALUE" is not NAME=value')] },
  { file: 'ha.cf', as306: true, text: plus('watchdog /dev/watchdog\nwatchdog /dev/watchdog1'), expect: [`${HA_CF}:10: watchdog: device given more than once`] },
  {
    file: 'ha.cf', text: 'bcast eth0\nnode alpha\nauto_failback on\nuse_logd off\n',
    expect: [`${HA_CF}:4: no logfile, debugfile or logfacility and use_logd is off: heartbeat would have nowhere to log`],
  },
  {
    file: 'ha.cf', text: 'bcast eth0\nnode alpha\nlogfile /var/log/ha-log\n',
    expect: [`${HA_CF}: warning: auto_failback is "legacy" (the default): heartbeat 3.0.6 deprecates it and refuses hb_standby; write "auto_failback on" or "off"`],
  },
  { file: 'ha.cf', text: plus('node ' + 'n'.repeat(100)), expect: [at9(`node: "${'n'.repeat(100)}" is longer than 99 characters`)] },

  // authkeys
  { file: 'authkeys', mode: 0o100644, text: 'auth 1\n1 sha1 secret\n', expect: [`${AUTHKEYS}: readable by group or others (mode 0644); heartbeat requires 600 (chmod 600 ${AUTHKEYS})`] },
  { file: 'authkeys', mode: 0o640, text: 'auth 1\n1 sha1 secret\n', expect: [`${AUTHKEYS}: readable by group or others (mode 0640); heartbeat requires 600 (chmod 600 ${AUTHKEYS})`] },
  { file: 'authkeys', text: '1 sha1 secret\nauth 1\n', expect: [`${AUTHKEYS}:2: "auth 1" must come before the line defining key 1 (line 1); heartbeat reports "Auth Key [1] not found"`] },
  { file: 'authkeys', text: 'auth 1\n1 md5\n', expect: [`${AUTHKEYS}:2: key 1: md5 requires a key`, `${AUTHKEYS}:1: auth 1: key 1 is not defined`] },
  { file: 'authkeys', text: 'auth 1\n1 crc secret\n', expect: [`${AUTHKEYS}:2: key 1: crc does not use a key; remove the key text`, `${AUTHKEYS}:1: auth 1: key 1 is not defined`] },
  { file: 'authkeys', text: 'auth 1\n1 sha1 secret\n16 sha1 other\n', expect: [`${AUTHKEYS}:3: key index 16 is out of range (0-15)`] },
  { file: 'authkeys', text: 'auth 2\n2 sha secret\n', expect: [`${AUTHKEYS}:2: key 2: unknown method "sha" (crc, md5 or sha1) (did you mean "sha1"?)`, `${AUTHKEYS}:1: auth 2: key 2 is not defined`] },
  { file: 'authkeys', text: '1 sha1 secret\n', expect: [`${AUTHKEYS}: no "auth N" line: heartbeat needs one to choose the signing key`] },
  { file: 'authkeys', text: 'auht 1\n1 sha1 secret\n', expect: [`${AUTHKEYS}:1: "auht" is not "auth N" (N: the key index to sign with)`, `${AUTHKEYS}: no "auth N" line: heartbeat needs one to choose the signing key`] },
  { file: 'authkeys', text: 'auth 1\nsha1 1 secret\n', expect: [`${AUTHKEYS}:2: not a key line: expected "N method [key]" (e.g. "1 sha1 SECRET") or "auth N"`, `${AUTHKEYS}:1: auth 1: key 1 is not defined`] },
  { file: 'authkeys', text: 'auth 1\n1 sha1 two words\n', expect: [`${AUTHKEYS}:2: warning: key 1: the key is one word; heartbeat ignores the 1 word after it`] },
  { file: 'authkeys', text: 'auth 1\n1 sha1 a\n1 md5 b\n', expect: [`${AUTHKEYS}:3: warning: key 1 is defined again; the later line replaces the earlier one`] },

  // haresources (ha.cf lists alpha and beta)
  { file: 'haresources', text: 'gamma 10.0.0.5 httpd\n', expect: [`${HARESOURCES}:1: group for node "gamma", which ha.cf does not list`] },
  { file: 'haresources', text: '# comment\nalpah 10.0.0.5\n', expect: [`${HARESOURCES}:2: group for node "alpah", which ha.cf does not list (did you mean "alpha"?)`] },
  { file: 'haresources', text: 'alpha 10.0.0.300 httpd\n', expect: [`${HARESOURCES}:1: IPaddr resource: "10.0.0.300" is not an IPv4 address (in "10.0.0.300")`] },
  { file: 'haresources', text: 'alpha 10.0.0.5/33\n', expect: [`${HARESOURCES}:1: IPaddr resource: "33" is not a netmask (1-32 bits or a dotted quad) in "10.0.0.5/33"`] },
  { file: 'haresources', text: 'alpha 10.0.0.5/24/eth0/10.0.0.256\n', expect: [`${HARESOURCES}:1: IPaddr resource: "10.0.0.256" is not a broadcast address in "10.0.0.5/24/eth0/10.0.0.256"`] },
  { file: 'haresources', text: 'alpha 10.0.0.5/24/10.0.0.255/eth0\n', expect: [`${HARESOURCES}:1: IPaddr resource: "10.0.0.5/24/10.0.0.255/eth0": a fourth part only follows an interface name (ip/cidr/nic/broadcast)`] },
  { file: 'haresources', text: 'alpha 10.0.0/24 httpd\n', expect: [`${HARESOURCES}:1: "10.0.0/24" starts with a digit but is not an address (ip[/cidr[/nic][/broadcast]]); ResourceManager would look for a script of that name`] },
  { file: 'haresources', text: 'alpha IPaddr::10.0.0.5::eth0\n', expect: [`${HARESOURCES}:1: resource "IPaddr::10.0.0.5::eth0": IPaddr takes exactly one argument, ip[/cidr[/nic][/broadcast]]`] },
  { file: 'haresources', text: 'alpha IPaddr::10.0.0.5/24/eth0:1\n', expect: [] },
  { file: 'haresources', text: 'alpha\n', expect: [`${HARESOURCES}:1: group for node "alpha" has no resources`] },
  { file: 'haresources', text: 'alpha 10.0.0.5 httpd\nbeta 10.0.0.5 squid\n', expect: [`${HARESOURCES}:2: group key "10.0.0.5" is also the key of the group on line 1; keys must be unique`] },
  { file: 'haresources', text: 'alpha lvs\nbeta 10.0.0.6 lvs\n', expect: [`${HARESOURCES}:2: resource "lvs" is the key of the group on line 1: ResourceManager looks groups up by key anywhere in a line and would take both lines as one group`] },
  { file: 'haresources', text: 'alpha httpd \\\n  10.0.0.5 # web\n', expect: [`${HARESOURCES}:2: comment on a continued line: ResourceManager does not strip it and would run "#" as a resource`] },
  { file: 'haresources', text: 'alpha httpd # web \\\nbeta squid\n', expect: [`${HARESOURCES}:1: warning: the backslash is inside a comment: heartbeat's check takes the next line as a continuation, ResourceManager does not`] },
  { file: 'haresources', text: 'alpha httpd \\ \nbeta squid\n', expect: [`${HARESOURCES}:1: warning: a backslash followed by blanks does not continue the line`, `${HARESOURCES}:1: stray backslash: ResourceManager would run "\\\\" as a resource`] },
  { file: 'haresources', text: 'alpha httpd\r\n', expect: [`${HARESOURCES}:1: carriage return in the line (DOS line endings?): ResourceManager would read "httpd\\r" as part of a name`] },
  { file: 'haresources', text: 'alpha ::x\n', expect: [`${HARESOURCES}:1: resource "::x" has no script name before "::"`] },
  { file: 'haresources', text: 'alpha Filesystem::::/data\n', expect: [`${HARESOURCES}:1: warning: resource "Filesystem::::/data": empty arguments between "::" are dropped`] },
  { file: 'haresources', text: 'alpha 10.0.0.5 httpd \\', expect: [`${HARESOURCES}:1: warning: the last line ends with a backslash; there is no line to continue`] },
]

t.ok(rows.filter((r) => r.file === 'ha.cf').length >= 15 && rows.filter((r) => r.file === 'authkeys').length >= 10 && rows.filter((r) => r.file === 'haresources').length >= 15, 'every reader has its share of rows')
t.ok(rows.length >= 40, `${rows.length} rows`)

t.same(parseHaCf(base, HA_CF).diagnostics, [], 'the base ha.cf draws nothing on its own')

for (const row of rows) {
  let diagnostics
  if (row.file === 'ha.cf') diagnostics = parseHaCf(row.text, HA_CF, { refuseUnsupported: row.as306 !== true }).diagnostics
  else if (row.file === 'authkeys') diagnostics = parseAuthkeys(row.text, AUTHKEYS, row.mode ?? 0o600).diagnostics
  else diagnostics = parseHaresources(row.text, HARESOURCES, ['alpha', 'beta']).diagnostics
  t.same(diagnostics.map(formatDiagnostic), row.expect, `${row.file}: ${JSON.stringify(row.text.split('\n').filter((l) => l !== '').slice(-1)[0] ?? row.text)}`)
  if (row.file === 'authkeys') {
    const keys = parseAuthkeys(row.text, AUTHKEYS, row.mode ?? 0o600).keys
    t.equal(keys === undefined, hasErrors(diagnostics), 'keys come back exactly when heartbeat would accept the file')
  }
}
