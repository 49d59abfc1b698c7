// Issue 13 item 8: every command of ours, as an admin types it: --help (a line per option, verb and
// sub-command, exit 0), --version, and a usage error on stderr with exit 2 in our words (never Node's
// parser advice). cl_status is the exception: it answers exactly as the real one, --help included.

import t, { type Test } from 'tap'
import { access, mkdtemp, rm } from 'node:fs/promises'
import { constants } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { HBTS_VERSION } from '../../lib/control/version.js'
import { execa } from 'execa'
import { REAL_CL_STATUS } from '../../lib/cli/cl-status.js'
import { REPO, requireBuilt, run, type Run } from './heartbeat-kit.js'

const CLI = (name: string) => join(REPO, 'dist', 'lib', 'cli', `${name}.js`)
const HBCTL_SUBCOMMANDS = ['status', 'nodes', 'standby', 'takeover', 'events', 'metrics', 'reload', 'check', 'decode', 'export-pacemaker']
const VERSION_TEXT = `3.0.6 (heartbeat-ts ${HBTS_VERSION})`

for (const f of ['heartbeat', 'hbctl', 'hb-mon', 'cl-status']) requireBuilt(CLI(f))

/** An environment where no daemon runs: private pidfile and run directory. */
async function quietEnv(t: Test): Promise<Record<string, string>> {
  const dir = await mkdtemp(join(tmpdir(), 'hbts-cliconv-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  return {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HBTS_PIDFILE: join(dir, 'heartbeat.pid'),
    HBTS_RUN_DIR: join(dir, 'run'),
    HBTS_STATE_DIR: join(dir, 'state'),
    HBTS_HA_DIR: join(dir, 'ha.d'),
  }
}

/** The commands and how each names itself in messages. */
const COMMANDS: ReadonlyArray<{ name: string; file: string; pre: string[] }> = [
  { name: 'heartbeat', file: 'heartbeat', pre: [] },
  { name: 'hbctl', file: 'hbctl', pre: [] },
  { name: 'hb-mon', file: 'hb-mon', pre: [] },
  ...HBCTL_SUBCOMMANDS.map((sub) => ({ name: `hbctl ${sub}`, file: 'hbctl', pre: [sub] })),
]

t.test('--help, --version and a usage error, command by command', async (t) => {
  const env = await quietEnv(t)
  for (const c of COMMANDS) {
    const help = await run(CLI(c.file), [...c.pre, '--help'], env)
    t.equal(help.exitCode, 0, `${c.name} --help: exit 0`)
    t.match(help.stdout, /^usage: /i, `${c.name} --help: usage on stdout`)
    t.equal(help.stderr, '', `${c.name} --help: nothing on stderr`)

    const version = await run(CLI(c.file), [...c.pre, '--version'], env)
    t.same({ out: version.stdout, code: version.exitCode }, { out: `${c.name} ${VERSION_TEXT}\n`, code: 0 }, `${c.name} --version`)

    const bad = await run(CLI(c.file), [...c.pre, '--no-such-option'], env)
    t.equal(bad.exitCode, 2, `${c.name} --no-such-option: exit 2`)
    t.equal(bad.stdout, '', `${c.name}: nothing on stdout`)
    const firstLine = bad.stderr.split('\n')[0]
    t.equal(firstLine, `${c.name}: unknown option --no-such-option`, `${c.name}: the reason in our words`)
    t.notMatch(bad.stderr, /To specify a positional|Unknown option '|ERR_PARSE_ARGS|at .*\(node:/, `${c.name}: no Node parser text, no stack`)
    t.match(bad.stderr, /usage: /i, `${c.name}: the usage follows`)
  }
})

t.test('heartbeat --help: a line per option and per verb', async (t) => {
  const help = (await run(CLI('heartbeat'), ['--help'], await quietEnv(t))).stdout
  const lines = help.split('\n')
  const starts = (word: string) => lines.some((l) => new RegExp(`^\\s+${word.replace(/[-]/g, '\\-')}(,|\\s)`).test(l))
  for (const opt of ['-f', '-k', '-s', '-r', '-d', '-v', '-l', '-V', '--version', '-h']) t.ok(starts(opt), `option ${opt} has its line`)
  for (const verb of ['start', 'stop', 'status', 'restart', 'reload', 'force-reload', 'standby']) t.ok(starts(verb), `verb ${verb} has its line`)
  t.ok(lines.length > 15, 'more than one usage line')
  const short = await run(CLI('heartbeat'), ['-h'], await quietEnv(t))
  t.equal(short.stdout, help, '-h is --help')
  t.equal((await run(CLI('heartbeat'), ['-V'], await quietEnv(t))).stdout, `${VERSION_TEXT}\n`, '-V prints the bare version, as 3.0.6')
  const both = await run(CLI('heartbeat'), ['-f', '-k'], await quietEnv(t))
  t.equal(both.exitCode, 2, 'two actions: usage error')
  t.match(both.stderr, /^heartbeat: -f, -k, -s, -r and -V exclude each other\n/)
  const verb = await run(CLI('heartbeat'), ['bogus'], await quietEnv(t))
  t.same({ err: verb.stderr, code: verb.exitCode }, { err: 'Usage: heartbeat {start|stop|status|restart|reload|force-reload|standby}\n', code: 1 }, 'a bad verb: the init script\'s usage, exit 1')
})

t.test('hb-mon --help: a line per option; hbctl --help: a line per sub-command', async (t) => {
  const env = await quietEnv(t)
  const mon = (await run(CLI('hb-mon'), ['--help'], env)).stdout
  for (const opt of ['-c, --config', '-s, --mondir', '-a, --alertdir', '-b, --basedir', '-P, --pidfile', '--state', '--log', '-f, --fork', '--stop', '--version', '-h, --help']) {
    t.match(mon, new RegExp(`^  ${opt.replace(/[-]/g, '\\-')}\\s`, 'm'), `hb-mon: ${opt} has its line`)
  }
  const value = await run(CLI('hb-mon'), ['-c'], env)
  t.equal(value.stderr.split('\n')[0], 'hb-mon: option --config needs a value')
  t.equal(value.exitCode, 2)
  const hbctl = (await run(CLI('hbctl'), ['--help'], env)).stdout
  for (const sub of [...HBCTL_SUBCOMMANDS, 'cl_status']) t.match(hbctl, new RegExp(`^  ${sub}\\s+\\S`, 'm'), `hbctl --help: ${sub} and what it does`)
})

async function runReal(file: string, args: string[], env: Record<string, string>): Promise<Run> {
  const r = await execa(file, args, { env, extendEnv: false, reject: false, timeout: 60_000, stripFinalNewline: false })
  return { stdout: String(r.stdout), stderr: String(r.stderr), exitCode: r.exitCode ?? -1 }
}

t.test('cl_status --help, --version and bad words: exactly the real cl_status', async (t) => {
  const real = REAL_CL_STATUS
  const have = await access(real, constants.X_OK).then(
    () => true,
    () => false,
  )
  if (!have) {
    if (process.env.CI === 'true') t.fail(`${real} is needed under CI (.ci/setup installs heartbeat)`)
    else t.pass(`skipped: ${real} missing (apt-get install heartbeat)`, { skip: true })
    return
  }
  const env = await quietEnv(t)
  const mask = (s: string) => s.replace(/^[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d \S+ cl_status: \[\d+\]: /gm, '<log> ')
  for (const args of [['--help'], ['-h'], ['--version'], [], ['--no-such-option'], ['nosuchcommand']]) {
    const theirs = await runReal(real, args, env)
    const mine = await run(CLI('cl-status'), args, env)
    t.same(
      { stdout: mine.stdout, stderr: mask(mine.stderr), exitCode: mine.exitCode },
      { stdout: theirs.stdout, stderr: mask(theirs.stderr), exitCode: theirs.exitCode },
      `cl_status ${args.join(' ')}: as the real one (exit ${theirs.exitCode})`,
    )
  }
})
