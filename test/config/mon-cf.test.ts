// mon.cf reader: the seed file, the double-spaced form, Time::Period, and a table of bad lines with exact messages.
import t from 'tap'
import { readFileSync } from 'node:fs'
import { parseMonCf, parseTimeval } from '../../lib/config/mon-cf.js'
import { formatDiagnostic } from '../../lib/config/diagnostics.js'
import { inPeriod, parseTimePeriod } from '../../lib/config/time-period.js'
import type { WallTime } from '../../lib/config/time-period.js'
import { splitWords } from '../../lib/config/mon-words.js'

const P = '/etc/mon/mon.cf'
const format = (text: string): string[] => parseMonCf(text, P).diagnostics.map(formatDiagnostic)

for (const view of ['titanic5', 'titanic6']) {
  t.test(`the seed's mon.cf (${view}) reads unchanged`, async (t) => {
    const text = readFileSync(new URL(`../../ha.d-example/${view}/mon/mon.cf`, import.meta.url), 'utf8')
    const { config, diagnostics } = parseMonCf(text, P)
    t.same(diagnostics.map(formatDiagnostic), [
      `${P}:20: warning: alert argument "–R" starts with an en-dash (U+2013), not "-"; read as "-R"`,
      `${P}:21: warning: upalert argument "–W" starts with an en-dash (U+2013), not "-"; read as "-W"`,
      `${P}:29: warning: upalert argument "–W" starts with an en-dash (U+2013), not "-"; read as "-W"`,
      `${P}:37: warning: upalert argument "–W" starts with an en-dash (U+2013), not "-"; read as "-W"`,
    ], 'only the en-dash lines are reported, by number')
    t.equal(config.globals.maxprocs, 20)
    t.equal(config.globals.randstartMs, 30_000)
    t.same(config.globals.mondir, ['/usr/local/mon/mon.d'])
    t.same(config.globals.alertdir, ['/usr/local/mon/alert.d'])
    t.same(config.watches.map((w) => [w.group, w.hosts]), [
      ['realNode-1', ['129.254.203.146']],
      ['realNode-2', ['129.254.203.147']],
      ['realNode-3', ['129.254.203.148']],
    ])
    for (const w of config.watches) {
      const s = w.services[0]!
      t.equal(s.name, 'http')
      t.equal(s.intervalMs, 5000)
      t.same(s.monitor && [s.monitor.name, s.monitor.args, s.monitor.appendHosts], ['http.monitor', [], true])
      const p = s.periods[0]!
      t.equal(p.spec, 'wd {Sun-Sat}')
      const real = w.hosts[0]!
      t.same(p.alerts.map((a) => [a.name, a.args]), [['lvs.alert', ['-P', 'tcp', '-V', '129.254.203.149:80', '-R', real, '-W', '1', '-F', 'dr', '-X', 'down']]])
      t.same(p.upalerts.map((a) => [a.name, a.args]), [['lvs.alert', ['-P', 'tcp', '-V', '129.254.203.149:80', '-R', real, '-W', '1', '-F', 'dr']]])
    }
  })
}

t.test('the double-spaced form printed in the seed document is read the same, with a warning per watch', async (t) => {
  const text = readFileSync(new URL('../../ha.d-example/titanic5/mon/mon.cf', import.meta.url), 'utf8')
  const doubled = text.split('\n').join('\n\n\n')
  const single = parseMonCf(text, P).config
  const { config, diagnostics } = parseMonCf(doubled, P)
  t.same(config.watches, single.watches.map((w) => ({
    ...w,
    line: w.line * 3 - 2,
    services: w.services.map((s) => ({
      ...s,
      line: s.line * 3 - 2,
      monitor: s.monitor && { ...s.monitor, line: s.monitor.line * 3 - 2 },
      periods: s.periods.map((p) => ({
        ...p,
        line: p.line * 3 - 2,
        alerts: p.alerts.map((a) => ({ ...a, line: a.line * 3 - 2 })),
        upalerts: p.upalerts.map((a) => ({ ...a, line: a.line * 3 - 2 })),
      })),
    })),
  })), 'same watches, services, periods and alerts')
  const blanks = diagnostics.map(formatDiagnostic).filter((d) => d.includes('blank line inside watch'))
  t.same(blanks, [
    `${P}:46: warning: blank line inside watch "realNode-1": mon ends the watch there; read as the double-spaced form, so "service http" stays in the watch`,
    `${P}:70: warning: blank line inside watch "realNode-2": mon ends the watch there; read as the double-spaced form, so "service http" stays in the watch`,
    `${P}:94: warning: blank line inside watch "realNode-3": mon ends the watch there; read as the double-spaced form, so "service http" stays in the watch`,
  ])
  t.equal(diagnostics.filter((d) => d.severity === 'error').length, 0)
})

