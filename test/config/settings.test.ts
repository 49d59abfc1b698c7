// heartbeat-ts.conf: a table of good and bad settings files, each with the settings it yields and the exact diagnostics an admin sees.
import t from 'tap'
import { formatDiagnostic, hasErrors } from '../../lib/config/diagnostics.js'
import { DEFAULT_SETTINGS_PATH, defaultSettings, parseSettings, SETTING_KEYS, type Settings } from '../../lib/config/settings.js'

const P = DEFAULT_SETTINGS_PATH
const at = (line: number, message: string): string => `${P}:${line}: ${message}`
const warnAt = (line: number, message: string): string => `${P}:${line}: warning: ${message}`

/** The defaults with some values changed (a deep copy, so rows cannot disturb each other). */
function withDefaults(change: (s: Settings) => void = () => undefined): Settings {
  const s = defaultSettings()
  change(s)
  return s
}

interface Row {
  name: string
  text: string
  /** The settings the daemon would use. */
  settings: Settings
  /** Every diagnostic, formatted, in order. */
  expect: string[]
}

const FULL = `# heartbeat-ts extension settings
[membership]
status_copies = 3

[ipaddr]
arp_count = 5
arp_interval_ms = 200

[lvs]
down_action = quiesce
rules_file = /etc/ha.d/lvs.rules

[agents]
timeout_ms = 120000
`

