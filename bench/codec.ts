// Codec speed on one core: decode + verify and sign + encode of a status packet, per auth method. Printed, not asserted.
import { decodePacket, encodePacket } from '../lib/wire/packet.js'
import { sampleStatus } from './sample-status.js'
import type { AuthKeys, AuthMethod } from '../lib/wire/auth-keys.js'

const status = sampleStatus

const methods: Array<[AuthMethod, string]> = [
  ['sha1', 'HI!'],
  ['md5', 'Hello!'],
  ['crc', ''],
]

/** Runs `fn` in batches until `budgetMs` has passed; returns calls per second. */
function rate(fn: () => void, budgetMs: number): number {
  for (let i = 0; i < 200; i++) fn() // warm-up
  let calls = 0
  const start = process.hrtime.bigint()
  let elapsedMs = 0
  while (elapsedMs < budgetMs) {
    for (let i = 0; i < 500; i++) fn()
    calls += 500
    elapsedMs = Number(process.hrtime.bigint() - start) / 1e6
  }
  return (calls * 1000) / elapsedMs
}

export async function run(): Promise<void> {
  const budgetMs = Number(process.env.BENCH_MS ?? 1000)
  process.stdout.write(`status packet, ${budgetMs} ms per figure, one core (single thread)\n`)
  process.stdout.write('method  bytes  decode+verify msg/s  sign+encode msg/s\n')
  for (const [method, key] of methods) {
    const keys: AuthKeys = { active: 1, keys: new Map([[1, { method, key: Buffer.from(key, 'latin1') }]]) }
    const packet = encodePacket(status, keys)
    const check = decodePacket(packet, keys)
    if (!check.ok) throw new Error(`bench packet does not verify: ${check.reason}`)
    const decodeRate = rate(() => {
      decodePacket(packet, keys)
    }, budgetMs)
    const encodeRate = rate(() => {
      encodePacket(status, keys)
    }, budgetMs)
    process.stdout.write(
      `${method.padEnd(6)}  ${String(packet.length).padStart(5)}  ${Math.round(decodeRate).toLocaleString('en-US').padStart(19)}  ${Math.round(encodeRate).toLocaleString('en-US').padStart(17)}\n`,
    )
  }
}