t.test('a blank line followed by an unindented line still ends the watch (mon)', async (t) => {
  const text = 'hostgroup g h1\n\nwatch g\n    service s\n        interval 5s\n        monitor m\n\nservice t\n'
  t.same(format(text), [`${P}:8: "service" outside a watch block (a blank line ends the watch)`])
})

t.test('hostgroup continuation swallows a watch line with no blank line before it (mon)', async (t) => {
  const text = 'hostgroup g h1\nwatch g\n    service s\n        interval 5s\n        monitor m\n'
  const { config, diagnostics } = parseMonCf(text, P)
  t.same(config.hostgroups[0]?.hosts, ['h1', 'watch', 'g', 'service', 's', 'interval', '5s', 'monitor', 'm'])
  t.same(config.watches, [])
  t.same(diagnostics.map(formatDiagnostic), [
    `${P}:1: warning: hostgroup "g" has no watch`,
    `${P}:2: warning: "watch g" follows hostgroup "g" with no blank line between: mon reads its words as more hosts of "g"`,
  ])
})

t.test('comments, continuation lines, labelled periods, quoted words', async (t) => {
  const text = [
    '# a comment',
    'hostgroup g h1 \\',
    '     h2',
    '',
    'watch g',
    '    service s',
    '        interval 1m',
    '        # comment inside',
    '        monitor m -u "/a b" \'x y\' c\\ d',
    '        period day: wd {Mon-Fri}',
    '            alert a.alert',
    '        period night: wd {Mon-Fri}',
    '            alert b.alert',
  ].join('\n')
  const { config, diagnostics } = parseMonCf(text, P)
  t.same(diagnostics, [])
  t.same(config.watches[0]?.hosts, ['h1', 'h2'])
  const s = config.watches[0]!.services[0]!
  t.equal(s.intervalMs, 60_000)
  t.same(s.monitor?.args, ['-u', '/a b', 'x y', 'c d'])
  t.same(s.periods.map((p) => p.label), ['day', 'night'], 'labels let two periods share one spec')
})

// One bad line at a time, inside an otherwise valid file; the expected text is exactly what `hbctl check` prints.
const base = (lines: { global?: string; service?: string; period?: string; top?: string }): string =>
  [
    lines.global ?? 'maxprocs = 2',
    '',
    'hostgroup web 10.0.0.1',
    '',
    'watch web',
    '    service http',
    '        interval 5s',
    '        monitor http.monitor',
    lines.service ?? '        description web',
    '        period wd {Sun-Sat}',
    '            alert lvs.alert -P tcp',
    lines.period ?? '            upalert lvs.alert -u',
    '',
    lines.top ?? '',
  ].join('\n')

