// Test kit for the heartbeat command: temp node directories, the built CLI, a stand-in daemon loop.

import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises'
import { existsSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { execa } from 'execa'

export const REPO = resolve(import.meta.dirname, '..', '..')
/** The heartbeat command with a stand-in daemon loop injected (test/cli/stand-in/heartbeat.ts, built). */
export const HEARTBEAT_JS = join(REPO, 'dist', 'test', 'cli', 'stand-in', 'heartbeat.js')

export function requireBuilt(file: string): void {
  if (!existsSync(file)) throw new Error(`${file} is missing: run \`npm run build\` first (npm test does)`)
}

// Stand-in for lib/daemon/run.ts: serves the control socket, notes SIGHUP, stops on SIGTERM.
const FAKE_DAEMON = `
import { createServer } from 'node:net'
import { appendFileSync } from 'node:fs'
import { join } from 'node:path'
export async function runDaemon(opts) {
  const srv = createServer((c) => c.end())
  await new Promise((r) => srv.listen(join(opts.paths.runDir, 'hbctl.sock'), r))
  process.on('SIGHUP', () => appendFileSync(join(opts.paths.stateDir, 'signals'), 'HUP\\n'))
  appendFileSync(join(opts.paths.stateDir, 'signals'), 'START debug=' + opts.debugLevel + ' foreground=' + opts.foreground + '\\n')
  await new Promise((r) => process.once('SIGTERM', r))
  await new Promise((r) => srv.close(r))
  return 0
}
`

export interface Node {
  dir: string
  env: Record<string, string>
  pidFile: string
  stateDir: string
  runDir: string
  haDir: string
}

/** A private set of heartbeat directories; ha.cf written when given. */
export async function makeNode(haCf: string | undefined): Promise<Node> {
  const dir = await mkdtemp(join(tmpdir(), 'hbts-t8-'))
  const haDir = join(dir, 'ha.d')
  const stateDir = join(dir, 'state')
  const runDir = join(dir, 'run')
  await mkdir(haDir)
  await mkdir(stateDir)
  if (haCf !== undefined) await writeFile(join(haDir, 'ha.cf'), haCf)
  const fake = join(dir, 'fake-daemon.mjs')
  await writeFile(fake, FAKE_DAEMON)
  const pidFile = join(dir, 'heartbeat.pid')
  return {
    dir,
    pidFile,
    stateDir,
    runDir,
    haDir,
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HBTS_HA_DIR: haDir,
      HBTS_STATE_DIR: stateDir,
      HBTS_RUN_DIR: runDir,
      HBTS_PIDFILE: pidFile,
      HBTS_TEST_DAEMON_MODULE: fake,
      HBTS_START_TIMEOUT_MS: '20000',
      HBTS_RESTART_WAIT_MS: '0',
      HBTS_NODE_NAME: 'titanic5.etri.re.kr',
    },
  }
}

export async function removeNode(node: Node): Promise<void> {
  await rm(node.dir, { recursive: true, force: true })
}

export interface Run {
  stdout: string
  stderr: string
  exitCode: number
}

export async function run(file: string, args: string[], env: Record<string, string>, input?: string): Promise<Run> {
  const r = await execa(process.execPath, [file, ...args], {
    env,
    extendEnv: false,
    reject: false,
    timeout: 60_000,
    stripFinalNewline: false,
    ...(input !== undefined ? { input } : {}),
  })
  return { stdout: String(r.stdout), stderr: String(r.stderr), exitCode: r.exitCode ?? -1 }
}
