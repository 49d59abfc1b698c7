// The shell side of STONITH: cluster-glue's `stonith` command run for a `run-stonith` action, its exit
// code read as 3.0.6 reads stonith_req_reset's (0 S_OK, 3 S_BADHOST, else failed), bounded by a timeout.
import t from 'tap'
import { chmodSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { executeStonithAction, installedStonithTypes, invalidTypeMessage, stonithArgv } from '../../lib/io/stonith-runner.js'
import { findOnPath } from '../../lib/agents/system-tools.js'
import type { StonithDevice } from '../../lib/config/stonith.js'

const NULL_DEVICE: StonithDevice = { type: 'null', config: { kind: 'params', params: 'alpha beta' }, line: 9 }
const action = (device: StonithDevice, node = 'beta') => ({ type: 'run-stonith' as const, id: 7, node, device })

t.test('argv: -p for stonith_host parameters, -F for a stonith file', async (t) => {
  t.same(stonithArgv(NULL_DEVICE, 'beta'), ['-t', 'null', '-p', 'alpha beta', '-T', 'reset', 'beta'])
  t.same(stonithArgv({ type: 'baytech', config: { kind: 'file', path: '/etc/ha.d/st.cfg' }, line: 3 }, 'beta'), ['-t', 'baytech', '-F', '/etc/ha.d/st.cfg', '-T', 'reset', 'beta'])
})

const haveStonith = (await findOnPath('stonith', process.env.PATH)) !== undefined
// Outside CI a machine without cluster-glue skips (with the reason); under CI=true it fails.
const noStonith = !haveStonith && process.env.CI !== 'true' ? 'stonith (cluster-glue) is not installed' : false

t.test("cluster-glue's stonith with the null plugin resets a listed host", { skip: noStonith }, async (t) => {
  if (!haveStonith) {
    t.fail('stonith (cluster-glue) is not installed: .ci/setup installs it')
    return
  }
  const r = await executeStonithAction(action(NULL_DEVICE), { timeoutMs: 20_000 })
  t.same(r.event, { type: 'stonith-result', id: 7, node: 'beta', outcome: 'ok', detail: 'exit 0' })
  const bad = await executeStonithAction(action({ ...NULL_DEVICE, type: 'no-such-plugin' }), { timeoutMs: 20_000 })
  t.equal(bad.event.outcome, 'bad', 'an unknown plugin type is a failed reset')
})

t.test('exit codes, a timeout and a missing command', async (t) => {
  const dir = t.testdir()
  const script = (name: string, body: string): string => {
    const p = join(dir, name)
    writeFileSync(p, `#!/bin/sh\n${body}\n`)
    chmodSync(p, 0o755)
    return p
  }
  const run = (command: string, timeoutMs = 10_000) => executeStonithAction(action(NULL_DEVICE), { timeoutMs, command })
  t.equal((await run(script('badhost', 'exit 3'))).event.outcome, 'badhost', 'exit 3 (S_BADHOST)')
  t.equal((await run(script('resetfail', 'exit 5'))).event.outcome, 'bad', 'exit 5 (S_RESETFAIL)')
  const hung = await run(script('hung', 'exec sleep 30'), 300)
  t.equal(hung.event.outcome, 'bad', 'a reset that does not end is a failed one')
  t.match(hung.event.detail, /timed out after 300 ms/)
  const missing = await run(join(dir, 'absent'))
  t.equal(missing.event.outcome, 'bad', 'no stonith command: a failed reset, not a crash')
  const said = await run(script('chatty', 'echo "device says hi"; exit 0'))
  t.equal(said.event.outcome, 'ok')
  t.match(said.lines[0], /-p <params> -T reset beta: exit 0$/, 'the log line hides the -p parameters (often a password)')
  t.notMatch(said.lines.join('\n'), /alpha beta/)
  t.ok(said.lines.includes('stonith: device says hi'), "the command's output is kept for the log")
})

t.test('stonith -L: the installed plugin types, and the 3.0.6 refusal of any other', { skip: noStonith }, async (t) => {
  const installed = await installedStonithTypes()
  t.ok(installed?.has('null') && installed.has('external/ssh'), 'null and external/ssh are listed')
  t.equal(invalidTypeMessage('null', installed ?? new Set()), undefined)
  t.match(invalidTypeMessage('baytek', installed ?? new Set()), /^Invalid Stonith type \[baytek\]/)
  t.equal(await installedStonithTypes({ command: '/nonexistent/stonith' }), undefined, 'no command: no list (the missing program is reported elsewhere)')
})
