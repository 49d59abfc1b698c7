// Codec speed on one core: sign + encode and decode + verify of a status packet, per auth method.
// Each figure is the median of several rounds, in messages per CPU second of this process (the
// machine may be shared, so wall time would bill other processes' load to the codec). Printed, not asserted.
import { decodePacket, encodePacket } from '../lib/wire/packet.js'
import { sampleStatus } from './sample-status.js'
import type { AuthKeys, AuthMethod } from '../lib/wire/auth-keys.js'

const status = sampleStatus

const methods: Array<[AuthMethod, string]> = [
  ['sha1', 'HI!'],
  ['md5', 'Hello!'],
  ['crc', ''],
]

/**
 * This bench on main before issue 15's codec work (bc54127, 2026-12-02, a shared 2-core machine; the
 * median of five runs of five rounds): encode/s and verified decode/s, printed beside each new run.
 */
const BEFORE: Record<AuthMethod, { encode: number; decode: number }> = {
  sha1: { encode: 51_936, decode: 64_713 },
  md5: { encode: 56_163, decode: 61_690 },
  crc: { encode: 67_981, decode: 65_153 },
}

function cpuMs(): number {
  const u = process.cpuUsage()
  return (u.user + u.system) / 1000
}

/** Calls of `fn` per CPU second over one round of about `budgetMs` of CPU time. */
function round(fn: () => void, budgetMs: number): number {
  let calls = 0
  const start = cpuMs()
  let spentMs = 0
  while (spentMs < budgetMs) {
    for (let i = 0; i < 1000; i++) fn()
    calls += 1000
    spentMs = cpuMs() - start
  }
  return (calls * 1000) / spentMs
}

function median(xs: number[]): number {
  const s = xs.slice().sort((a, b) => a - b)
  const mid = s.length >> 1
  return s.length % 2 === 1 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2
}

/** Median rate of `rounds` rounds after a warm-up (JIT), in calls per CPU second. */
function rate(fn: () => void, rounds: number, budgetMs: number): number {
  for (let i = 0; i < 5000; i++) fn()
  const rates: number[] = []
  for (let r = 0; r < rounds; r++) rates.push(round(fn, budgetMs))
  return median(rates)
}

const fmt = (n: number, width: number): string => (n > 0 ? Math.round(n).toLocaleString('en-US') : '-').padStart(width)

export async function run(): Promise<void> {
  const budgetMs = Number(process.env.BENCH_MS ?? 400)
  const rounds = Number(process.env.BENCH_ROUNDS ?? 5)
  process.stdout.write(`status packet, one thread, median of ${rounds} rounds of ${budgetMs} ms CPU, messages per CPU second\n`)
  process.stdout.write('method  bytes  sign+encode/s  (before)  verified decode/s  (before)\n')
  for (const [method, key] of methods) {
    const keys: AuthKeys = { active: 1, keys: new Map([[1, { method, key: Buffer.from(key, 'latin1') }]]) }
    const packet = encodePacket(status, keys)
    const check = decodePacket(packet, keys)
    if (!check.ok) throw new Error(`bench packet does not verify: ${check.reason}`)
    const encodeRate = rate(() => {
      encodePacket(status, keys)
    }, rounds, budgetMs)
    const decodeRate = rate(() => {
      const r = decodePacket(packet, keys)
      if (!r.ok) throw new Error(r.reason)
    }, rounds, budgetMs)
    const before = BEFORE[method]
    process.stdout.write(
      `${method.padEnd(6)}  ${String(packet.length).padStart(5)}  ${fmt(encodeRate, 13)}  ${fmt(before.encode, 8)}  ${fmt(decodeRate, 17)}  ${fmt(before.decode, 8)}\n`,
    )
  }
}