const rows: Row[] = [
  // good files
  { name: 'empty file: all defaults', text: '', settings: withDefaults(), expect: [] },
  { name: 'comments and blank lines only', text: '; nothing\n# here\n\n   \n', settings: withDefaults(), expect: [] },
  {
    name: 'every key set',
    text: FULL,
    settings: {
      membership: { statusCopies: 3 },
      ipaddr: { arpCount: 5, arpIntervalMs: 200 },
      lvs: { downAction: 'quiesce', rulesFile: '/etc/ha.d/lvs.rules' },
      agents: { timeoutMs: 120000, siteScripts: [] },
      notify: { command: [], timeoutMs: 10000, maxRunning: 4 },
      metrics: { textfile: '', intervalMs: 15000 },
    },
    expect: [],
  },
  {
    name: 'status_copies = 1 is plain heartbeat 3.0.6',
    text: '[membership]\nstatus_copies = 1\n',
    settings: withDefaults((s) => (s.membership.statusCopies = 1)),
    expect: [],
  },
  {
    name: 'no blanks around =, trailing comments, quoted values, CRLF line ends',
    text: '[lvs]\r\ndown_action=quiesce ; drain\r\nrules_file = "/srv/lvs rules"\r\n[ipaddr]\r\narp_count = 10   \r\n',
    settings: withDefaults((s) => {
      s.lvs.downAction = 'quiesce'
      s.lvs.rulesFile = '/srv/lvs rules'
    }),
    expect: [],
  },
  {
    name: 'a section may appear twice',
    text: '[ipaddr]\narp_count = 3\n[lvs]\ndown_action = quiesce\n[ipaddr]\narp_interval_ms = 1000\n',
    settings: withDefaults((s) => {
      s.ipaddr.arpCount = 3
      s.ipaddr.arpIntervalMs = 1000
      s.lvs.downAction = 'quiesce'
    }),
    expect: [],
  },
  {
    name: 'range edges are accepted',
    text: '[membership]\nstatus_copies = 5\n[ipaddr]\narp_count = 100\narp_interval_ms = 1\n[agents]\ntimeout_ms = 1000\n',
    settings: withDefaults((s) => {
      s.membership.statusCopies = 5
      s.ipaddr.arpCount = 100
      s.ipaddr.arpIntervalMs = 1
      s.agents.timeoutMs = 1000
    }),
    expect: [],
  },

  // warnings: the rest of the file still applies
  {
    name: 'misspelt key',
    text: '[membership]\nstatus_copys = 3\n',
    settings: withDefaults(),
    expect: [warnAt(2, '[membership]: unknown key "status_copys" (did you mean "status_copies"?); ignored')],
  },
  {
    name: 'key in the wrong section',
    text: '[lvs]\narp_count = 4\ndown_action = quiesce\n',
    settings: withDefaults((s) => (s.lvs.downAction = 'quiesce')),
    expect: [warnAt(2, '[lvs]: unknown key "arp_count" (arp_count belongs under [ipaddr]); ignored')],
  },
  {
    name: 'misspelt key that lives in another section',
    text: '[agents]\narp_intervall_ms = 4\n',
    settings: withDefaults(),
    expect: [warnAt(2, '[agents]: unknown key "arp_intervall_ms" (did you mean "arp_interval_ms" under [ipaddr]?); ignored')],
  },
  {
    name: 'a key nothing resembles',
    text: '[agents]\ncolour = blue\n',
    settings: withDefaults(),
    expect: [warnAt(2, '[agents]: unknown key "colour"; ignored')],
  },
  {
    name: 'misspelt section: its keys are not applied',
    text: '[membershp]\nstatus_copies = 4\n[lvs]\ndown_action = quiesce\n',
    settings: withDefaults((s) => (s.lvs.downAction = 'quiesce')),
    expect: [warnAt(1, 'unknown section "[membershp]" (did you mean "membership"?); its keys are ignored')],
  },
  {
    name: 'section names are case-sensitive',
    text: '[LVS]\ndown_action = quiesce\n',
    settings: withDefaults(),
    expect: [warnAt(1, 'unknown section "[LVS]" (did you mean "lvs"?); its keys are ignored')],
  },
  {
    name: 'dotted section names are not sub-sections of ours',
    text: '[lvs.extra]\ndown_action = quiesce\n',
    settings: withDefaults(),
    expect: [warnAt(1, 'unknown section "[lvs.extra]"; its keys are ignored')],
  },
  {
    name: 'key before any section',
    text: 'status_copies = 3\n[membership]\n',
    settings: withDefaults(),
    expect: [warnAt(1, '"status_copies" is outside any section and is ignored (it belongs under [membership])')],
  },
  {
    name: 'unknown key before any section',
    text: 'verbose = 1\n',
    settings: withDefaults(),
    expect: [warnAt(1, '"verbose" is outside any section and is ignored')],
  },
  {
    name: 'a key set twice: the later value wins, with a warning',
    text: '[ipaddr]\narp_count = 3\n\narp_count = 7\n',
    settings: withDefaults((s) => (s.ipaddr.arpCount = 7)),
    expect: [warnAt(4, '[ipaddr] arp_count is set again (first on line 2); this later value wins')],
  },

  // errors: the daemon refuses to start
  {
    name: 'status_copies 0',
    text: '[membership]\nstatus_copies = 0\n',
    settings: withDefaults(),
    expect: [at(2, '[membership] status_copies: "0" is out of range; use 1-5')],
  },
  {
    name: 'status_copies 6',
    text: '\n\n[membership]\nstatus_copies = 6\n',
    settings: withDefaults(),
    expect: [at(4, '[membership] status_copies: "6" is out of range; use 1-5')],
  },
  {
    name: 'a fraction',
    text: '[membership]\nstatus_copies = 2.5\n',
    settings: withDefaults(),
    expect: [at(2, '[membership] status_copies: "2.5" is not a whole number; use 1-5')],
  },
  {
    name: 'a negative number',
    text: '[ipaddr]\narp_count = -1\n',
    settings: withDefaults(),
    expect: [at(2, '[ipaddr] arp_count: "-1" is not a whole number; use 1-100')],
  },
  {
    name: 'a unit after milliseconds',
    text: '[agents]\ntimeout_ms = 60s\n',
    settings: withDefaults(),
    expect: [at(2, '[agents] timeout_ms: "60s" is not a whole number (write the number of milliseconds only, without a unit); use 1000-3600000')],
  },
  {
    name: 'a unit with a blank',
    text: '[ipaddr]\narp_interval_ms = 500 ms\n',
    settings: withDefaults(),
    expect: [at(2, '[ipaddr] arp_interval_ms: "500 ms" is not a whole number (write the number of milliseconds only, without a unit); use 1-10000')],
  },
  {
    name: 'timeout below a second',
    text: '[agents]\ntimeout_ms = 999\n',
    settings: withDefaults(),
    expect: [at(2, '[agents] timeout_ms: "999" is out of range; use 1000-3600000')],
  },
  {
    name: 'a huge number',
    text: '[agents]\ntimeout_ms = 99999999999999999999999\n',
    settings: withDefaults(),
    expect: [at(2, '[agents] timeout_ms: "99999999999999999999999" is out of range; use 1000-3600000')],
  },
  {
    name: 'true is not a number',
    text: '[ipaddr]\narp_count = true\n',
    settings: withDefaults(),
    expect: [at(2, '[ipaddr] arp_count: "true" is not a whole number; use 1-100')],
  },
  {
    name: 'down_action with capitals',
    text: '[lvs]\ndown_action = Quiesce\n',
    settings: withDefaults(),
    expect: [at(2, '[lvs] down_action: "Quiesce" is not remove or quiesce (did you mean "quiesce"?)')],
  },
  {
    name: 'down_action misspelt',
    text: '[lvs]\ndown_action = quiese\n',
    settings: withDefaults(),
    expect: [at(2, '[lvs] down_action: "quiese" is not remove or quiesce (did you mean "quiesce"?)')],
  },
  {
    name: 'down_action of another tool',
    text: '[lvs]\ndown_action = inhibit\n',
    settings: withDefaults(),
    expect: [at(2, '[lvs] down_action: "inhibit" is not remove or quiesce')],
  },
  {
    name: 'relative rules_file',
    text: '[lvs]\nrules_file = ipvsadm.rules\n',
    settings: withDefaults(),
    expect: [at(2, '[lvs] rules_file: "ipvsadm.rules" is not an absolute path')],
  },
  {
    name: 'rules_file with a control character',
    text: '[lvs]\nrules_file = /etc/ha.d/a\tb\n',
    settings: withDefaults(),
    expect: [at(2, '[lvs] rules_file: "/etc/ha.d/a\\tb" contains control characters')],
  },
  {
    name: 'a key without = value',
    text: '[membership]\nstatus_copies\n',
    settings: withDefaults(),
    expect: [at(2, '[membership] status_copies: needs a value (status_copies = 1-5)')],
  },
  {
    name: 'an empty value',
    text: '[lvs]\ndown_action =   ; later\n',
    settings: withDefaults(),
    expect: [at(2, '[lvs] down_action: needs a value (down_action = remove | quiesce)')],
  },
  {
    name: 'a line that is not key = value',
    text: '[lvs]\n= quiesce\n',
    settings: withDefaults(),
    expect: [at(2, '"= quiesce" is not "key = value"')],
  },
  {
    name: 'an indented section header (ini would read it as a key)',
    text: '[ipaddr]\n  [lvs]\ndown_action = quiesce\n',
    settings: withDefaults(),
    expect: [at(2, '"  [lvs]": a section header must start at the beginning of the line')],
  },
  {
    name: 'a good value, then a bad one for the same key: both reported, the good one stays',
    text: '[ipaddr]\narp_count = 4\narp_count = many\n',
    settings: withDefaults((s) => (s.ipaddr.arpCount = 4)),
    expect: [warnAt(3, '[ipaddr] arp_count is set again (first on line 2); this later value wins'), at(3, '[ipaddr] arp_count: "many" is not a whole number; use 1-100')],
  },
  {
    name: 'site_scripts: resource names whose site script runs instead of the built-in',
    text: '[agents]\nsite_scripts = lvs, IPaddr\n',
    settings: withDefaults((s) => (s.agents.siteScripts = ['lvs', 'IPaddr'])),
    expect: [],
  },
  {
    name: 'site_scripts: a path is not a resource name',
    text: '[agents]\nsite_scripts = lvs ../bin/sh\n',
    settings: withDefaults(),
    expect: [at(2, '[agents] site_scripts: "../bin/sh" is not a resource name (a script name in resource.d)')],
  },
  {
    name: 'several problems, each on its own line',
    text: FULL.replace('status_copies = 3', 'status_copies = none').replace('down_action = quiesce', 'down_acton = quiesce').replace('timeout_ms = 120000', 'timeout_ms = 0'),
    settings: {
      membership: { statusCopies: 3 },
      ipaddr: { arpCount: 5, arpIntervalMs: 200 },
      lvs: { downAction: 'remove', rulesFile: '/etc/ha.d/lvs.rules' },
      agents: { timeoutMs: 60000, siteScripts: [] },
      notify: { command: [], timeoutMs: 10000, maxRunning: 4 },
      metrics: { textfile: '', intervalMs: 15000 },
    },
    expect: [
      at(3, '[membership] status_copies: "none" is not a whole number; use 1-5'),
      warnAt(10, '[lvs]: unknown key "down_acton" (did you mean "down_action"?); ignored'),
      at(14, '[agents] timeout_ms: "0" is out of range; use 1000-3600000'),
    ],
  },
]

