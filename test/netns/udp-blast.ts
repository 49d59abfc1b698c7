// Sends N small UDP datagrams to host:port, one per millisecond (loss checks in kit tests).
// Run as `node dist/test/netns/udp-blast.js <host> <port> <count>` inside a kit host.

import { createSocket } from 'node:dgram'

const [host = '127.0.0.1', portText = '694', countText = '100'] = process.argv.slice(2)
const sock = createSocket('udp4')
sock.on('listening', () => sock.setBroadcast(true))
sock.bind(0)
let sent = 0
const total = Number(countText)
const timer = setInterval(() => {
  sock.send(Buffer.from(`###\n11:(0)t=blast,${sent},`), Number(portText), host)
  sent++
  if (sent >= total) {
    clearInterval(timer)
    setTimeout(() => sock.close(), 50)
  }
}, 1)
