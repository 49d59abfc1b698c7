// Running heartbeat-ts (the built dist/ CLI, `heartbeat -f`) inside a kit host, with the host's own
// /etc/ha.d, /var/lib/heartbeat and /run, exactly where the real daemon keeps them.

import { distFile, type Host, type Line, type Proc } from './kit.js'
import { DAEMON_NODE_FLAGS } from '../../lib/io/daemonize.js'

export interface TsNode {
  proc: Proc
  /** First log line matching re (already seen or future). */
  waitFor(re: RegExp, timeoutMs: number): Promise<Line>
  /** Lines logged so far, as text. */
  text(): string
}

export async function startTsNode(host: Host, opts: { debug?: number; env?: Record<string, string> } = {}): Promise<TsNode> {
  const cli = await distFile('lib/cli/heartbeat.js')
  // the flags the installed `heartbeat` runs with (its shebang), so tests and benches see the same daemon
  const args = [process.execPath, ...DAEMON_NODE_FLAGS, cli, '-f', ...Array.from({ length: opts.debug ?? 0 }, () => '-d')]
  const proc = host.spawn(args, { env: { ...process.env, ...(opts.env ?? {}) } as Record<string, string> })
  return {
    proc,
    waitFor: (re, timeoutMs) => proc.waitForLine(re, timeoutMs),
    text: () => proc.lines.map((l) => l.text).join('\n'),
  }
}
