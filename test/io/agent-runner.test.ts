// The agent runner against small shell scripts in a temp dir: legacy scripts, lookup order, timeouts.
import t from 'tap'
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { AgentError, debugLines, executeAgentAction, findAgent, haEnvironment, runAgent } from '../../lib/io/agent-runner.js'
import type { AgentRunnerOptions, InProcessAgent } from '../../lib/io/agent-runner.js'
import { builtinAgents } from '../../lib/io/builtin-agents.js'

const root = t.testdir({ 'resource.d': {}, 'init.d': {}, 'rc.d-init.d': {}, state: {}, bin: {}, run: {}, ha: {} })
const dirs = [join(root, 'resource.d'), join(root, 'init.d'), join(root, 'rc.d-init.d')]
const stateDir = join(root, 'state')

function script(dir: string, name: string, body: string, mode = 0o755): void {
  const p = join(dir, name)
  writeFileSync(p, `#!/bin/sh\n${body}\n`)
  chmodSync(p, mode)
}

// A heartbeat-style legacy resource script: start/stop/status with the usual words.
script(
  dirs[0] as string,
  'legacyd',
  `state=${stateDir}/legacyd.$1
case "$2" in
  start) echo "$HA_CURHOST" > "$state"; echo "starting $1";;
  stop) rm -f "$state"; echo "stopping $1";;
  status) if [ -f "$state" ]; then echo "legacyd $1 is running"; else echo "legacyd $1 is not running"; exit 3; fi;;
  *) echo "usage" >&2; exit 2;;
esac`,
)
script(dirs[0] as string, 'broken', 'echo "cannot bind port 80" >&2; exit 7')
script(
  dirs[0] as string,
  'hang',
  `sleep 600 &
echo $! > ${stateDir}/hang.child
echo $$ > ${stateDir}/hang.pid
wait`,
)
// lookup order
script(dirs[1] as string, 'svc', 'echo "from init.d: OK"')
script(dirs[2] as string, 'svc', 'echo "from rc.d/init.d: OK"')
script(dirs[2] as string, 'rhonly', 'echo "rhonly running"')
script(dirs[0] as string, 'notexec', 'echo "resource.d copy"', 0o644)
script(dirs[1] as string, 'notexec', 'echo "init.d copy is running"')
mkdirSync(join(dirs[0] as string, 'adir'))

const opts: AgentRunnerOptions = {
  dirs,
  env: haEnvironment({ curHost: 'titanic5.etri.re.kr', base: { PATH: process.env.PATH } }),
  timeoutsMs: { start: 5000, stop: 5000, status: 5000 },
}

t.test('a legacy resource script: start, status, stop, status', async (t) => {
  const res = { agent: 'legacyd', args: ['web1'], text: 'legacyd::web1' }
  const start = await runAgent(res, 'start', opts)
  t.equal(start.exitCode, 0)
  t.same(start.argv, [join(dirs[0] as string, 'legacyd'), 'web1', 'start'], 'argv is path, args, op')
  t.equal(readFileSync(join(stateDir, 'legacyd.web1'), 'utf8').trim(), 'titanic5.etri.re.kr', 'HA_CURHOST reached the script')
  const up = await executeAgentAction({ id: 1, resource: res, op: 'status' }, opts)
  t.same(up.event, { type: 'agent-result', id: 1, ok: true, running: true, exitCode: 0 }, 'status reads "is running" as running')
  await runAgent(res, 'stop', opts)
  const down = await executeAgentAction({ id: 2, resource: res, op: 'status' }, opts)
  t.same(down.event, { type: 'agent-result', id: 2, ok: true, running: false, exitCode: 3 }, '"is not running" with exit 3: not running, no error')
  t.ok(debugLines(start).some((l) => l.includes('stdout: starting web1')), 'stdout is kept for the debug log')
})

t.test('a failing start is an AgentError naming agent, op, argv, exit code and stderr', async (t) => {
  const res = { agent: 'broken', args: ['a', 'b'], text: 'broken::a::b' }
  const err = await runAgent(res, 'start', opts).catch((e: unknown) => e)
  t.ok(err instanceof AgentError, 'typed error')
  if (!(err instanceof AgentError)) return
  t.equal(err.code, 'AGENT_FAILED')
  t.equal(err.exitCode, 7)
  t.equal(err.op, 'start')
  t.same(err.argv, [join(dirs[0] as string, 'broken'), 'a', 'b', 'start'])
  t.match(err.message, /broken start failed: Return code 7 .* exit 7: cannot bind port 80/)
  const ev = await executeAgentAction({ id: 9, resource: res, op: 'start' }, opts)
  t.match(ev.event, { type: 'agent-result', id: 9, ok: false, exitCode: 7 }, 'the manager sees a failed start')
})

