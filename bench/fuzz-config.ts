// Fuzzing the config readers: random and mutated-from-seed text; any exception escaping a reader is a failure.

import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseAuthkeys } from '../lib/config/authkeys.js'
import { parseDuration } from '../lib/config/duration.js'
import { checkLocalNode, parseHaCf, HA_CF_DIRECTIVES } from '../lib/config/ha-cf.js'
import { parseHaresources } from '../lib/config/haresources.js'
import { parseIpaddrSpec } from '../lib/config/ipaddr-spec.js'
import { parseMonCf } from '../lib/config/mon-cf.js'
import { seededRandom } from '../test/support/seeded-random.js'

export interface FuzzResult {
  cases: number
  failures: string[]
}

const prng = seededRandom

type Kind = 'ha.cf' | 'authkeys' | 'haresources' | 'mon.cf'

/** The repository root, from bench/ (run by tap) or dist/bench/ (compiled). */
function repoRoot(): string | undefined {
  let dir = dirname(fileURLToPath(import.meta.url))
  for (let i = 0; i < 4; i++) {
    if (existsSync(join(dir, 'ha.d-example'))) return dir
    dir = dirname(dir)
  }
  return undefined
}

/** Seed corpus: the example files and the captured scenarios' configs, plus a few built-in texts. */
function corpus(): Record<Kind, string[]> {
  const out: Record<Kind, string[]> = {
    'ha.cf': ['keepalive 2\ndeadtime 30\nbcast eth0\nmcast eth1 225.0.0.1 694 1 0\nucast eth0 10.0.0.2\nnode a b\nauto_failback on\n'],
    authkeys: ['auth 1\n1 sha1 key\n2 md5 other\n3 crc\n'],
    haresources: ['a 10.0.0.5/24/eth0/10.0.0.255 Filesystem::/dev/sda1::/data::ext3 \\\n httpd\n'],
    'mon.cf': ['hostgroup web 10.0.0.1 10.0.0.2\n\nwatch web\n    service http\n        interval 5s\n        monitor http.monitor\n        period wd {Mon-Fri}\n            alert mail.alert root\n'],
  }
  const root = repoRoot()
  if (root === undefined) return out
  const add = (kind: Kind, path: string): void => {
    if (existsSync(path)) out[kind].push(readFileSync(path, 'utf8'))
  }
  for (const view of ['titanic5', 'titanic6', 'modern']) {
    add('ha.cf', join(root, 'ha.d-example', view, 'ha.d', 'ha.cf'))
    add('authkeys', join(root, 'ha.d-example', view, 'ha.d', 'authkeys'))
    add('haresources', join(root, 'ha.d-example', view, 'ha.d', 'haresources'))
    add('mon.cf', join(root, 'ha.d-example', view, 'mon', 'mon.cf'))
  }
  const vectors = join(root, 'test', 'fixtures', 'vectors')
  if (existsSync(vectors)) {
    for (const scenario of readdirSync(vectors)) {
      add('ha.cf', join(vectors, scenario, 'config', 'ha.cf'))
      add('authkeys', join(vectors, scenario, 'config', 'authkeys'))
      add('haresources', join(vectors, scenario, 'config', 'haresources'))
    }
  }
  return out
}

const TOKENS = [
  ...HA_CF_DIRECTIVES, 'udp', 'auth', 'crc', 'md5', 'sha1', 'IPaddr::', '::', '\\\n', '\\', '#', ',', ' ', '\t', '\n',
  '\r\n', '\0', '0', '1', '2s', '500ms', '100us', '1.5', '.', '-1', '99999999999999999999', '10.0.0.5/24/eth0/10.0.0.255',
  '255.255.255.0', '224.0.0.1', 'eth0', 'watch', 'service', 'hostgroup', 'interval', 'monitor', 'period', 'alert',
  'upalert', 'alertevery', 'alertafter', '{', '}', 'wd {Sun-Sat}', 'hr {9am-5pm}', '\u2013R', '=', '"', "'", '$', '`',
  'é', '\u{1F600}', '\uFFFD', ' '.repeat(40), 'x'.repeat(6000),
]

