// Built-in http.monitor against local node:http servers on 127.0.0.x: statuses, output contract, timeouts.
import t from 'tap'
import { createServer } from 'node:http'
import type { IncomingMessage, Server, ServerResponse } from 'node:http'
import type { Test } from 'tap'
import type { AddressInfo, Socket } from 'node:net'
import { parseHttpMonitorArgs, runHttpMonitor } from '../../lib/agents/http-monitor.js'

type Handler = (req: IncomingMessage, res: ServerResponse) => void

async function serve(t: Test, host: string, port: number, handler: Handler): Promise<number> {
  const server: Server = createServer(handler)
  const sockets = new Set<Socket>()
  server.on('connection', (s) => {
    sockets.add(s)
    s.on('close', () => sockets.delete(s))
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, () => resolve())
  })
  t.teardown(() => {
    for (const s of sockets) s.destroy()
    return new Promise<void>((r) => server.close(() => r()))
  })
  return (server.address() as AddressInfo).port
}

const status = (code: number): Handler => (_req, res) => {
  res.writeHead(code, { 'Content-Type': 'text/plain' })
  res.end(`status ${code}\n`)
}

t.test('accepted statuses are exactly 200, 301, 302 and 401', async (t) => {
  for (const code of [200, 301, 302, 401, 403, 404, 500, 503]) {
    const port = await serve(t, '127.0.0.1', 0, status(code))
    const r = await runHttpMonitor(['-p', String(port), '-t', '5', '127.0.0.1'])
    const good = [200, 301, 302, 401].includes(code)
    t.equal(r.exitCode, good ? 0 : 1, `${code} → exit ${good ? 0 : 1}`)
    t.equal(r.output.split('\n')[0], good ? '' : '127.0.0.1', `${code}: first line names the failing host or is empty`)
    if (!good) t.match(r.output, `HOST 127.0.0.1: HTTP response code ${code} (accepted: 200, 301, 302, 401)\nHTTP/1.1 ${code} `)
    else t.match(r.output, /HOST 127\.0\.0\.1: ok\nHTTP\/1\.1 \d+ .*\n(.+\n)*\n/)
  }
})

t.test('request shape: GET <url>, Host as given, mon’s User-Agent', async (t) => {
  let seen: { url?: string; host?: string; agent?: string; method?: string } = {}
  const port = await serve(t, '127.0.0.1', 0, (req, res) => {
    seen = { url: req.url, host: req.headers.host, agent: req.headers['user-agent'], method: req.method }
    res.end('ok')
  })
  const r = await runHttpMonitor([`-p${port}`, '-u', '/health?x=1', '127.0.0.1'])
  t.equal(r.exitCode, 0)
  t.same(seen, { url: '/health?x=1', host: '127.0.0.1', agent: 'mon.d/http.monitor', method: 'GET' })
})

t.test('several hosts: failing ones sorted on line 1, details after; -o hides healthy hosts', async (t) => {
  const port = await serve(t, '127.0.0.1', 0, status(200))
  await serve(t, '127.0.0.2', port, status(500))
  await serve(t, '127.0.0.3', port, status(200))
  // 127.0.0.4 has nothing listening on that port: refused
  const r = await runHttpMonitor(['-p', String(port), '-t', '5', '127.0.0.4', '127.0.0.3', '127.0.0.2', '127.0.0.1'])
  t.equal(r.exitCode, 1)
  const lines = r.output.split('\n')
  t.equal(lines[0], '127.0.0.2 127.0.0.4', 'failing hosts, sorted, space-separated')
  t.match(r.output, 'HOST 127.0.0.4: connection failed: ECONNREFUSED\n\n')
  t.match(r.output, 'HOST 127.0.0.1: ok\n')
  t.ok(r.output.indexOf('HOST 127.0.0.2:') < r.output.indexOf('HOST 127.0.0.1: ok'), 'failures are listed before healthy hosts')
  const quiet = await runHttpMonitor(['-o', '-p', String(port), '127.0.0.3', '127.0.0.2'])
  t.notMatch(quiet.output, 'HOST 127.0.0.3', '-o: no block for healthy hosts')
  t.match(quiet.output, 'HOST 127.0.0.2')
})

t.test('-m: the regex over headers and body decides, not the status', async (t) => {
  const port = await serve(t, '127.0.0.1', 0, (_req, res) => {
    res.writeHead(500)
    res.end('<html>It works</html>')
  })
  t.equal((await runHttpMonitor(['-p', String(port), '-m', 'It works', '127.0.0.1'])).exitCode, 0)
  const miss = await runHttpMonitor(['-p', String(port), '-m', 'Welcome', '127.0.0.1'])
  t.equal(miss.exitCode, 1)
  t.match(miss.output, 'HOST 127.0.0.1: no match for "Welcome"')
})

t.test('a server that accepts and never answers is bounded by -t', async (t) => {
  const port = await serve(t, '127.0.0.1', 0, () => {
    // never respond
  })
  const began = performance.now()
  const r = await runHttpMonitor(['-p', String(port), '-t', '1', '127.0.0.1'])
  const tookMs = performance.now() - began
  t.equal(r.exitCode, 1)
  t.equal(r.output.split('\n')[0], '127.0.0.1')
  t.match(r.output, 'HOST 127.0.0.1: timeout after 1 seconds')
  t.ok(tookMs < 10_000, `returned after the timeout, not hanging (took ${Math.round(tookMs)} ms)`)
})

t.test('an abort (the scheduler’s kill) ends a hanging check', async (t) => {
  const port = await serve(t, '127.0.0.1', 0, () => undefined)
  const ac = new AbortController()
  const p = runHttpMonitor(['-p', String(port), '-t', '600', '127.0.0.1'], ac.signal)
  ac.abort()
  const r = await p
  t.equal(r.exitCode, 1)
  t.match(r.output, 'HOST 127.0.0.1: check aborted')
})

t.test('no hosts: exit 0, no output; option errors', async (t) => {
  t.same(await runHttpMonitor(['-p', '80']), { exitCode: 0, output: '' })
  const bad = await runHttpMonitor(['-p', 'nonsense', '10.0.0.1'])
  t.equal(bad.exitCode, 1)
  t.equal(bad.output, '10.0.0.1\nhttp.monitor: -p: bad port "nonsense"\n', 'a bad option fails the hosts with a reason')
  const p = parseHttpMonitorArgs(['-z', '-t', '2', 'h1', 'h2'])
  t.ok(p.ok)
  if (p.ok) {
    t.same(p.options.hosts, ['h1', 'h2'])
    t.equal(p.options.timeoutSec, 2)
    t.same(p.options.notes, ['unknown option "-z" ignored'])
  }
  const d = parseHttpMonitorArgs(['h1'])
  t.same(d.ok && [d.options.port, d.options.timeoutSec, d.options.url], [80, 30, '/'], 'defaults: port 80, 30 s, /')
})