t.test('a hanging agent is killed with its children at the timeout', async (t) => {
  const res = { agent: 'hang', args: [], text: 'hang' }
  const t0 = performance.now()
  const err = await runAgent(res, 'stop', { ...opts, timeoutsMs: { stop: 300 }, killGraceMs: 200 }).catch((e: unknown) => e)
  const took = performance.now() - t0
  t.ok(err instanceof AgentError && err.code === 'AGENT_TIMEOUT', 'AGENT_TIMEOUT')
  t.match(String(err), /timed out after 300 ms/)
  t.ok(took < 5000, `returned soon after the timeout (${Math.round(took)} ms)`)
  const child = Number(readFileSync(join(stateDir, 'hang.child'), 'utf8'))
  // A zombie waiting for a reaper (PID 1 in a container may never reap) counts as gone.
  const alive = (pid: number): boolean => {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'latin1')
      return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z'
    } catch {
      return false
    }
  }
  // the group got SIGTERM then SIGKILL; give the kernel a moment to reap
  for (let i = 0; i < 50 && alive(child); i++) await new Promise((r) => setTimeout(r, 20))
  t.notOk(alive(child), 'the script\'s background child is gone too')
})

// A zombie waiting for a reaper (PID 1 in a container may never reap) counts as gone.
function running(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1')
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z'
  } catch {
    return false
  }
}

t.test('a built-in agent whose helper hangs is cancelled at its timeout: helper and its child killed, start failed', async (t) => {
  // A stand-in ipvsadm that never answers, with a child of its own (as a wedged kernel call would leave it).
  const bin = join(root, 'bin')
  script(bin, 'ipvsadm', `echo $$ > ${stateDir}/ipvsadm.pid\nsleep 600 &\necho $! > ${stateDir}/ipvsadm.child\nwait`)
  const env = {
    PATH: process.env.PATH,
    HBTS_IPVSADM: join(bin, 'ipvsadm'),
    HBTS_RUN_DIR: join(root, 'run'),
    HBTS_HA_DIR: join(root, 'ha'),
    HBTS_MON_CF: join(root, 'ha', 'no-mon.cf'),
    HBTS_PROC_SYS: join(root, 'state'),
  }
  const withLvs: AgentRunnerOptions = { dirs, env, builtins: builtinAgents(), timeoutsMs: { start: 1000 }, killGraceMs: 500 }
  const res = { agent: 'lvs', args: ['10.8.8.8:80', 'rr', '10.8.8.9'], text: 'lvs::10.8.8.8:80::rr::10.8.8.9' }
  const t0 = performance.now()
  const ev = await executeAgentAction({ id: 11, resource: res, op: 'start' }, withLvs)
  const took = performance.now() - t0
  t.match(ev.event, { type: 'agent-result', id: 11, ok: false, running: false }, 'the manager sees a failed start')
  t.equal(ev.error?.code, 'AGENT_TIMEOUT')
  t.match(ev.error?.message ?? '', /lvs start failed: timed out after 1000 ms/)
  t.ok(took < 10_000, `reported soon after the timeout, not at the helper's own 10 s bound (${Math.round(took)} ms)`)
  const helper = Number(readFileSync(join(stateDir, 'ipvsadm.pid'), 'utf8'))
  const child = Number(readFileSync(join(stateDir, 'ipvsadm.child'), 'utf8'))
  for (let i = 0; i < 50 && (running(helper) || running(child)); i++) await new Promise((r) => setTimeout(r, 20))
  t.notOk(running(helper), 'the hanging ipvsadm is gone when the failure is reported')
  t.notOk(running(child), "and so is the child it started")
})

