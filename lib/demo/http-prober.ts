// Asks http://<ip>:<port>/ again and again and prints one line per attempt: `<wall ms> <answer>` or
// `<wall ms> ERR <reason>`. Run inside the client host; the test reads when the answer changed.
// usage: node dist/lib/demo/http-prober.js <ip> [port] [intervalMs] [timeoutMs]

import { request } from 'node:http'

const [ip = '127.0.0.1', portText = '80', intervalText = '20', timeoutText = '200'] = process.argv.slice(2)
const intervalMs = Number(intervalText)
const timeoutMs = Number(timeoutText)

function once(): Promise<string> {
  return new Promise((resolve) => {
    // A fresh connection every time (no agent): each attempt goes through ARP and the VIP's owner.
    const req = request({ host: ip, port: Number(portText), path: '/', agent: false, timeout: timeoutMs }, (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (c: string) => (body += c))
      res.on('end', () => resolve(body.trim() === '' ? `ERR empty ${res.statusCode ?? ''}` : body.trim()))
      res.on('error', (e) => resolve(`ERR ${e.message}`))
    })
    req.on('timeout', () => req.destroy(new Error('timeout')))
    req.on('error', (e) => resolve(`ERR ${(e as NodeJS.ErrnoException).code ?? e.message}`))
    req.end()
  })
}

let stopping = false
process.on('SIGTERM', () => (stopping = true))
for (;;) {
  if (stopping) break
  const answer = await once()
  process.stdout.write(`${Date.now()} ${answer}\n`)
  await new Promise((r) => setTimeout(r, intervalMs))
}
