// cl_status's hand-over to /usr/bin/cl_status while the C heartbeat runs, without namespaces: a script
// stands in for the real cl_status and shows what it received. (test/cli/c-heartbeat.test.ts does the
// same against the real daemon and the real cl_status.)

import t from 'tap'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { REPO, requireBuilt, run } from './heartbeat-kit.js'

const STAND_IN = join(REPO, 'dist', 'test', 'cli', 'stand-in', 'cl-status.js')
requireBuilt(STAND_IN)

// Prints each argument on a line of its own, then its standard input; a word on stderr; exit 7.
const FAKE_REAL = `#!/bin/sh
for a in "$@"; do printf '[%s]\\n' "$a"; done
printf 'stdin:'; cat
printf 'handed=%s\\n' "$HBTS_CL_STATUS_HANDED_OVER"
echo 'from the real one' >&2
exit 7
`

t.test('the whole call goes to the real cl_status: arguments, streams, exit status', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'hbts-handover-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  const real = join(dir, 'cl_status')
  await writeFile(real, FAKE_REAL, { mode: 0o755 })
  const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HBTS_TEST_REAL_CL_STATUS: real, HBTS_RUN_DIR: join(dir, 'run') }
  const r = await run(STAND_IN, ['nodestatus', 'titanic5 .etri', '-m', '$HOME'], env, 'a line\n')
  t.equal(r.stdout, '[nodestatus]\n[titanic5 .etri]\n[-m]\n[$HOME]\nstdin:a line\nhanded=1\n', 'argv word for word, stdin passed on')
  t.equal(r.stderr, 'from the real one\n')
  t.equal(r.exitCode, 7, 'its exit status is ours')

  const help = await run(STAND_IN, ['--help'], env, '')
  t.match(help.stdout, /^\[--help\]\n/, '--help too goes to the real one')

  // Should /usr/bin/cl_status be this program again, it answers itself instead of handing over in a loop.
  const again = await run(STAND_IN, ['hbstatus'], { ...env, HBTS_CL_STATUS_HANDED_OVER: '1' })
  t.equal(again.stdout, 'Heartbeat is stopped on this machine.\n')
  t.equal(again.exitCode, 1)
})

t.test('the real cl_status missing: said in words, exit 13', async (t) => {
  const r = await run(STAND_IN, ['hbstatus'], { PATH: process.env.PATH ?? '/usr/bin:/bin', HBTS_TEST_REAL_CL_STATUS: '/nonexistent/cl_status' })
  t.equal(r.exitCode, 13)
  t.match(r.stderr, /^cl_status: the C heartbeat runs on this node, but \/nonexistent\/cl_status could not be run/)
  t.equal(r.stdout, '')
})