t.test('a cancelled built-in starts no further helper', async (t) => {
  let signalSeen: AbortSignal | undefined
  const stuck: InProcessAgent = (_args, _op, _env, signal) => {
    signalSeen = signal
    return new Promise((resolve) => signal.addEventListener('abort', () => resolve({ exitCode: 1, stdout: '', stderr: 'cancelled\n' })))
  }
  const err = await runAgent({ agent: 'stuck', args: [], text: 'stuck' }, 'stop', { ...opts, builtins: new Map([['stuck', stuck]]), timeoutsMs: { stop: 200 } }).catch((e: unknown) => e)
  t.ok(err instanceof AgentError && err.code === 'AGENT_TIMEOUT', 'reported as a timeout')
  t.ok(signalSeen?.aborted, 'the agent was told to stop at its timeout')
  t.match(String(err), /cancelled/, "what the agent said while winding down is kept")
})

t.test("the manager's cancel ends a built-in lvs stop whose ipvsadm hangs, long before its timeout: helper and child killed", async (t) => {
  const bin = join(root, 'bin')
  script(bin, 'ipvsadm-hang', `echo $$ > ${stateDir}/cancel-ipvsadm.pid\nsleep 600 &\necho $! > ${stateDir}/cancel-ipvsadm.child\nwait`)
  const env = {
    PATH: process.env.PATH,
    HBTS_IPVSADM: join(bin, 'ipvsadm-hang'),
    HBTS_RUN_DIR: join(root, 'run'),
    HBTS_HA_DIR: join(root, 'ha'),
    HBTS_MON_CF: join(root, 'ha', 'no-mon.cf'),
    HBTS_PROC_SYS: join(root, 'state'),
  }
  // As after an lvs start that turned forwarding on: a cut-off stop may leave services, so it stays on.
  const procSys = join(root, 'cancel-proc-sys')
  mkdirSync(join(procSys, 'net', 'ipv4'), { recursive: true })
  writeFileSync(join(procSys, 'net', 'ipv4', 'ip_forward'), '1\n')
  mkdirSync(join(root, 'run', 'lvs'), { recursive: true })
  writeFileSync(join(root, 'run', 'lvs', 'ip_forward.before'), '0\n')
  env.HBTS_PROC_SYS = procSys
  const cancel = new AbortController()
  const withLvs: AgentRunnerOptions = { dirs, env, builtins: builtinAgents(), timeoutsMs: { stop: 60_000 }, killGraceMs: 500, cancel: cancel.signal }
  const res = { agent: 'lvs', args: ['10.8.8.8:80', 'rr', '10.8.8.9'], text: 'lvs::10.8.8.8:80::rr::10.8.8.9' }
  const pending = executeAgentAction({ id: 12, resource: res, op: 'stop' }, withLvs)
  const pidFile = join(stateDir, 'cancel-ipvsadm.pid')
  for (let i = 0; i < 250; i++) {
    try {
      readFileSync(pidFile)
      break
    } catch {
      await new Promise((r) => setTimeout(r, 20))
    }
  }
  const t0 = performance.now()
  cancel.abort()
  const ev = await pending
  const took = performance.now() - t0
  t.match(ev.event, { type: 'agent-result', id: 12, ok: false }, 'the manager sees a failed stop')
  t.equal(ev.error?.code, 'AGENT_CANCELLED')
  t.match(ev.error?.message ?? '', /lvs stop failed: cancelled/)
  t.ok(took < 10_000, `answered soon after the cancel, not at the 60 s timeout (${Math.round(took)} ms)`)
  const helper = Number(readFileSync(pidFile, 'utf8'))
  const child = Number(readFileSync(join(stateDir, 'cancel-ipvsadm.child'), 'utf8'))
  for (let i = 0; i < 50 && (running(helper) || running(child)); i++) await new Promise((r) => setTimeout(r, 20))
  t.notOk(running(helper), 'the hanging ipvsadm is gone')
  t.notOk(running(child), 'and so is its child')
  t.equal(readFileSync(join(procSys, 'net', 'ipv4', 'ip_forward'), 'utf8'), '1\n', 'forwarding stays on under the services the stop may have left')
})

