// A tiny web server that answers every request with its node name (the seed's httpd stand-in).
// Run as `node dist/lib/demo/http-name-server.js <name> [port]` inside a host; prints "listening".

import { createServer } from 'node:http'

const [name = 'unknown', portText = '80'] = process.argv.slice(2)
const server = createServer((_req, res) => {
  res.writeHead(200, { 'content-type': 'text/plain', connection: 'close' })
  res.end(`${name}\n`)
})
server.on('error', (err) => {
  process.stderr.write(`http-name-server: ${err.message}\n`)
  process.exit(1)
})
// 0.0.0.0: the VIP answers here whether it sits on eth0:0 (director) or lo:0 (real server).
server.listen(Number(portText), '0.0.0.0', () => process.stdout.write('listening\n'))
process.on('SIGTERM', () => server.close(() => process.exit(0)))
