// What a pidfile says about the daemon, as data. lib/io/pidfile.ts produces it; the init verbs
// (lib/cli/init-verbs.ts) turn it into words and LSB exit codes. Here, below both, so io never imports cli.

/** What the pidfile says about the daemon (heartbeat -s distinguishes exactly these three). */
export type DaemonState =
  | { kind: 'running'; pid: number }
  | { kind: 'stopped' }
  /** The pidfile exists but names no live process (or holds no pid at all). */
  | { kind: 'stale'; pid: number | undefined; reason?: string }

/** A pidfile holds a decimal pid, maybe followed by a newline; anything else is not a pid. */
export function parsePidText(text: string): number | undefined {
  const m = /^\s*(\d{1,10})\s*$/.exec(text)
  if (!m) return undefined
  const pid = Number(m[1])
  return pid > 0 && pid < 2 ** 31 ? pid : undefined
}
