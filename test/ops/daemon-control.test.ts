// The daemon's control answers without a cluster: standby/takeover refused under auto_failback legacy
// with init.d's words, failback sent as foreign, reload's outcome, real servers from hb-mon's state.

import t from 'tap'
import { answerControl, legacyRefusal, type ControlHooks } from '../../lib/daemon/control.js'
import { realServersFromMonState } from '../../lib/daemon/status-snapshot.js'
import type { MonStateFile } from '../../lib/monitor/mon-state.js'
import type { StandbyArg } from '../../lib/resources/resource-sets.js'

function hooks(mode: ReturnType<ControlHooks['resourceMode']>, reload = { ok: true, message: 'Configuration unchanged.' }) {
  const calls: Array<[string, StandbyArg]> = []
  const h: ControlHooks = {
    paths: { haDir: '/nonexistent', stateDir: '/nonexistent', runDir: '/nonexistent', pidFile: '/nonexistent', monCf: '/nonexistent' },
    status: () => Promise.reject(new Error('not asked')),
    resourceMode: () => mode,
    standby: (arg) => void calls.push(['standby', arg]),
    takeover: (arg) => void calls.push(['takeover', arg]),
    reload: () => Promise.resolve(reload),
    fifoMessage: () => undefined,
    log: () => undefined,
  }
  return { h, calls }
}

t.test('standby and takeover under auto_failback legacy are refused, nothing is sent', async (t) => {
  const written = hooks({ mode: 'legacy', written: true })
  const r = await answerControl({ type: 'standby', resources: 'all' }, written.h)
  t.same(r, { ok: false, code: 'refused', error: 'auto_failback is set to legacy.  Cannot enter standby.' })
  const defaulted = hooks({ mode: 'legacy', written: false })
  const r2 = await answerControl({ type: 'takeover', resources: 'local' }, defaulted.h)
  t.same(r2, { ok: false, code: 'refused', error: 'auto_failback defaulted to legacy.  Cannot take over.' })
  t.same([...written.calls, ...defaulted.calls], [], 'no event reached the resource manager')
  const none = hooks(undefined)
  const r3 = await answerControl({ type: 'standby', resources: 'all' }, none.h)
  t.match(r3, { ok: false, code: 'refused', error: /not managed/ }, 'without resource management: refused')
})

t.test('standby failback goes out as foreign (hb_standby); takeover passes its word through', async (t) => {
  const { h, calls } = hooks({ mode: 'on', written: true })
  t.same(await answerControl({ type: 'standby', resources: 'failback' }, h), { ok: true, type: 'done', message: 'Going standby [foreign].' })
  t.same(await answerControl({ type: 'standby', resources: 'local' }, h), { ok: true, type: 'done', message: 'Going standby [local].' })
  await answerControl({ type: 'takeover', resources: 'all' }, h)
  t.same(calls, [['standby', 'foreign'], ['standby', 'local'], ['takeover', 'all']])
  t.equal(legacyRefusal({ mode: 'off', written: true }, 'standby'), undefined, 'auto_failback off allows standby')
})

t.test('reload answers with its outcome; a refused reload is an error the CLI shows', async (t) => {
  t.same(await answerControl({ type: 'reload' }, hooks({ mode: 'on', written: true }).h), { ok: true, type: 'done', message: 'Configuration unchanged.' })
  const bad = hooks({ mode: 'on', written: true }, { ok: false, message: 'Configuration error, reload refused: ha.cf:3: …' })
  t.same(await answerControl({ type: 'reload' }, bad.h), { ok: false, code: 'refused', error: 'Configuration error, reload refused: ha.cf:3: …' })
})

t.test('real servers from the monitor state file', async (t) => {
  const state: MonStateFile = {
    version: 1,
    pid: 4242,
    monCf: '/etc/mon/mon.cf',
    startedAt: '2024-11-25T17:00:00.000Z',
    updatedAt: '2024-11-25T17:40:00.000Z',
    stopped: false,
    services: [
      { watch: 'realNode-1', service: 'http', hosts: ['129.254.203.146'], status: 'ok', running: false, consecutiveFailures: 0, summary: '', lastCheck: '2024-11-25T17:39:58.000Z' },
      { watch: 'realNode-2', service: 'http', hosts: ['129.254.203.147'], status: 'fail', running: false, consecutiveFailures: 2, summary: '129.254.203.147', lastCheck: '2024-11-25T17:39:59.000Z' },
      { watch: 'realNode-3', service: 'http', hosts: ['129.254.203.148'], status: 'untested', running: true, consecutiveFailures: 0, summary: '' },
    ],
    realServers: [
      { host: '129.254.203.146', state: 'up', watch: 'realNode-1', service: 'http', lastCheck: '2024-11-25T17:39:58.000Z' },
      { host: '129.254.203.147', state: 'down', watch: 'realNode-2', service: 'http', lastCheck: '2024-11-25T17:39:59.000Z' },
      { host: '129.254.203.148', state: 'unknown', watch: 'realNode-3', service: 'http' },
    ],
  }
  t.same(realServersFromMonState(state, true), [
    { service: 'realNode-1/http', address: '129.254.203.146', state: 'up', lastCheck: { atMs: Date.UTC(2024, 10, 25, 17, 39, 58), ok: true, detail: '' } },
    { service: 'realNode-2/http', address: '129.254.203.147', state: 'down', lastCheck: { atMs: Date.UTC(2024, 10, 25, 17, 39, 59), ok: false, detail: '129.254.203.147' } },
    { service: 'realNode-3/http', address: '129.254.203.148', state: 'unknown', lastCheck: null },
  ])
  t.equal(realServersFromMonState(state, false), null, 'monitor process gone: no real servers shown')
  t.equal(realServersFromMonState({ ...state, stopped: true }, true), null, 'monitor stopped: none shown')
})
