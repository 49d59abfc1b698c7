// The daemon's agent plan on a real directory: the site's lvs script stands in for a built-in lvs with no
// table, and the runner then runs that script, not the built-in.
import t from 'tap'
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { parseHaresources } from '../../lib/config/haresources.js'
import { planAgents, registryFor } from '../../lib/io/agent-plan.js'
import { builtinAgents } from '../../lib/io/builtin-agents.js'
import { runAgent } from '../../lib/io/agent-runner.js'

t.test("lvs with no table source runs the site's script; with a rules file, the built-in", async (t) => {
  const haDir = join(t.testdir(), 'ha.d')
  const dirs = [join(haDir, 'resource.d')]
  mkdirSync(dirs[0] ?? '', { recursive: true })
  writeFileSync(join(haDir, 'resource.d', 'lvs'), '#!/bin/sh\necho "site lvs $*"\n', { mode: 0o755 })
  const { groups } = parseHaresources('alpha 10.0.0.5 lvs\n', join(haDir, 'haresources'), ['alpha'])
  const env = { PATH: process.env.PATH, HBTS_HA_DIR: haDir, HBTS_MON_CF: join(haDir, 'no-mon.cf') }
  const input = { groups, dirs, builtins: [...builtinAgents().keys()], siteScripts: [], env }

  const plan = await planAgents(input)
  t.same(plan.get('lvs')?.runs, { kind: 'script', path: join(haDir, 'resource.d', 'lvs') })
  t.same(plan.get('IPaddr')?.runs, { kind: 'builtin' })
  t.equal(plan.get('lvs')?.line, 1)
  const registry = registryFor(builtinAgents(), plan)
  t.same([...registry.keys()], ['IPaddr'], 'the built-in lvs is left out of the runner')
  const ran = await runAgent({ agent: 'lvs', args: [], text: 'lvs' }, 'status', { dirs, builtins: registry, env })
  t.equal(ran.builtin, false)
  t.equal(ran.stdout, 'site lvs status\n', "the site's script ran")

  writeFileSync(join(haDir, 'ipvsadm.rules'), '-A -t 10.0.0.5:80 -s wlc\n')
  t.same((await planAgents(input)).get('lvs')?.runs, { kind: 'builtin' }, 'a rules file is a table source')
  t.same((await planAgents({ ...input, siteScripts: ['lvs'] })).get('lvs')?.runs.kind, 'script', 'site_scripts wins over the built-in')
})
