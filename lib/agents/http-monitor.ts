// Built-in http.monitor (mon 1.3's, on node:http): same options, accepted statuses and output contract.

import { request } from 'node:http'

export interface HttpMonitorOptions {
  port: number
  timeoutSec: number
  url: string
  agent: string
  /** -o: no details for healthy hosts. */
  omitOk: boolean
  /** -m: a regex that must match headers + body (then the status is not looked at). */
  match?: RegExp
  hosts: string[]
  /** Things the option parser ignored, reported after the details (Getopt::Std only warns too). */
  notes: string[]
}

export type ParseHttpArgs = { ok: true; options: HttpMonitorOptions } | { ok: false; message: string }

// http.monitor: these statuses mean "the server is up".
export const OK_STATUSES: readonly number[] = [200, 301, 302, 401]

const servicePorts: Record<string, number> = { http: 80, www: 80, 'http-alt': 8080, https: 443 }

/** `http.monitor [-p port] [-t secs] [-u url] [-a agent] [-o] [-m regex] host…` (Getopt::Std style: `-p80` or `-p 80`). */
export function parseHttpMonitorArgs(argv: readonly string[]): ParseHttpArgs {
  const o: HttpMonitorOptions = { port: 80, timeoutSec: 30, url: '/', agent: 'mon.d/http.monitor', omitOk: false, hosts: [], notes: [] }
  let i = 0
  for (; i < argv.length; i++) {
    const w = argv[i] as string
    if (w === '--') {
      i++
      break
    }
    if (!w.startsWith('-') || w === '-') break
    const flag = w.charAt(1)
    const takes = 'ptuam'.includes(flag)
    let value: string | undefined
    if (takes) {
      value = w.length > 2 ? w.slice(2) : argv[++i]
      if (value === undefined) return { ok: false, message: `option -${flag} needs a value` }
    }
    switch (flag) {
      case 'p': {
        const v = value as string
        const n = /^\d+$/.test(v) ? Number(v) : servicePorts[v]
        if (n === undefined || n < 1 || n > 65535) return { ok: false, message: `-p: bad port ${JSON.stringify(v)}` }
        o.port = n
        break
      }
      case 't': {
        const v = value as string
        if (!/^\d+(\.\d+)?$/.test(v) || Number(v) <= 0) return { ok: false, message: `-t: bad timeout ${JSON.stringify(v)}` }
        o.timeoutSec = Number(v)
        break
      }
      case 'u':
        o.url = value as string
        break
      case 'a':
        o.agent = value as string
        break
      case 'm':
        try {
          o.match = new RegExp(value as string)
        } catch (err) {
          return { ok: false, message: `-m: bad regex ${JSON.stringify(value)}: ${(err as Error).message}` }
        }
        break
      case 'o':
        o.omitOk = true
        if (w.length > 2) o.notes.push(`ignored ${JSON.stringify(w.slice(2))} after -o`)
        break
      default:
        o.notes.push(`unknown option ${JSON.stringify(w)} ignored`)
    }
  }
  o.hosts = argv.slice(i).filter((h) => h !== '')
  return { ok: true, options: o }
}

export interface HostResult {
  host: string
  ok: boolean
  /** `ok` or why not. */
  detail: string
  /** Status line and headers as received, when there was a response. */
  header: string
}

const BODY_LIMIT = 1 << 20

/** Check one host; never rejects. */
export function checkHost(host: string, o: HttpMonitorOptions, signal?: AbortSignal): Promise<HostResult> {
  return new Promise((resolve) => {
    let settled = false
    let header = ''
    let body = ''
    const done = (ok: boolean, detail: string): void => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      signal?.removeEventListener('abort', onAbort)
      req.destroy()
      resolve({ host, ok, detail, header })
    }
    const onAbort = (): void => done(false, 'check aborted')
    const req = request({
      host,
      port: o.port,
      path: o.url,
      method: 'GET',
      agent: false,
      // http.monitor sends Host exactly as given and reads until the server closes.
      headers: { Host: host, 'User-Agent': o.agent, Connection: 'close' },
      insecureHTTPParser: true,
    })
    // http.monitor: -t bounds connect + request + read for each host.
    const timer = setTimeout(() => done(false, `timeout after ${o.timeoutSec} seconds`), o.timeoutSec * 1000)
    signal?.addEventListener('abort', onAbort)
    if (signal?.aborted) onAbort()
    req.on('error', (err: NodeJS.ErrnoException) => done(false, `connection failed: ${err.code ?? err.message}`))
    req.on('response', (res) => {
      const lines = [`HTTP/${res.httpVersion} ${res.statusCode ?? ''} ${res.statusMessage ?? ''}`.trimEnd()]
      for (let k = 0; k + 1 < res.rawHeaders.length; k += 2) lines.push(`${res.rawHeaders[k]}: ${res.rawHeaders[k + 1]}`)
      header = lines.join('\n')
      const status = res.statusCode ?? 0
      if (o.match === undefined) {
        // The status decides; no need to wait for the body.
        done(OK_STATUSES.includes(status), OK_STATUSES.includes(status) ? 'ok' : `HTTP response code ${status} (accepted: ${OK_STATUSES.join(', ')})`)
        return
      }
      res.setEncoding('latin1')
      res.on('data', (chunk: string) => {
        if (body.length < BODY_LIMIT) body += chunk
      })
      res.on('end', () => {
        const matched = (o.match as RegExp).test(`${header}\n\n${body}`)
        done(matched, matched ? 'ok' : `no match for ${JSON.stringify((o.match as RegExp).source)}`)
      })
      res.on('error', (err) => done(false, `read failed: ${err.message}`))
    })
    req.end()
  })
}

export interface MonitorOutcome {
  exitCode: number
  output: string
}

/**
 * Run http.monitor with mon's argv (options then hosts). Output: line 1 = the failing hosts,
 * sorted, space-separated (empty when all are up); then `HOST h: why`, the header block and a
 * blank line for each failure, and the same for each healthy host unless -o. Exit 1 when any
 * host failed. Hosts are checked in parallel, so the whole run is bounded by one -t.
 */
export async function runHttpMonitor(argv: readonly string[], signal?: AbortSignal): Promise<MonitorOutcome> {
  const parsed = parseHttpMonitorArgs(argv)
  if (!parsed.ok) {
    // The hosts are the words that are neither options nor option values.
    const hosts = argv.filter((a, i) => !a.startsWith('-') && !/^-[ptuam]$/.test(argv[i - 1] ?? ''))
    return { exitCode: 1, output: `${hosts.join(' ')}\nhttp.monitor: ${parsed.message}\n` }
  }
  const o = parsed.options
  if (o.hosts.length === 0) return { exitCode: 0, output: '' }
  const results = await Promise.all(o.hosts.map((h) => checkHost(h, o, signal)))
  const failed = results.filter((r) => !r.ok)
  const good = results.filter((r) => r.ok)
  const block = (r: HostResult): string => `HOST ${r.host}: ${r.detail}\n${r.header === '' ? '' : `${r.header}\n`}\n`
  let out = `${failed.map((r) => r.host).sort().join(' ')}\n`
  for (const r of failed) out += block(r)
  if (!o.omitOk) for (const r of good) out += block(r)
  for (const n of o.notes) out += `http.monitor: ${n}\n`
  return { exitCode: failed.length > 0 ? 1 : 0, output: out }
}