const table: Array<[string, Parameters<typeof base>[0], string]> = [
  ['unknown global', { global: 'maxprox = 2' }, `${P}:1: unknown variable "maxprox" (did you mean "maxprocs"?)`],
  ['maxprocs not a number', { global: 'maxprocs = lots' }, `${P}:1: maxprocs: "lots" is not a non-negative integer`],
  ['randstart without unit', { global: 'randstart = 30' }, `${P}:1: randstart: "30" is not a time value (mon needs a unit: 5s, 1m, 2h, 1d)`],
  ['interval without unit', { service: '        interval 5' }, `${P}:9: interval: "5" is not a time value (mon needs a unit: 5s, 1m, 2h, 1d)`],
  ['interval zero', { service: '        interval 0s' }, `${P}:9: interval: "0s" must be greater than zero`],
  ['interval garbage', { service: '        interval soon' }, `${P}:9: interval: "soon" is not a time value (use e.g. 5s, 1m, 2h, 1d)`],
  ['misspelt service keyword', { service: '        intervall 5s' }, `${P}:9: unknown keyword "intervall" in watch "web" (did you mean "interval"?)`],
  ['service keyword after period', { period: '        interval 10s' }, `${P}:12: "interval" belongs before the first "period" of service "http"`],
  ['malformed period', { top: 'watch web2\n    service http\n        interval 5s\n        monitor m\n        period wd {Sun-Funday}' },
    `${P}:18: malformed period "wd {Sun-Funday}": bad wday range "Sun-Funday"`],
  ['period with unknown scale', { top: 'watch web2\n    service http\n        interval 5s\n        monitor m\n        period weekday {Mon}' },
    `${P}:18: malformed period "weekday {Mon}": unknown scale "weekday"`],
  ['unbalanced quote', { period: '            upalert lvs.alert "-P tcp' }, `${P}:12: upalert: unbalanced double quote in "upalert lvs.alert \\"-P tcp"`],
  ['alert with no program', { period: '            alert' }, `${P}:12: alert needs a program name`],
  ['bad exit range', { period: '            alert exit=x lvs.alert' }, `${P}:12: alert: bad exit range "x" (use N or N-M)`],
  ['bad alertafter', { period: '            alertafter soon' }, `${P}:12: alertafter: "soon" is not "N", "N timeval" or "timeval"`],
  ['bad numalerts', { period: '            numalerts 0' }, `${P}:12: numalerts: "0" is not a positive integer`],
  ['bad alertevery option', { period: '            alertevery 1m always' },
    `${P}:12: alertevery: unknown option "always" (expected observe_detail, ignore_summary, strict or summary)`],
  ['duplicate watch', { top: 'watch web' }, `${P}:14: watch "web" is defined twice (first at line 5)`],
  ['bad hostgroup name', { top: 'hostgroup real/node 10.0.0.9' }, `${P}:14: hostgroup name "real/node" may only contain letters, digits, "_", "." and "-"`],
  ['unknown top-level line', { top: 'hostgrup web2 10.0.0.2' }, `${P}:14: unknown syntax "hostgrup web2 10.0.0.2" (did you mean "hostgroup"?)`],
  ['period keyword outside a watch', { top: 'alert lvs.alert' }, `${P}:14: "alert" outside a watch block (a blank line ends the watch)`],
  ['alert keyword before a period', { service: '        alert lvs.alert' }, `${P}:9: "alert" needs a "period" line before it in service "http"`],
  ['duplicate service', { period: '    service http' }, `${P}:12: service "http" is defined twice in watch "web" (first at line 6)`],
]

t.test('bad lines: exact diagnostics', async (t) => {
  t.ok(table.length >= 12)
  t.same(format(base({})), [], 'the base file is clean')
  for (const [name, lines, expected] of table) {
    const got = format(base(lines)).filter((d) => !d.includes('warning:') || expected.includes('warning:'))
    t.ok(got.includes(expected), `${name}: ${expected}${got.includes(expected) ? '' : `\n  got: ${JSON.stringify(got)}`}`)
  }
})

t.test('structural warnings and errors after reading', async (t) => {
  t.same(format('watch lonely\n    service s\n        interval 5s\n        monitor m\n'), [
    `${P}:1: warning: watch "lonely" names no hostgroup; mon watches the single host "lonely"`,
  ])
  t.same(format('hostgroup g h\n\nwatch g\n    service s\n        monitor m\n'), [`${P}:4: service "s" of watch "g" has no interval`])
  t.same(format('hostgroup g h\n\nwatch g\n    service s\n        interval 5s\n        depend g:s\n'), [
    `${P}:4: warning: service "s" of watch "g" has no monitor line; it never runs`,
    `${P}:6: warning: "depend" is accepted but has no effect in heartbeat-ts`,
  ])
})

