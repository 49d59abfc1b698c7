// Plays the other node of a real 3.0.6's ha.cf in classic (`>>>`) format and asks, variant by variant,
// whether 3.0.6 acts on a malformed datagram. Run as `node dist/test/netns/classic-prober.js '<json>'`
// inside a kit host (see ProberConfig); prints `ready`, one `result <json>` line per variant, `done`.
//
// The oracle: a `probe` message has no handler of its own in 3.0.6, so once communication is up it runs
// rc.d/probe with HA_<field> set for every string field; that script records its environment. Each
// variant goes out with sequence number N, immediately followed by a well-formed sentinel with the
// same N: if 3.0.6 took the variant, the sentinel is a duplicate and dropped; if not, the sentinel is
// taken. Exactly one record appears either way, so no verdict waits on a timeout, and the sequence
// numbers the real node tracks never get a gap (no retransmission requests).

import { createSocket } from 'node:dgram'
import { readFileSync, readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import type { AuthMethod } from '../../lib/wire/auth-keys.js'
import { PROBE_TYPE, VARIANTS, headLines, authLine, sentinel, statusDatagram, type ProbeSender } from '../interop/classic-variants.js'

export interface ProberConfig {
  /** Where the real node listens (the segment's broadcast address works for `udp eth0`). */
  target: string
  port: number
  src: string
  hg: number
  ts: number
  auth: { index: number; method: AuthMethod; key: string }
  /** The real node's rc.d/probe record directory, as a path in this mount namespace. */
  recordDir: string
  /** The real node's ha-log, to quote what it said about each variant. */
  logFile: string
  keepaliveMs: number
  deadtimeMs: number
  /** How long to wait for the record of one variant (only a variant 3.0.6 took but did not act on runs into it). */
  verdictTimeoutMs: number
  warmupTimeoutMs: number
}

export interface ProbeResult {
  id: string
  /** 'acted': 3.0.6 ran rc.d/probe for the variant; 'dropped': it took the sentinel instead; 'silent': neither (taken, not acted on). */
  verdict: 'acted' | 'dropped' | 'silent'
  /** The HA_* environment of the record (the fields 3.0.6 parsed), when acted. */
  env: Record<string, string>
  /** Lines 3.0.6 logged while judging the variant (at most a few). */
  log: string[]
  /** The bytes sent, base64. */
  bytes: string
  signed: string
}

const cfg = JSON.parse(process.argv[2] ?? '{}') as ProberConfig
const sender: ProbeSender = { src: cfg.src, hg: cfg.hg, ts: cfg.ts, auth: { ...cfg.auth, key: Buffer.from(cfg.auth.key, 'latin1') } }
const sock = createSocket('udp4')
let seq = 1

function send(bytes: Buffer): void {
  sock.send(bytes, cfg.port, cfg.target)
}

const seen = new Set<string>()
/** New records (HA_* environments), oldest first. */
function newRecords(): Array<Record<string, string>> {
  let names: string[] = []
  try {
    names = readdirSync(cfg.recordDir).filter((n) => n.startsWith('rec.') && !seen.has(n))
  } catch {
    return []
  }
  const out: Array<{ at: number; env: Record<string, string> }> = []
  for (const n of names) {
    seen.add(n)
    const file = join(cfg.recordDir, n)
    const env: Record<string, string> = {}
    for (const kv of readFileSync(file, 'latin1').split('\0')) {
      const i = kv.indexOf('=')
      if (i > 0 && kv.startsWith('HA_')) env[kv.slice(0, i)] = kv.slice(i + 1)
    }
    out.push({ at: statSync(file).mtimeMs, env })
  }
  return out.sort((a, b) => a.at - b.at).map((r) => r.env)
}

let logOffset = 0
function newLogLines(): string[] {
  let text = ''
  try {
    const all = readFileSync(cfg.logFile)
    text = all.subarray(logOffset).toString('latin1')
    logOffset = all.length
  } catch {
    return []
  }
  return text.split('\n').filter((l) => l.length > 0)
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

async function waitRecord(match: (env: Record<string, string>) => boolean, timeoutMs: number): Promise<Record<string, string> | undefined> {
  const until = Date.now() + timeoutMs
  while (Date.now() < until) {
    const hit = newRecords().find(match)
    if (hit) return hit
    await sleep(25)
  }
  return undefined
}

async function main(): Promise<void> {
  await new Promise<void>((r) => sock.bind(0, r))
  sock.setBroadcast(true)
  const beat = setInterval(() => send(statusDatagram(sender, seq++, cfg.deadtimeMs)), cfg.keepaliveMs)
  send(statusDatagram(sender, seq++, cfg.deadtimeMs))

  // Until communication is up, 3.0.6 takes a probe message but does not act on it: repeat well-formed
  // ones until one is acted on.
  const until = Date.now() + cfg.warmupTimeoutMs
  let warm = false
  while (!warm && Date.now() < until) {
    const head = headLines(sender, seq++, 'warmup')
    send(Buffer.from(`>>>\n${head}${authLine(sender, head)}\n<<<\n\0`, 'latin1'))
    warm = (await waitRecord((e) => e.HA_probe === 'warmup', 700)) !== undefined
  }
  if (!warm) {
    process.stdout.write(`warmup failed: no ${PROBE_TYPE} record in ${cfg.warmupTimeoutMs} ms; log: ${newLogLines().slice(-10).join(' | ')}\n`)
    clearInterval(beat)
    sock.close()
    return
  }
  process.stdout.write('ready\n')
  newLogLines()

  for (const v of VARIANTS) {
    const n = seq++
    const built = v.build(sender, n)
    // Same tick, same socket: the sentinel leaves after the variant.
    send(built.bytes)
    send(sentinel(sender, n, v.id))
    const rec = await waitRecord((e) => e.HA_probe === v.id || e.HA_probe === `${v.id}.sentinel`, cfg.verdictTimeoutMs)
    const verdict: ProbeResult['verdict'] = rec === undefined ? 'silent' : rec.HA_probe === v.id ? 'acted' : 'dropped'
    // Give the log a moment to catch up with the datagram it judged.
    await sleep(50)
    const result: ProbeResult = {
      id: v.id,
      verdict,
      env: verdict === 'acted' && rec ? rec : {},
      log: newLogLines()
        .filter((l) => !/harc\(|rc\.d\/+probe/.test(l))
        .slice(0, 6),
      bytes: built.bytes.toString('base64'),
      signed: built.signed,
    }
    process.stdout.write(`result ${JSON.stringify(result)}\n`)
  }
  clearInterval(beat)
  sock.close()
  process.stdout.write('done\n')
}

main().catch((e: unknown) => {
  process.stdout.write(`prober failed: ${e instanceof Error ? e.stack : String(e)}\n`)
  process.exit(1)
})
