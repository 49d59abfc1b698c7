// A third host with no key: sends forged datagrams (the worst cases, garbage, replays of captured 3.0.6
// packets) to the heartbeat port of each target as fast as one core allows, for a bounded time.
// Run as `node dist/test/netns/flood-host.js <port> <seconds> all|forged <target>...` inside a kit host
// (a target may be a broadcast address); `forged` leaves the replays out.
// Prints `flood: <datagrams> datagrams, <bytes> bytes in <ms> ms` when done.

import { createSocket } from 'node:dgram'
import { readFileSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { repoRoot } from './kit.js'
import { forgedSet, garbage } from './forged-datagrams.js'

const [portText = '694', secondsText = '20', kinds = 'all', ...targets] = process.argv.slice(2)
const port = Number(portText)
const untilMs = Date.now() + Number(secondsText) * 1000

/** Captured 3.0.6 packets (sha1, key HI!, the seed node names): authentic, but old. */
function replays(): Buffer[] {
  const dir = join(repoRoot, 'test', 'fixtures', 'vectors')
  const out: Buffer[] = []
  for (const scenario of readdirSync(dir).filter((d) => d.startsWith('sha1-')).sort()) {
    const packets = join(dir, scenario, 'packets')
    for (const f of readdirSync(packets).filter((x) => x.endsWith('.bin')).sort()) out.push(readFileSync(join(packets, f)))
  }
  return out
}

// One big forged datagram, then a few small ones: replays and short garbage keep the packet rate up.
const big = forgedSet().map((f) => f.bytes)
const small = [...(kinds === 'all' ? replays() : []), garbage(4).subarray(0, 200), garbage(5, '###\n').subarray(0, 300), garbage(6, '>>>\n').subarray(0, 300)]
const mix: Buffer[] = []
for (let r = 0; r < Math.max(big.length, Math.ceil(small.length / 8)); r++) {
  mix.push(big[r % big.length] as Buffer)
  for (let j = 0; j < 8; j++) mix.push(small[(r * 8 + j) % small.length] as Buffer)
}

const sock = createSocket('udp4')
let sent = 0
let bytes = 0
let next = 0
let inFlight = 0
const started = Date.now()
const MAX_IN_FLIGHT = 64

function pump(): void {
  while (inFlight < MAX_IN_FLIGHT && Date.now() < untilMs) {
    const d = mix[next++ % mix.length] as Buffer
    for (const host of targets) {
      inFlight++
      sock.send(d, port, host, () => {
        inFlight--
        sent++
        bytes += d.length
        setImmediate(pump)
      })
    }
  }
  if (inFlight === 0 && Date.now() >= untilMs) {
    process.stdout.write(`flood: ${sent} datagrams, ${bytes} bytes in ${Date.now() - started} ms\n`)
    sock.close()
  }
}

sock.bind(0, () => {
  sock.setBroadcast(true)
  pump()
})
