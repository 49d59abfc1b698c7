// The namespace kit now ships with the demo (lib/demo/netns-kit.ts); the tests keep importing it from here.
// What stays here is test-only: the datagram observer (test/netns/udp-observer.ts).

import { distFile, type Host } from '../../lib/demo/netns-kit.js'

export * from '../../lib/demo/netns-kit.js'

export interface Heard {
  atMs: number
  bytes: number
  /** String fields the observer picked out ('-' when absent). */
  f: Readonly<Record<string, string>>
}

export interface Observer {
  readonly heard: Heard[]
  /** Last datagram with t=status from node `src` heard at or before `beforeMs`. */
  lastStatus(src: string, beforeMs?: number): Heard | undefined
  stop(): void
}

/** Listen for every heartbeat datagram on the segment (run in a host of its own on the bridge). */
export async function startObserver(host: Host, port: number): Promise<Observer> {
  const script = await distFile('test/netns/udp-observer.js')
  const proc = host.spawn([process.execPath, script, String(port)])
  await proc.waitForLine(/^listening$/, 10_000)
  const heard: Heard[] = []
  let scanned = 0
  const refresh = () => {
    for (; scanned < proc.lines.length; scanned++) {
      const l = proc.lines[scanned]
      if (l === undefined || l.stream !== 'stdout') continue
      const [ms, bytes, ...kv] = l.text.split(' ')
      if (!ms || !bytes || ms === 'listening') continue
      const f: Record<string, string> = {}
      for (const p of kv) {
        const i = p.indexOf('=')
        if (i > 0) f[p.slice(0, i)] = p.slice(i + 1)
      }
      heard.push({ atMs: Number(ms), bytes: Number(bytes), f })
    }
  }
  return {
    get heard() {
      refresh()
      return heard
    },
    lastStatus(src, beforeMs = Number.POSITIVE_INFINITY) {
      refresh()
      for (let i = heard.length - 1; i >= 0; i--) {
        const h = heard[i]
        if (h && h.f.t === 'status' && h.f.src === src && h.atMs <= beforeMs) return h
      }
      return undefined
    },
    stop() {
      proc.kill('SIGTERM')
    },
  }
}