for (const row of rows) {
  t.test(row.name, async (t) => {
    const { settings, diagnostics } = parseSettings(row.text, P)
    t.same(diagnostics.map(formatDiagnostic), row.expect, 'diagnostics')
    t.same(settings, row.settings, 'settings')
    t.equal(hasErrors(diagnostics), row.expect.some((m) => !m.includes(': warning: ')), 'errors iff an error line is expected')
  })
}

t.test('the defaults are the documented ones, and 1 copy is not the default', async (t) => {
  t.same(defaultSettings(), {
    membership: { statusCopies: 3 },
    ipaddr: { arpCount: 10, arpIntervalMs: 500 },
    lvs: { downAction: 'remove', rulesFile: '/etc/ha.d/ipvsadm.rules' },
    agents: { timeoutMs: 60000, siteScripts: [] },
    notify: { command: [], timeoutMs: 10000, maxRunning: 4 },
    metrics: { textfile: '', intervalMs: 15000 },
  })
  t.equal(DEFAULT_SETTINGS_PATH, '/etc/ha.d/heartbeat-ts.conf')
  const a = defaultSettings()
  a.membership.statusCopies = 5
  t.equal(defaultSettings().membership.statusCopies, 3, 'each call is a fresh copy')
})

t.test('a file that writes every default out reads back as the defaults', async (t) => {
  let text = ''
  let section = ''
  for (const k of SETTING_KEYS) {
    if (k.section !== section) text += `[${(section = k.section)}]\n`
    // a key whose default is "none" (notify command, metrics textfile) is left out, as one would
    if (k.defaultText !== '') text += `${k.key} = ${k.defaultText}\n`
  }
  t.same(SETTING_KEYS.map((k) => `${k.section}.${k.key}`), [
    'membership.status_copies',
    'ipaddr.arp_count',
    'ipaddr.arp_interval_ms',
    'lvs.down_action',
    'lvs.rules_file',
    'agents.timeout_ms',
    'agents.site_scripts',
    'notify.command',
    'notify.timeout_ms',
    'notify.max_running',
    'metrics.textfile',
    'metrics.interval_ms',
  ])
  const { settings, diagnostics } = parseSettings(text, P)
  t.same(diagnostics, [])
  t.same(settings, defaultSettings())
})

