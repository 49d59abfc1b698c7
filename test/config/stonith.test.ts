// ha.cf's stonith and stonith_host lines (config.c): which device this node resets a dead peer with.
import t from 'tap'
import { parseHaCf } from '../../lib/config/ha-cf.js'
import { stonithDeviceFor } from '../../lib/config/stonith.js'

const base = ['keepalive 1', 'deadtime 10', 'bcast eth0', 'auto_failback on', 'logfacility daemon', 'node alpha', 'node beta'].join('\n') + '\n'
const device = (lines: string, me: string) => {
  const r = parseHaCf(base + lines, '/etc/ha.d/ha.cf')
  t.same(r.diagnostics, [], 'accepted without a word')
  return stonithDeviceFor(r.config?.stonith ?? [], me)
}

t.test('stonith_host for this node or *: type and the rest of the line as -p parameters', async (t) => {
  t.same(device('stonith_host *   external/ssh   alpha beta\n', 'alpha'), { type: 'external/ssh', config: { kind: 'params', params: 'alpha beta' }, line: 8 })
  t.same(device('stonith_host ALPHA null alpha beta\n', 'alpha')?.config, { kind: 'params', params: 'alpha beta' }, 'the host is compared in lower case')
})

t.test('a stonith_host line for another host does not apply here', async (t) => {
  t.equal(device('stonith_host beta null alpha beta\n', 'alpha'), undefined)
})

t.test('stonith <type> <file>: the parameters come from the file (-F)', async (t) => {
  t.same(device('stonith baytech /etc/ha.d/conf/stonith.baytech\n', 'alpha'), { type: 'baytech', config: { kind: 'file', path: '/etc/ha.d/conf/stonith.baytech' }, line: 8 })
})

t.test('of several lines that apply, the last one counts (3.0.6 keeps one device)', async (t) => {
  const lines = 'stonith_host alpha null alpha beta\nstonith_host beta meatware beta\nstonith_host * external/ipmi beta 10.0.0.9 admin pw lan\n'
  t.same(device(lines, 'alpha'), { type: 'external/ipmi', config: { kind: 'params', params: 'beta 10.0.0.9 admin pw lan' }, line: 10 })
  t.equal(device('', 'alpha'), undefined, 'no line, no device')
})
