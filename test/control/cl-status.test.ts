// cl_status answers against the real 3.0.6 transcripts, plus the cases the transcripts do not show.

import t from 'tap'
import { readFile, readdir } from 'node:fs/promises'
import { join } from 'node:path'
import { clStatusAnswer, CL_STATUS_HELP } from '../../lib/control/cl-status-answers.js'
import type { ClSource } from '../../lib/control/cl-status-answers.js'
import { hbVersionString } from '../../lib/control/version.js'
import { REAL_HBVERSION, SCENARIOS, T5, T6, normaliseLog, parseTranscript, statusFor } from './status-fixtures.js'

const DIR = join(import.meta.dirname, '..', 'fixtures', 'vectors', 'cl_status')
const PREFIX = 'Nov 25 17:39:50 titanic5.etri.re.kr cl_status: [2346]: '

t.test('every transcript, sub-command by sub-command', async (t) => {
  const files = (await readdir(DIR)).filter((f) => f.endsWith('.txt')).sort()
  t.same(files, Object.keys(SCENARIOS).sort(), 'a scenario for every transcript')
  let checked = 0
  for (const file of files) {
    const sc = SCENARIOS[file]
    if (!sc) continue
    const entries = parseTranscript(await readFile(join(DIR, file), 'utf8'))
    t.ok(entries.length >= 5, `${file}: transcript parsed`)
    const source: ClSource = { kind: 'running', status: statusFor(sc) }
    for (const e of entries) {
      const a = clStatusAnswer(e.args, source, PREFIX)
      // heartbeat-ts names itself in the version; everything else is word for word.
      const want = normaliseLog(e.output.replaceAll(REAL_HBVERSION, hbVersionString()))
      t.equal(normaliseLog(a.stdout + a.stderr), want, `${file}: cl_status ${e.args.join(' ')}`)
      t.equal(a.exitCode, e.exitCode, `${file}: cl_status ${e.args.join(' ')} exit ${e.exitCode}`)
      checked++
    }
  }
  t.ok(checked >= 150, `${checked} answers compared`)
})

const running: ClSource = { kind: 'running', status: statusFor(SCENARIOS['afb-on-titanic6-after-titanic5-crash.txt']!) }

t.test('-m wording', async (t) => {
  const m = (...args: string[]) => clStatusAnswer(args, running, PREFIX)
  t.equal(m('nodestatus', '-m', T5).stdout, `The cluster node ${T5} is dead\n`)
  t.equal(m('nodestatus', '-m', T5).exitCode, 1)
  t.equal(m('-m', 'x').exitCode, 11, 'an option is not a sub-command')
  t.equal(m('nodetype', '-m', T6).stdout, `The node ${T6}'s type: normal\n`)
  t.equal(m('nodeweight', '-m', T6).stdout, `The weight of the cluster node ${T6} is 100\n`)
  t.equal(m('nodesite', '-m', T6).stdout, `The site of the cluster node ${T6} is \n`)
  t.equal(m('hblinkstatus', '-m', T5, 'eth0').stdout, `The node ${T5}'s heartbeat link eth0 is dead\n`)
  t.equal(m('rscstatus', '-m').stdout, 'This node is holding all resources.\n')
  t.equal(m('hbparameter', '-m', '-p', 'deadtime').stdout, "Heartbeat parameter deadtime's value: 5\n")
  t.equal(m('listnodes', '-m').stdout, `The nodes are as follow:\n${T6}\n${T5}\n`)
  t.equal(m('listhblinks', '-m', '-v', T6).stdout, '\tthis node has the following heartbeat links:\n\teth0\tup\n')
  const hv = m('hbstatus', '-m', '-v').stdout
  t.match(hv, new RegExp(`^Heartbeat version ${hbVersionString().replace(/[()]/g, '\\$&')}\nResources controlled by "haresources"\nThe nodes are as follow:\n\n${T6}\tactive`))
})