t.test('[notify] and [metrics]: the hook as an argument vector, the textfile as an absolute path', async (t) => {
  const r = parseSettings('[notify]\ncommand = /usr/local/sbin/hb-notify  --to ops\ntimeout_ms = 500\n[metrics]\ntextfile = /var/lib/node_exporter/textfile/heartbeat.prom\ninterval_ms = 5000\n', P)
  t.same(r.diagnostics, [])
  t.same(r.settings.notify, { command: ['/usr/local/sbin/hb-notify', '--to', 'ops'], timeoutMs: 500, maxRunning: 4 })
  t.same(r.settings.metrics, { textfile: '/var/lib/node_exporter/textfile/heartbeat.prom', intervalMs: 5000 })
  const bad = parseSettings('[notify]\ncommand = hb-notify\n[metrics]\ntextfile = heartbeat.prom\n', P)
  t.same(
    bad.diagnostics.map((d) => d.message),
    ['[notify] command: "hb-notify" is not an absolute path', '[metrics] textfile: "heartbeat.prom" is not an absolute path'],
  )
})

t.test('garbage never throws and never applies anything', async (t) => {
  const junk = ['\u0000\u0001[', '[', ']', '[]\n=\n==\n', '[membership]\n__proto__ = 1\nconstructor = 2\n', '[__proto__]\nstatus_copies = 3\n', '\uFEFF[membership]\nstatus_copies = 4\n', 'x'.repeat(100000)]
  for (const text of junk) {
    const r = parseSettings(text, P)
    t.ok(Array.isArray(r.diagnostics), `${JSON.stringify(text.slice(0, 30))}: parsed without throwing`)
  }
  t.same(parseSettings('[membership]\n__proto__ = 1\n', P).settings, defaultSettings(), '__proto__ is just an unknown key')
  t.equal(parseSettings('\uFEFF[membership]\nstatus_copies = 4\n', P).settings.membership.statusCopies, 4, 'a byte-order mark is skipped')
})
