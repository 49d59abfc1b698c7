// Test kit: the captured 3.0.6 vectors under test/fixtures/vectors, with each scenario's keys.
import { readFileSync, readdirSync, existsSync } from 'node:fs'
import { join } from 'node:path'
import type { AuthKeys, AuthMethod } from '../../lib/wire/auth-keys.js'

export const VECTORS_DIR = new URL('../fixtures/vectors/', import.meta.url).pathname

export interface VectorPacket {
  scenario: string
  file: string
  bytes: Buffer
  /** [name, 'string' | 'binary', value (hex for binary)] in wire order. */
  fields: Array<[string, string, string]>
  trailerAuth: string
}

/** A deliberately tiny authkeys(5) reader for tests (the real one lives in lib/config). */
export function authkeysOf(text: string): AuthKeys {
  let active = -1
  const keys = new Map<number, { method: AuthMethod; key: Buffer }>()
  for (const raw of text.split('\n')) {
    const line = raw.replace(/#.*/, '').trim()
    if (!line) continue
    const words = line.split(/\s+/)
    if (words[0] === 'auth') active = Number(words[1])
    else keys.set(Number(words[0]), { method: words[1] as AuthMethod, key: Buffer.from(words[2] ?? '', 'latin1') })
  }
  return { active, keys }
}

export function scenarios(): string[] {
  return readdirSync(VECTORS_DIR)
    .filter((d) => existsSync(join(VECTORS_DIR, d, 'packets.json')))
    .sort()
}

export function scenarioKeys(scenario: string): AuthKeys {
  return authkeysOf(readFileSync(join(VECTORS_DIR, scenario, 'config', 'authkeys'), 'latin1'))
}

export function scenarioPackets(scenario: string): VectorPacket[] {
  const list = JSON.parse(readFileSync(join(VECTORS_DIR, scenario, 'packets.json'), 'utf8')) as Array<{
    file: string
    fields: Array<[string, string, string]>
    trailer_auth: string
  }>
  return list.map((p) => ({
    scenario,
    file: p.file,
    bytes: readFileSync(join(VECTORS_DIR, scenario, p.file)),
    fields: p.fields,
    trailerAuth: p.trailer_auth,
  }))
}

export function binFiles(scenario: string): string[] {
  return readdirSync(join(VECTORS_DIR, scenario, 'packets')).filter((f) => f.endsWith('.bin'))
}
