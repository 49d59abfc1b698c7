// Which agent runs a resource (issue 12, item 6): the rule, case by case.
import t from 'tap'
import { chooseAgent, runnerText, type AgentFacts } from '../../lib/config/agent-rule.js'

const DIRS = ['/etc/ha.d/resource.d', '/etc/init.d', '/etc/rc.d/init.d']
const facts = (over: Partial<AgentFacts>): AgentFacts => ({ agent: 'lvs', builtin: true, builtinCannot: undefined, script: undefined, siteScriptAsked: false, dirs: DIRS, ...over })
const NO_TABLE = 'no table source: no lvs:: arguments in haresources, no /etc/ha.d/ipvsadm.rules, no /etc/mon/mon.cf'

t.test('the built-in by default, even when the site has a script of the same name', async (t) => {
  const c = chooseAgent(facts({ script: '/etc/ha.d/resource.d/lvs' }))
  t.same(c.runs, { kind: 'builtin' })
  t.equal(runnerText(c), 'built-in lvs')
  t.equal(c.why, 'the built-in lvs (the default)')
  t.equal(c.problem, undefined)
})

t.test("heartbeat-ts.conf asks for the site's script: it runs; asked and missing: no agent", async (t) => {
  const asked = chooseAgent(facts({ script: '/etc/ha.d/resource.d/lvs', siteScriptAsked: true }))
  t.same(asked.runs, { kind: 'script', path: '/etc/ha.d/resource.d/lvs' })
  t.match(asked.why, 'as heartbeat-ts.conf [agents] site_scripts asks')
  const missing = chooseAgent(facts({ siteScriptAsked: true }))
  t.same(missing.runs, { kind: 'none' })
  t.equal(runnerText(missing), 'NOT FOUND')
  t.match(missing.why, 'there is no executable lvs in /etc/ha.d/resource.d, /etc/init.d, /etc/rc.d/init.d')
})

t.test('a built-in that cannot do its job here: the site script stands in; with none, a problem', async (t) => {
  const stand = chooseAgent(facts({ builtinCannot: NO_TABLE, script: '/etc/ha.d/resource.d/lvs' }))
  t.same(stand.runs, { kind: 'script', path: '/etc/ha.d/resource.d/lvs' }, 'never give the group up while a working script exists')
  t.equal(stand.why, `the site's script /etc/ha.d/resource.d/lvs: the built-in lvs cannot run here (${NO_TABLE})`)
  t.equal(stand.problem, undefined)
  const alone = chooseAgent(facts({ builtinCannot: NO_TABLE }))
  t.same(alone.runs, { kind: 'builtin' })
  t.match(alone.problem, `the built-in lvs cannot run here (${NO_TABLE}) and there is no executable lvs in`)
})

t.test('names with no built-in: the script, else no agent at all', async (t) => {
  t.same(chooseAgent(facts({ agent: 'httpd', builtin: false, script: '/etc/init.d/httpd' })).runs, { kind: 'script', path: '/etc/init.d/httpd' })
  const none = chooseAgent(facts({ agent: 'httpd', builtin: false }))
  t.same(none.runs, { kind: 'none' })
  t.match(none.why, /^no agent: httpd is not built in/)
})
