// The daemon's Node flags: the same in the `heartbeat` shebang and the background re-exec, and accepted by this Node.
import t from 'tap'
import { readFile } from 'node:fs/promises'
import { execa } from 'execa'
import { DAEMON_NODE_FLAGS } from '../../lib/io/daemonize.js'

t.test('the heartbeat shebang runs node with DAEMON_NODE_FLAGS', async (t) => {
  const src = await readFile(new URL('../../lib/cli/heartbeat.ts', import.meta.url), 'utf8')
  t.equal(src.split('\n')[0], `#!/usr/bin/env -S node ${DAEMON_NODE_FLAGS.join(' ')}`, 'first line of lib/cli/heartbeat.ts')
})

t.test('this node accepts the flags', async (t) => {
  const r = await execa(process.execPath, [...DAEMON_NODE_FLAGS, '-p', "require('v8').getHeapStatistics().total_heap_size > 0 && process.execArgv.join(' ')"], { reject: false, timeout: 30_000 })
  t.equal(r.exitCode, 0, `node ${DAEMON_NODE_FLAGS.join(' ')} starts (stderr: ${r.stderr})`)
  for (const f of DAEMON_NODE_FLAGS) t.ok(r.stdout.trim().split(' ').includes(f), `${f} reaches the process (execArgv: ${r.stdout.trim()})`)
})
