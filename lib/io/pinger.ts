// The shell side of ping nodes: Node has no raw ICMP socket, so each ping address gets one long-lived
// iputils `ping` child (`ping -n -i <keepalive> -w <life> ADDR`, `-6` for ping6) sending one echo
// request per keepalive, as 3.0.6's ping plugins do. Each "bytes from" line of its output is an echo
// reply, handed on as `onReply(node)`. A child lives at most CHILD_LIFE_S (its own -w deadline,
// execa's timeout behind it) and is started again, after a pause when it ended early (unknown host,
// no route): bounded in time, in output held, and in restarts per minute.

import { execa } from 'execa'
import type { PingTarget } from '../cluster/ping-nodes.js'

/** One child pings for this long, then a new one takes over (bounds each process). */
export const CHILD_LIFE_S = 3600
/** Held output without a newline is cut here: ping's lines are short. */
const MAX_PARTIAL_CHARS = 1024
/** A child that ended before its deadline is started again after this long. */
const RESTART_PAUSE_MS = 5000

export interface PingerOptions {
  targets: readonly PingTarget[]
  /** ha.cf keepalive: one echo request per keepalive. */
  keepaliveMs: number
  onReply: (node: string) => void
  /** A child ended early or could not start; said once per address until it answers again. */
  onProblem?: (address: string, text: string) => void
  /** The `ping` command (tests may point it elsewhere). */
  command?: string
  env?: Readonly<Record<string, string | undefined>>
}

/** iputils ping's -i takes seconds with a fraction; below 0.2 s it needs root, so never ask for less. */
export function pingArgs(t: PingTarget, keepaliveMs: number, lifeS: number = CHILD_LIFE_S): string[] {
  const intervalS = Math.max(0.2, keepaliveMs / 1000)
  return [...(t.family === 6 ? ['-6'] : ['-4']), '-n', '-i', String(intervalS), '-w', String(lifeS), t.address]
}

/** Whether one line of ping's output is an echo reply ("64 bytes from 10.0.0.1: icmp_seq=1 …"). */
export function isReplyLine(line: string): boolean {
  return /^\d+ bytes from /.test(line)
}

export class Pinger {
  private readonly o: PingerOptions
  private readonly controller = new AbortController()
  private readonly timers = new Set<NodeJS.Timeout>()
  private readonly quiet = new Set<string>()
  private readonly running = new Set<Promise<unknown>>()

  constructor(o: PingerOptions) {
    this.o = o
  }

  start(): void {
    for (const t of this.o.targets) this.run(t)
  }

  /** Stop every child and pending restart; resolves when the children are reaped. */
  async stop(): Promise<void> {
    this.controller.abort()
    for (const t of this.timers) clearTimeout(t)
    this.timers.clear()
    await Promise.allSettled([...this.running])
  }

  private run(t: PingTarget): void {
    if (this.controller.signal.aborted) return
    const startedMs = Date.now()
    const child = execa(this.o.command ?? 'ping', pingArgs(t, this.o.keepaliveMs), {
      ...(this.o.env !== undefined ? { env: this.o.env, extendEnv: false } : {}),
      reject: false,
      timeout: (CHILD_LIFE_S + 10) * 1000,
      cancelSignal: this.controller.signal,
      forceKillAfterDelay: 1000,
      stdin: 'ignore',
      stdout: 'pipe',
      stderr: 'pipe',
      buffer: { stdout: false, stderr: true },
      maxBuffer: { stderr: 4096 },
      encoding: 'utf8',
    })
    let partial = ''
    child.stdout?.setEncoding('utf8')
    child.stdout?.on('data', (chunk: string) => {
      partial += chunk
      let nl = partial.indexOf('\n')
      while (nl >= 0) {
        const line = partial.slice(0, nl)
        partial = partial.slice(nl + 1)
        if (isReplyLine(line)) {
          this.quiet.delete(t.address)
          this.o.onReply(t.node)
        }
        nl = partial.indexOf('\n')
      }
      if (partial.length > MAX_PARTIAL_CHARS) partial = ''
    })
    const done = child.then((r) => {
      this.running.delete(done)
      if (this.controller.signal.aborted) return
      const lived = Date.now() - startedMs
      const early = lived < CHILD_LIFE_S * 1000 - 1000
      if (early && !this.quiet.has(t.address)) {
        this.quiet.add(t.address)
        const why = (typeof r.stderr === 'string' ? r.stderr.trim().split('\n')[0] : '') || (r.exitCode !== undefined ? `exit ${r.exitCode}` : (r.shortMessage ?? 'ended'))
        this.o.onProblem?.(t.address, `ping ${t.address}: ${why}; trying again every ${RESTART_PAUSE_MS / 1000} s`)
      }
      const timer = setTimeout(() => {
        this.timers.delete(timer)
        this.run(t)
      }, early ? RESTART_PAUSE_MS : 0)
      timer.unref()
      this.timers.add(timer)
    })
    this.running.add(done)
  }
}
