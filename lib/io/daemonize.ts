// Starting the daemon in the background: a detached `heartbeat -f` child, stderr kept in a file.

import { execa } from 'execa'
import type { FileHandle } from 'node:fs/promises'
import { connect } from 'node:net'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { probeDaemon } from './pidfile.js'
import { ensureDir, replaceWithNewFile } from './safe-files.js'

export interface StartResult {
  /** 0 = the child wrote the pidfile and is alive; else its exit code (1 if killed by a signal). */
  rc: number
  /** What the child wrote to stderr before it failed (empty on success). */
  detail: string
  pid: number | undefined
}

/** The file that receives the daemon's stderr: startup errors, and any crash trace later. */
export function daemonStderrPath(runDir: string): string {
  return join(runDir, 'daemon.stderr')
}

/**
 * runDir holds the control socket and the files root writes at run time: created 0700, and refused
 * (UnsafePathError, with the reason) when it or a directory above it is owned or writable by another
 * account, or is a symlink. See lib/io/safe-files.ts.
 */
export async function ensureRunDir(runDir: string): Promise<void> {
  await ensureDir(runDir, { private: true })
}

/** How much of daemon.stderr `start` shows when the daemon failed. */
const MAX_DETAIL_BYTES = 64 * 1024

async function readBack(fh: FileHandle): Promise<string> {
  const buf = Buffer.alloc(MAX_DETAIL_BYTES)
  const r = await fh.read(buf, 0, buf.length, 0).catch(() => ({ bytesRead: 0 }))
  return buf.subarray(0, r.bytesRead).toString('utf8')
}

function socketAnswers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(path)
    s.once('connect', () => {
      s.destroy()
      resolve(true)
    })
    s.once('error', () => resolve(false))
  })
}

/**
 * Node flags for the long-running daemon, also in lib/cli/heartbeat.ts's shebang (`env -S`). A 1 MB
 * young generation instead of V8's up to 16 MB: the idle daemon allocates little, so scavenges stay
 * rare and short, and peak RSS drops by about 4 MB (bench/daemon.ts: 64-67 MB to 60-61 MB).
 */
export const DAEMON_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=1']

/**
 * Spawn `node <script> -f ...` detached (own session, no terminal), then wait until it
 * is ready — pidfile names it and the control socket answers — or it exits. A daemon
 * that wrote its pidfile but has no control socket after `timeoutMs` counts as started.
 */
export async function startDetached(opts: {
  script: string
  args: readonly string[]
  runDir: string
  pidFile: string
  controlSocket: string
  env: Readonly<Record<string, string | undefined>>
  timeoutMs: number
}): Promise<StartResult> {
  await ensureRunDir(opts.runDir)
  const errPath = daemonStderrPath(opts.runDir)
  // A name another account planted (a symlink to a root-owned file) is unlinked, never opened.
  const errFile = await replaceWithNewFile(errPath, 0o600, { private: true })
  let exited: { code: number } | undefined
  let pid: number | undefined
  try {
    // execa's types accept only literal descriptor numbers; at run time any open fd is handed down.
    const fd = errFile.fd as 3
    const child = execa(process.execPath, [...DAEMON_NODE_FLAGS, opts.script, ...opts.args], {
      detached: true,
      cleanup: false,
      reject: false,
      stdin: 'ignore',
      stdout: fd,
      stderr: fd,
      env: { ...opts.env, HBTS_DAEMONIZED: '1' },
      extendEnv: false,
    })
    pid = child.pid
    void child.then((r) => {
      exited = { code: typeof r.exitCode === 'number' ? r.exitCode : 1 }
    })
    child.unref()
    const deadline = performance.now() + opts.timeoutMs
    for (;;) {
      if (exited) {
        const detail = await readBack(errFile)
        return { rc: exited.code === 0 ? 1 : exited.code, detail, pid }
      }
      const state = await probeDaemon(opts.pidFile)
      const ours = state.kind === 'running' && state.pid === pid
      if (ours && (await socketAnswers(opts.controlSocket))) return { rc: 0, detail: '', pid }
      if (performance.now() > deadline) {
        if (ours) return { rc: 0, detail: '', pid }
        return { rc: 1, detail: `heartbeat: the daemon (pid ${pid}) did not write ${opts.pidFile} within ${opts.timeoutMs} ms`, pid }
      }
      await sleep(100)
    }
  } finally {
    await errFile.close()
  }
}
