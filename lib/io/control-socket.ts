// The control socket: a unix socket under runDir, root only, carrying JSON-line requests (lib/control/protocol.ts).
//
// Root only: Node cannot read SO_PEERCRED, so the kernel's permission check does the work.
// Connecting to a unix socket needs write permission on the socket file, so the socket
// is chmod 0600 (owned by the daemon's user, root) inside a directory we create 0700.
// The client checks the other way round: it talks only to a socket owned by root (or itself) in a
// directory no one else can write, so no other account can delete the socket and answer in its place.

import { createServer, connect } from 'node:net'
import type { Server, Socket } from 'node:net'
import { chmod, lstat, unlink } from 'node:fs/promises'
import { dirname } from 'node:path'
import { checkDir, effectiveUid, ensureDir } from './safe-files.js'
import { encodeLine, parseControlRequest, parseControlResponse, MAX_REQUEST_BYTES } from '../control/protocol.js'
import type { ControlRequest, ControlResponse } from '../control/protocol.js'

export type ControlHandler = (req: ControlRequest) => Promise<ControlResponse>

export interface ControlServer {
  path: string
  close(): Promise<void>
}

function tryConnect(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(path)
    s.once('connect', () => {
      s.destroy()
      resolve(true)
    })
    s.once('error', () => resolve(false))
  })
}

function serve(sock: Socket, handler: ControlHandler): void {
  let buf = ''
  let chain = Promise.resolve()
  sock.setEncoding('utf8')
  sock.on('error', () => sock.destroy())
  sock.on('data', (chunk: string) => {
    buf += chunk
    if (buf.length > MAX_REQUEST_BYTES && !buf.includes('\n')) {
      sock.end(encodeLine({ ok: false, code: 'bad-request', error: `request longer than ${MAX_REQUEST_BYTES} bytes` }))
      sock.destroy()
      return
    }
    let nl: number
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl)
      buf = buf.slice(nl + 1)
      if (line.trim() === '') continue
      // Answers go out in request order.
      chain = chain.then(async () => {
        const parsed = parseControlRequest(line)
        let resp: ControlResponse
        if (!parsed.ok) resp = { ok: false, code: 'bad-request', error: parsed.error }
        else {
          try {
            resp = await handler(parsed.value)
          } catch (err) {
            resp = { ok: false, code: 'internal', error: err instanceof Error ? err.message : String(err) }
          }
        }
        if (!sock.destroyed) sock.write(encodeLine(resp))
      })
    }
  })
}

/**
 * Listen on `path`: creates the directory (0700) if missing and refuses one another account can change, replaces a stale socket file
 * (one nobody answers on), refuses if another daemon answers there, chmods the socket 0600.
 */
export async function startControlServer(path: string, handler: ControlHandler): Promise<ControlServer> {
  await ensureDir(dirname(path), { private: true })
  if (await tryConnect(path)) throw new Error(`control socket ${path} is in use: is another heartbeat running?`)
  await unlink(path).catch(() => undefined)
  const server: Server = createServer((sock) => serve(sock, handler))
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(path, () => {
      server.off('error', reject)
      resolve()
    })
  })
  await chmod(path, 0o600)
  return {
    path,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve())
        // Open hbctl --watch connections must not hold the daemon's exit.
        server.unref()
      }).then(() => unlink(path).catch(() => undefined)),
  }
}

/**
 * Why the client must not talk to `path`: not a socket, owned by another account, or in a directory
 * another account can change (it could have replaced the daemon's socket with its own). undefined = fine,
 * including "no such file" (connecting then reports not-running).
 */
export async function whyUntrustedSocket(path: string): Promise<string | undefined> {
  try {
    await checkDir(dirname(path))
    const st = await lstat(path)
    if (!st.isSocket()) return `${path} is not a socket`
    if (st.uid !== 0 && st.uid !== effectiveUid()) return `${path} is owned by uid ${st.uid}, not root: refusing to talk to it`
    return undefined
  } catch (err) {
    const e = err as NodeJS.ErrnoException
    // Missing: connecting says "not running". Not ours to look at (a user, not root): connecting says "root only".
    if (e.code === 'ENOENT' || e.code === 'EACCES') return undefined
    return `refusing ${path}: ${e.message}`
  }
}

/** Client: one request, one response. Failures come back as ok:false values with a client-side code, never thrown. */
export async function controlRequest(path: string, req: ControlRequest, timeoutMs = 5000): Promise<ControlResponse> {
  const untrusted = await whyUntrustedSocket(path)
  if (untrusted !== undefined) return { ok: false, code: 'permission', error: untrusted }
  return new Promise((resolve) => {
    let settled = false
    let buf = ''
    const finish = (r: ControlResponse) => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      sock.destroy()
      resolve(r)
    }
    const sock = connect(path)
    const timer = setTimeout(
      () => finish({ ok: false, code: 'timeout', error: `no answer on ${path} within ${timeoutMs} ms` }),
      timeoutMs,
    )
    sock.setEncoding('utf8')
    sock.once('connect', () => sock.write(encodeLine(req)))
    sock.on('data', (chunk: string) => {
      buf += chunk
      const nl = buf.indexOf('\n')
      if (nl < 0) return
      const parsed = parseControlResponse(buf.slice(0, nl))
      finish(parsed.ok ? parsed.value : { ok: false, code: 'protocol', error: parsed.error })
    })
    sock.on('end', () => finish({ ok: false, code: 'protocol', error: `${path} closed without an answer` }))
    sock.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT' || err.code === 'ECONNREFUSED') {
        finish({ ok: false, code: 'not-running', error: `heartbeat is not running (no one listens on ${path})` })
      } else if (err.code === 'EACCES' || err.code === 'EPERM') {
        finish({ ok: false, code: 'permission', error: `${path}: permission denied (the control socket is root only)` })
      } else {
        finish({ ok: false, code: 'protocol', error: `${path}: ${err.message}` })
      }
    })
  })
}
