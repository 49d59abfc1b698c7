// The ha.cf directive table: each row's 3.0.6 default, written out in ha.cf, changes nothing.
import t from 'tap'
import { DIRECTIVE_TABLE, initialDraft } from '../../lib/config/ha-cf-directives.js'
import { parseHaCf, HA_CF_DIRECTIVES } from '../../lib/config/ha-cf.js'

const base = ['keepalive 1', 'deadtime 10', 'initdead 20', 'bcast eth0', 'auto_failback on', 'logfacility daemon', 'node alpha', 'node beta'].join('\n') + '\n'

t.test('writing a directive\'s 3.0.6 default gives the config heartbeat-ts assumes without it', async (t) => {
  const withDefaults = DIRECTIVE_TABLE.filter((d) => d.default306 !== undefined && !['keepalive', 'deadtime', 'auto_failback'].includes(d.name))
  t.ok(withDefaults.length >= 15)
  // rows without a field are only checked (nothing reads them): their default must still be accepted
  for (const row of withDefaults.filter((d) => d.field === undefined)) {
    const parsed = parseHaCf(`${base}${row.name} ${row.default306 ?? ''}\n`, 'ha.cf')
    t.same(parsed.diagnostics.filter((d) => d.severity === 'error'), [], `${row.name}: its default is accepted`)
  }
  const rows = withDefaults.filter((d) => d.field !== undefined)
  const without = parseHaCf(base, 'ha.cf')
  for (const row of rows) {
    const withDefault = parseHaCf(`${base}${row.name} ${row.default306 ?? ''}\n`, 'ha.cf')
    const field = row.field as keyof typeof without.config
    t.same(withDefault.config[field], without.config[field], `${row.name} ${row.default306 ?? ''}`)
    t.same(withDefault.diagnostics.filter((d) => d.severity === 'error'), [], `${row.name}: its default is accepted`)
  }
  for (const name of ['keepalive', 'deadtime', 'auto_failback']) {
    const row = DIRECTIVE_TABLE.find((d) => d.name === name)
    const draft = initialDraft() as unknown as Record<string, unknown>
    const parsed = parseHaCf(`${row?.name ?? ''} ${row?.default306 ?? ''}\nbcast eth0\nnode a\nlogfacility daemon\n`, 'ha.cf')
    t.same((parsed.config as unknown as Record<string, unknown>)[row?.field ?? ''], draft[row?.field ?? ''], `${name}: the typed initial value is the 3.0.6 default`)
  }
})

t.test('one row per directive, every config field set by some row, a help line each', async (t) => {
  t.equal(new Set(HA_CF_DIRECTIVES).size, HA_CF_DIRECTIVES.length, 'no directive twice')
  const fields = new Set(DIRECTIVE_TABLE.map((d) => d.field))
  const { config } = parseHaCf(base, 'ha.cf')
  const derived = ['manageResources', 'lines', 'parameters']
  for (const key of Object.keys(config)) if (!derived.includes(key)) t.ok(fields.has(key as never), `${key} has a row`)
  for (const row of DIRECTIVE_TABLE) t.ok(row.help.length > 5 && !row.help.includes('\n'), `${row.name} has a one-line help`)
})