t.test('never throws on junk', async (t) => {
  let seed = 7
  const rnd = (): number => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31
  const alphabet = 'hostgroup watch service period alert interval monitor {}-=\\"\'#\n\n  5s wd\u2013\0\t;;exit=1-2'.split('')
  for (let i = 0; i < 500; i++) {
    let s = ''
    const n = Math.floor(rnd() * 200)
    for (let j = 0; j < n; j++) s += alphabet[Math.floor(rnd() * alphabet.length)]
    parseMonCf(s, P)
  }
  t.pass('500 random files read without an exception')
})

t.test('time values (dhmstos)', async (t) => {
  t.same(['5s', '1m', '1.5h', '2d', ' 30S '].map((v) => parseTimeval(v)), [
    { ok: true, ms: 5000 }, { ok: true, ms: 60_000 }, { ok: true, ms: 5_400_000 }, { ok: true, ms: 172_800_000 }, { ok: true, ms: 30_000 },
  ])
  t.same(['5', '', 's', '5x', '-5s'].map((v) => parseTimeval(v).ok), [false, false, false, false, false])
})

function wall(p: Partial<WallTime>): WallTime {
  return { unixSec: 0, year: 2024, month: 1, mday: 1, wday: 2, yday: 1, hour: 9, minute: 0, second: 0, ...p }
}

t.test('Time::Period subset', async (t) => {
  const match = (spec: string, w: Partial<WallTime>): boolean | string => {
    const r = parseTimePeriod(spec)
    return r.ok ? inPeriod(r.period, wall(w)) : r.reason
  }
  t.equal(match('wd {Sun-Sat}', { wday: 1 }), true)
  t.equal(match('wd {Sun-Sat}', { wday: 7 }), true)
  t.equal(match('', {}), true, 'blank = always')
  t.equal(match('NONE', {}), false, 'none = never')
  t.equal(match('wd {Fri-Mon}', { wday: 1 }), true, 'ranges wrap')
  t.equal(match('wd {Fri-Mon}', { wday: 4 }), false)
  t.equal(match('wd {Monday}', { wday: 2 }), true, 'only the first two letters of a day matter')
  t.equal(match('wd {Mon-Fri} hr {9am-4pm}', { wday: 2, hour: 16 }), true, 'hour ranges are inclusive')
  t.equal(match('wd {Mon-Fri} hr {9am-4pm}', { wday: 2, hour: 17 }), false)
  t.equal(match('wd {Mon-Fri} hr {9am-4pm}', { wday: 7, hour: 10 }), false, 'all scales of a sub-period must match')
  t.equal(match('wd {Sat}, hr {12noon}', { wday: 2, hour: 12 }), true, 'sub-periods are OR-ed')
  t.equal(match('hr {12am}', { hour: 0 }), true)
  t.equal(match('hr {11pm-1am}', { hour: 0 }), true)
  t.equal(match('mo {jan feb} md {1-7}', { month: 2, mday: 3 }), true)
  t.equal(match('yr {24}', { year: 2024 }), true, 'two-digit years')
  t.equal(match('wk {1}', { mday: 6, wday: 7 }), true, '2024-01-06 (Saturday) is in the first week of January')
  t.equal(match('wk {2}', { mday: 7, wday: 1 }), true, '2024-01-07 (Sunday) starts the second week')
  t.equal(match('min {0-29} sec {0-59}', { minute: 30 }), false)
  t.equal(match('wd {Xyz}', {}), 'bad wday range "Xyz"')
  t.equal(match('wd Mon', {}), 'expected "scale {range ...}" at "wd Mon"')
  t.equal(match('yr {2025-2020}', {}), 'year range "2025-2020" goes backwards (years do not wrap)')
  t.equal(match('hr {25}', {}), 'bad hour range "25"')
  t.equal(match('wd {Mon},', {}), 'empty sub-period between commas')
})

t.test('argument words (Text::ParseWords)', async (t) => {
  t.same(splitWords(`a "b c" 'd e' f\\ g "h\\"i" 'j\\'k'`), { ok: true, words: ['a', 'b c', 'd e', 'f g', 'h"i', "j'k"] })
  t.same(splitWords(`a'b'"c"`), { ok: true, words: ['abc'] })
  t.same(splitWords(`'x`), { ok: false, reason: 'unbalanced single quote' })
})
