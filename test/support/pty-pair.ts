// A null-modem cable for tests: socat joins two ptys, reachable as DIR/a and DIR/b (links to
// /dev/pts/N), so two daemons on this host, or in the kit's namespaces, share a serial line.

import { access } from 'node:fs/promises'
import { join } from 'node:path'
import { execa, type ResultPromise } from 'execa'
import type { Availability } from '../netns/kit.js'

export async function socatAvailability(): Promise<Availability> {
  const r = await execa('socat', ['-V'], { reject: false, timeout: 5000, stdin: 'ignore' }).catch(() => undefined)
  return r?.exitCode === 0 ? { ok: true } : { ok: false, reason: 'socat is not installed (Debian package socat; .ci/setup installs it)' }
}

export interface PtyPair {
  a: string
  b: string
  /** Pull the cable: socat exits, both ptys go away (their links dangle). */
  cut(): Promise<void>
  /** Plug a new cable in: a new pair behind the same two links. */
  plug(): Promise<void>
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path)
    return true
  } catch {
    return false
  }
}

export async function ptyPair(dir: string, teardown: (fn: () => Promise<void>) => void): Promise<PtyPair> {
  const a = join(dir, 'a')
  const b = join(dir, 'b')
  let proc: ResultPromise | undefined
  const cut = async (): Promise<void> => {
    const p = proc
    proc = undefined
    if (p === undefined) return
    p.kill('SIGTERM')
    await p.catch(() => undefined)
  }
  const plug = async (): Promise<void> => {
    await cut()
    const p = execa('socat', ['-d', '-d', `pty,raw,echo=0,link=${a}`, `pty,raw,echo=0,link=${b}`], { reject: false, stdin: 'ignore', buffer: false })
    proc = p
    // socat makes the links before it says it is relaying; wait for both links to resolve
    const until = Date.now() + 10_000
    while (!((await exists(a)) && (await exists(b)))) {
      if (Date.now() > until) throw new Error(`socat did not create ${a} and ${b}`)
      await new Promise((r) => setTimeout(r, 50))
    }
  }
  teardown(cut)
  await plug()
  return { a, b, cut, plug }
}
