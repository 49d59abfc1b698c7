// cl_status on the same cluster, real and ours side by side: a mixed pair (heartbeat-ts as titanic5,
// the real 3.0.6 as titanic6; seed ha.cf + auto_failback on), the real cl_status run in titanic6's
// namespaces and ours in titanic5's, sub-command by sub-command; stdout, stderr and exit codes equal.
//
// Excluded, and why:
// - the `version:` line of `hbstatus -v` and the value of `hbparameter -p hbversion`: 3.0.6 prints
//   `3.0.6 (node: <changeset>)`, heartbeat-ts `3.0.6 (heartbeat-ts <version>)`; only the first word
//   (the release scripts read) is compared;
// - cl_log's stderr prefix (`Nov 25 17:39:50 <host> cl_status: [<pid>]: `): time, host and pid differ;
// - `clientstatus <the heartbeat-ts node> <client>`: the real daemon asks that node over the wire and
//   heartbeat-ts does not answer API client queries, so the real cl_status times out (exit 13) where
//   ours says `offline` (exit 1); asked about the real node, both say `offline`.

import t from 'tap'
import { gate, realHeartbeatAvailability, waitFor, type ExecResult } from '../netns/kit.js'
import { T5, T6, ourClStatus, startOpsPair, waitForHolder } from './ops-cluster.js'

/** The questions a monitoring script asks, with both node names. */
function questions(): string[][] {
  const q: string[][] = [['hbstatus'], ['hbstatus', '-v'], ['listnodes'], ['listnodes', '-v'], ['listnodes', '-n'], ['listnodes', '-p']]
  for (const n of [T5, T6]) {
    q.push(['nodestatus', n], ['nodetype', n], ['nodeweight', n], ['nodesite', n], ['listhblinks', n], ['listhblinks', '-v', n], ['hblinkstatus', n, 'eth0'])
    q.push(['nodestatus', '-m', n], ['hblinkstatus', '-m', n, 'eth0'])
  }
  q.push(['nodestatus', 'nosuchnode'], ['hblinkstatus', T6, 'eth1'], ['listhblinks', 'nosuchnode'], ['nodetype', 'normal'])
  // clientstatus about the real node only: asked about a heartbeat-ts node, the real daemon's query
  // goes unanswered (heartbeat-ts has no API clients to report) and cl_status says "No timely response."
  q.push(['rscstatus'], ['rscstatus', '-m'], ['clientstatus', T6, 'ipfail'])
  for (const p of ['keepalive', 'deadtime', 'deadping', 'initdead', 'warntime', 'udpport', 'hopfudge', 'auto_failback', 'baud', 'debug', 'debugfile', 'logfile', 'logfacility', 'crm', 'msgfmt', 'realtime', 'hbversion', 'nosuchparameter']) {
    q.push(['hbparameter', '-p', p])
  }
  q.push(['hbparameter', '-m', '-p', 'keepalive'], ['nosuchcommand'])
  return q
}

function normalise(args: readonly string[], r: ExecResult): ExecResult {
  let stdout = r.stdout
  if (args[0] === 'hbstatus') stdout = stdout.replace(/^version:\t(\S+) .*$/m, 'version:\t$1 <excluded>')
  if (args[0] === 'hbparameter' && args.includes('hbversion')) stdout = stdout.replace(/^(\S+) .*$/m, '$1 <excluded>')
  const stderr = r.stderr.replace(/^[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d \S+ cl_status: \[\d+\]: /gm, '<log> ')
  return { stdout, stderr, exitCode: r.exitCode }
}

t.test('cl_status answers equal the real cl_status on a mixed pair', async (t) => {
  if (!gate(t, await realHeartbeatAvailability())) return
  const pair = await startOpsPair(t, 'hbopscl', { titanic5: 'ts', titanic6: 'real' })
  const ours = pair.nodes.titanic5.host
  const real = pair.nodes.titanic6.host
  await waitForHolder(pair, 'titanic5', 60_000)
  // Both resource managers stable (rscstatus is `transition` while either is moving resources).
  await waitFor('both rscstatus stable', async () => {
    const a = (await ourClStatus(ours, ['rscstatus'])).stdout.trim()
    const b = (await real.clStatus(['rscstatus'])).stdout.trim()
    return a !== 'transition' && b !== 'transition' && a !== '' && b !== '' ? true : undefined
  }, 30_000, 500)

  let same = 0
  for (const args of questions()) {
    const theirs = normalise(args, await real.clStatus(args))
    const mine = normalise(args, await ourClStatus(ours, args))
    const label = `cl_status ${args.join(' ')}`
    if (t.same(mine, theirs, `${label}: same stdout, stderr and exit code (${JSON.stringify(theirs.stdout.split('\n')[0])}, exit ${theirs.exitCode})`)) same++
  }
  t.comment(`${same} of ${questions().length} sub-commands answered identically`)
  // The exclusions keep the part scripts read.
  const v = await ourClStatus(ours, ['hbparameter', '-p', 'hbversion'])
  t.match(v.stdout, /^3\.0\.6 /, 'our hbversion starts with the release 3.0.6 as the real one does')
})
