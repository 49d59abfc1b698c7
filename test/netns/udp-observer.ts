// A passive listener on the test bridge: prints one line per heartbeat datagram it hears
// (arrival ms, src, t, st, dt, seq, hg), so tests can time deaths against the last heartbeat.
// Run as `node dist/test/netns/udp-observer.js <port>` inside a kit host.

import { createSocket } from 'node:dgram'
import { raiseSchedulingPriority } from '../../lib/io/realtime.js'

const port = Number(process.argv[2] ?? '694')
const sock = createSocket({ type: 'udp4', reuseAddr: true })

/** The value of string field `name` in a netstring or classic packet, loosely (test use only). */
function field(text: string, name: string): string {
  const netstring = new RegExp(`[:,\\n]\\d+:\\(0\\)${name}=([^,]*),`).exec(text)
  if (netstring?.[1] !== undefined) return netstring[1]
  const classic = new RegExp(`\\n${name}=([^\\n]*)\\n`).exec(text)
  return classic?.[1] ?? '-'
}

sock.on('message', (buf) => {
  const text = buf.toString('latin1')
  const parts = ['t', 'src', 'st', 'dt', 'seq', 'hg', 'dest', 'ackseq', 'firstseq'].map((n) => `${n}=${field(text, n)}`)
  process.stdout.write(`${Date.now()} ${buf.length} ${parts.join(' ')}\n`)
})
// The arrival times are the measure: the observer runs at the nodes' priority (SCHED_RR, as
// `realtime on` runs both daemons), so a busy machine delays it no more than what it watches.
sock.on('listening', () => {
  void raiseSchedulingPriority(process.pid).then((p) => {
    if (p.kind !== 'rr') process.stderr.write(`observer: no SCHED_RR (${p.why})\n`)
    process.stdout.write('listening\n')
  })
})
sock.bind(port, '0.0.0.0')
process.on('SIGTERM', () => sock.close(() => process.exit(0)))
