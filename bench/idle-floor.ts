// The idle bench's floor (issue 15, target 3): a bare Node loop doing the events an idle heartbeat
// node does, and nothing else. Run in each namespace of a pair as
//   node idle-floor.js <keepalive ms> <deadtime ms> <broadcast address> <port>
// it broadcasts one status-sized datagram per keepalive, skips its own coming back by comparing bytes,
// verifies the peer's with HMAC-SHA1 (a key imported once, as lib/wire/digest.ts does) and re-arms a
// deadtime timer on each. What heartbeat-ts costs above this is its own work per event.

import { createHmac, createSecretKey, randomBytes } from 'node:crypto'
import { createSocket } from 'node:dgram'

/** About the size of an idle node's status message with its auth trailer (seed names, sha1). */
const STATUS_BYTES = 300

const [keepaliveMs, deadtimeMs, broadcast, port] = process.argv.slice(2)
const key = createSecretKey(Buffer.from('bench-floor-key'))
const signed = (body: Buffer): Buffer => Buffer.concat([body, Buffer.from(createHmac('sha1', key).update(body).digest('hex'))])
const socket = createSocket({ type: 'udp4', reuseAddr: true })
let sent = signed(randomBytes(STATUS_BYTES - 40))
const silent = (): void => void process.stderr.write('floor: peer silent past the deadtime\n')
// armed from the start too, so a pair that never hears each other says so
let deadline = setTimeout(silent, Number(deadtimeMs) + 5000)
socket.on('message', (data) => {
  if (data.equals(sent)) return
  const body = data.subarray(0, data.length - 40)
  if (createHmac('sha1', key).update(body).digest('hex') !== data.subarray(data.length - 40).toString('latin1')) return
  clearTimeout(deadline)
  deadline = setTimeout(silent, Number(deadtimeMs))
})
socket.bind(Number(port), () => {
  socket.setBroadcast(true)
  process.stdout.write(`floor: listening on ${port}\n`)
  setInterval(() => {
    // a new sequence number each time, as a status: the bytes change
    sent = signed(randomBytes(STATUS_BYTES - 40))
    socket.send(sent, Number(port), broadcast)
  }, Number(keepaliveMs))
})