t.test('options after operands, combined flags, -p value forms (GNU getopt)', async (t) => {
  const a = (...args: string[]) => clStatusAnswer(args, running, PREFIX)
  t.equal(a('listhblinks', T6, '-v').stdout, '\teth0\tup\n')
  t.equal(a('listnodes', '-pn').stdout, `${T6}\n${T5}\n`, '-p and -n together list every node')
  t.equal(a('hbparameter', '-pkeepalive').stdout, '2\n')
  t.equal(a('hbparameter', '-mpkeepalive').stdout, "Heartbeat parameter keepalive's value: 2\n")
  t.equal(a('nodestatus', T5.toUpperCase()).stdout, 'dead\n', 'node names match without regard to case')
})

t.test('errors and their exit codes', async (t) => {
  const a = (...args: string[]) => clStatusAnswer(args, running, PREFIX)
  const bogus = a('frobnicate')
  t.equal(bogus.exitCode, 11)
  t.equal(bogus.stderr, `${PREFIX}ERROR: frobnicate: invalid sub-command.\n`)
  t.same(a('nodestatus'), { stdout: '', stderr: 'Not enough parameters.\n', exitCode: 11 })
  t.same(a('nodetype'), { stdout: '', stderr: 'No enough parameter.\n', exitCode: 11 })
  t.same(a('hblinkstatus', T5), { stdout: '', stderr: 'No enough parameter.\n', exitCode: 11 })
  t.same(a('nodeweight', 'nosuch'), { stdout: '', stderr: 'Error. Maybe due to incorrect node name.\n', exitCode: 11 })
  const noP = a('hbparameter')
  t.equal(noP.exitCode, 11)
  t.match(noP.stderr, 'ERROR: parameter name required')
  const unknownParam = a('hbparameter', '-p', 'nosuch')
  t.equal(unknownParam.exitCode, 1)
  t.match(unknownParam.stderr, "ERROR: Cannot get parameter nosuch's value")
  const badOpt = a('nodestatus', '-x', T5)
  t.equal(badOpt.exitCode, 11)
  t.match(badOpt.stderr, "nodestatus: invalid option -- 'x'")
  const listBad = a('listnodes', '-q')
  t.equal(listBad.exitCode, 11)
  t.match(listBad.stderr, 'Error: getopt returned character code ?.')
  const missingArg = a('hbparameter', '-p')
  t.equal(missingArg.exitCode, 11)
  t.match(missingArg.stderr, "option requires an argument -- 'p'")
  t.equal(a('listhblinks', 'nosuch').exitCode, 13)
  t.equal(a('clientstatus', 'nosuch', 'ipfail').exitCode, 13)
  t.same(a('clientstatus', T5, 'ipfail', '500'), { stdout: 'offline\n', stderr: '', exitCode: 1 })
  t.equal(a('hbstatus', '-x').stdout, 'Heartbeat is running on this machine.\n', 'hbstatus ignores unknown options')
})

t.test('help, stopped daemon, refused connection', async (t) => {
  t.same(clStatusAnswer([], { kind: 'stopped' }, PREFIX), { stdout: CL_STATUS_HELP, stderr: '', exitCode: 0 })
  t.equal(clStatusAnswer(['-h'], { kind: 'stopped' }, PREFIX).stdout, CL_STATUS_HELP)
  const stopped: ClSource = { kind: 'stopped' }
  t.same(clStatusAnswer(['hbstatus'], stopped, PREFIX), { stdout: 'Heartbeat is stopped on this machine.\n', stderr: '', exitCode: 1 })
  t.same(clStatusAnswer(['hbstatus', '-v'], stopped, PREFIX).exitCode, 1)
  for (const cmd of ['listnodes', 'nodestatus', 'rscstatus', 'hbparameter']) {
    const r = clStatusAnswer([cmd], stopped, PREFIX)
    t.equal(r.exitCode, 1, `${cmd} without a daemon`)
    t.equal(r.stderr, `${PREFIX}ERROR: Cannot signon with heartbeat\n${PREFIX}ERROR: REASON: hb_api_signon: Can't initiate connection to heartbeat\n`)
  }
  const refused: ClSource = { kind: 'refused', reason: 'permission denied' }
  t.same(clStatusAnswer(['hbstatus', '-v'], refused, PREFIX), {
    stdout: 'Heartbeat is apparently running on this machine, but refuses my connection\n(permission denied)\n',
    stderr: '',
    exitCode: 0,
  })
  t.match(clStatusAnswer(['rscstatus'], refused, PREFIX).stderr, 'REASON: permission denied')
})