t.test("the manager's cancel ends a script's process group, as its timeout would", async (t) => {
  const cancel = new AbortController()
  const pending = runAgent({ agent: 'hang', args: [], text: 'hang' }, 'stop', { ...opts, timeoutsMs: { stop: 60_000 }, killGraceMs: 200, cancel: cancel.signal }).catch((e: unknown) => e)
  await new Promise((r) => setTimeout(r, 300))
  cancel.abort()
  const err = await pending
  t.ok(err instanceof AgentError && err.code === 'AGENT_CANCELLED', 'AGENT_CANCELLED')
  const child = Number(readFileSync(join(stateDir, 'hang.child'), 'utf8'))
  for (let i = 0; i < 50 && running(child); i++) await new Promise((r) => setTimeout(r, 20))
  t.notOk(running(child), "the script's background child is gone too")
  const already = new AbortController()
  already.abort()
  let ran = false
  const recorder: InProcessAgent = async () => {
    ran = true
    return { exitCode: 0, stdout: '', stderr: '' }
  }
  const err2 = await runAgent({ agent: 'recorder', args: [], text: 'recorder' }, 'stop', { ...opts, builtins: new Map([['recorder', recorder]]), cancel: already.signal }).catch((e: unknown) => e)
  t.ok(err2 instanceof AgentError && err2.code === 'AGENT_CANCELLED', 'a call cancelled before it ran is cancelled too')
  t.notOk(ran, 'and was never started')
})

t.test('lookup order: resource.d, then init.d, then rc.d/init.d; regular executable files only', async (t) => {
  t.equal(await findAgent('svc', dirs), join(dirs[1] as string, 'svc'), 'init.d before rc.d/init.d')
  t.equal(await findAgent('rhonly', dirs), join(dirs[2] as string, 'rhonly'), 'rc.d/init.d as the last resort')
  t.equal(await findAgent('notexec', dirs), join(dirs[1] as string, 'notexec'), 'a non-executable file is skipped')
  t.equal(await findAgent('adir', dirs), undefined, 'a directory is not an agent')
  t.equal(await findAgent('../state', dirs), undefined, 'no path tricks')
  const missing = await runAgent({ agent: 'nosuch', args: [], text: 'nosuch' }, 'start', opts).catch((e: unknown) => e)
  t.ok(missing instanceof AgentError && missing.code === 'AGENT_NOT_FOUND', 'missing agent: AGENT_NOT_FOUND')
  t.match(String(missing), /Cannot locate resource script nosuch/)
  const st = await executeAgentAction({ id: 3, resource: { agent: 'nosuch', args: [], text: 'nosuch' }, op: 'status' }, opts)
  t.match(st.event, { ok: true, running: false }, 'status of a missing script reads as not running (as ResourceManager)')
})

t.test('built-in agents run in-process, before any script of that name', async (t) => {
  const calls: string[] = []
  const ipaddr: InProcessAgent = async (args, op, env) => {
    calls.push(`${args.join(' ')} ${op} ${env.HA_CURHOST ?? ''}`)
    return { exitCode: 0, stdout: op === 'status' ? 'running' : '', stderr: '' }
  }
  const slow: InProcessAgent = () => new Promise(() => {})
  const withBuiltins = { ...opts, builtins: new Map([['legacyd', ipaddr], ['slow', slow]]), timeoutsMs: { start: 200, stop: 200, status: 200 } }
  const ev = await executeAgentAction({ id: 4, resource: { agent: 'legacyd', args: ['10.0.0.1'], text: '10.0.0.1' }, op: 'status' }, withBuiltins)
  t.same(ev.event, { type: 'agent-result', id: 4, ok: true, running: true, exitCode: 0 })
  t.same(calls, ['10.0.0.1 status titanic5.etri.re.kr'], 'the registry entry ran, not the script')
  const err = await runAgent({ agent: 'slow', args: [], text: 'slow' }, 'start', withBuiltins).catch((e: unknown) => e)
  t.ok(err instanceof AgentError && err.code === 'AGENT_TIMEOUT', 'a hanging built-in times out too')
})

t.test('haEnvironment carries heartbeat\'s HA_* variables', async (t) => {
  const env = haEnvironment({ curHost: 'n1', logFile: '/var/log/ha-log', debugLog: '/var/log/ha-debug', logFacility: 'local0', debugLevel: 1, envDirectives: { FOO: 'bar' } })
  t.match(env, {
    HA_CURHOST: 'n1',
    HA_DIR: '/etc/ha.d',
    HA_FUNCS: '/etc/ha.d/shellfuncs',
    HA_DATEFMT: '%Y/%m/%d_%T\t',
    HA_LOGFILE: '/var/log/ha-log',
    HA_DEBUGLOG: '/var/log/ha-debug',
    HA_LOGFACILITY: 'local0',
    HA_debug: '1',
    HA_LOGD: 'no',
    OCF_ROOT: '/usr/lib/ocf',
    HA_FOO: 'bar',
  })
  t.notOk('HA_debug' in haEnvironment({ curHost: 'n1' }), 'HA_debug only when debugging')
})