function pick<T>(rnd: () => number, items: readonly T[]): T {
  return items[Math.floor(rnd() * items.length)] as T
}

function randomText(rnd: () => number): string {
  const n = Math.floor(rnd() * 60)
  let s = ''
  for (let i = 0; i < n; i++) {
    const r = rnd()
    if (r < 0.5) s += pick(rnd, TOKENS)
    else if (r < 0.8) s += String.fromCharCode(32 + Math.floor(rnd() * 95))
    else if (r < 0.9) s += String.fromCharCode(Math.floor(rnd() * 32))
    else s += String.fromCodePoint(Math.floor(rnd() * 0x2fff))
  }
  return s
}

function mutate(rnd: () => number, text: string): string {
  let s = text
  const rounds = 1 + Math.floor(rnd() * 4)
  for (let i = 0; i < rounds; i++) {
    const at = Math.floor(rnd() * (s.length + 1))
    const op = Math.floor(rnd() * 8)
    if (op === 0) s = s.slice(0, at) + s.slice(at + 1 + Math.floor(rnd() * 20))
    else if (op === 1) s = s.slice(0, at) + pick(rnd, TOKENS) + s.slice(at)
    else if (op === 2) s = s.slice(0, at) + String.fromCharCode(Math.floor(rnd() * 256)) + s.slice(at + 1)
    else if (op === 3) s = s.slice(0, at)
    else if (op === 4) {
      const lines = s.split('\n')
      const a = Math.floor(rnd() * lines.length)
      lines.splice(Math.floor(rnd() * lines.length), 0, lines[a] ?? '')
      s = lines.join('\n')
    } else if (op === 5) {
      const lines = s.split('\n')
      const a = Math.floor(rnd() * lines.length)
      const b = Math.floor(rnd() * lines.length)
      const tmp = lines[a] ?? ''
      lines[a] = lines[b] ?? ''
      lines[b] = tmp
      s = lines.join('\n')
    } else if (op === 6) s = s.slice(0, at) + randomText(rnd) + s.slice(at)
    else s = s.replace(/[ \t]+/, pick(rnd, [',', '\t', '  ', '', '\u00a0', '::', '/']))
  }
  return s
}

/** Run `count` cases from `seed`: each case is one input given to every reader. */
export function fuzzReaders(count: number, seed: number): FuzzResult {
  const rnd = prng(seed)
  const seeds = corpus()
  const kinds: Kind[] = ['ha.cf', 'authkeys', 'haresources', 'mon.cf']
  const failures: string[] = []
  let cases = 0
  for (let i = 0; i < count; i++) {
    const kind = kinds[i % kinds.length] ?? 'ha.cf'
    const text = rnd() < 0.25 ? randomText(rnd) : mutate(rnd, pick(rnd, seeds[kind]))
    const mode = Math.floor(rnd() * 0o10000)
    const attempt = (reader: string, fn: () => unknown): void => {
      try {
        fn()
      } catch (e) {
        const what = e instanceof Error ? `${e.name}: ${e.message}` : String(e)
        failures.push(`case ${i} (seed ${seed}) ${reader} threw ${what} on ${JSON.stringify(text.slice(0, 300))}`)
      }
    }
    cases++
    attempt('parseHaCf', () => {
      const r = parseHaCf(text, '/etc/ha.d/ha.cf')
      checkLocalNode(r.config, '/etc/ha.d/ha.cf', text.split('\n')[0] ?? '')
      parseHaresources(text, '/etc/ha.d/haresources', r.config.nodes)
    })
    attempt('parseAuthkeys', () => parseAuthkeys(text, '/etc/ha.d/authkeys', mode))
    attempt('parseHaresources', () => parseHaresources(text, '/etc/ha.d/haresources', ['a', 'titanic5.etri.re.kr', text.slice(0, 10)]))
    attempt('parseMonCf', () => parseMonCf(text, '/etc/mon/mon.cf'))
    const word = text.slice(0, 1 + Math.floor(rnd() * 30))
    attempt('parseDuration', () => parseDuration(word))
    attempt('parseIpaddrSpec', () => parseIpaddrSpec(word))
  }
  return { cases, failures }
}
