// authkeys keys are the file's bytes (a UTF-8 passphrase signs as 3.0.6 signs it), never echoed, cut where 3.0.6 cuts them.
import t from 'tap'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createHmac } from 'node:crypto'
import { parseAuthkeys } from '../../lib/config/authkeys.js'
import { formatDiagnostic } from '../../lib/config/diagnostics.js'
import { loadAuthkeys } from '../../lib/daemon/load-config.js'

const UTF8_KEY = 'pässwörd-ключ-鍵'
const P = '/etc/ha.d/authkeys'
const all = (ds: readonly { path: string; severity: 'error' | 'warning'; message: string; line?: number }[]): string => ds.map(formatDiagnostic).join('\n')

t.test('a UTF-8 key read from disk is its bytes: it signs as heartbeat 3.0.6 (HMAC over the raw key bytes) signs', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'hbts-authkeys-'))
  writeFileSync(join(dir, 'authkeys'), Buffer.from(`auth 1\n1 sha1 ${UTF8_KEY}\n`, 'utf8'), { mode: 0o600 })
  const loaded = await loadAuthkeys(dir)
  t.same(loaded.diagnostics, [])
  const key = loaded.keys?.keys.get(1)?.key
  t.ok(key !== undefined && Buffer.from(UTF8_KEY, 'utf8').equals(key), 'the key holds exactly the UTF-8 bytes of the file')
  // what 3.0.6's sha1 plugin computes: HMAC-SHA1 keyed with the bytes sscanf copied out of the line
  const expected = createHmac('sha1', Buffer.from(UTF8_KEY, 'utf8')).update('x').digest('hex')
  t.equal(createHmac('sha1', key ?? Buffer.alloc(0)).update('x').digest('hex'), expected)
})

t.test('any byte >= 0x80 is kept, valid UTF-8 or not', async (t) => {
  const bytes = Buffer.concat([Buffer.from('auth 2\n2 md5 k'), Buffer.from([0xff, 0xe9, 0x80]), Buffer.from('z\n')])
  const r = parseAuthkeys(bytes, P, 0o600)
  t.same(r.diagnostics, [])
  t.same([...(r.keys?.keys.get(2)?.key ?? [])], [0x6b, 0xff, 0xe9, 0x80, 0x7a])
  const dir = mkdtempSync(join(tmpdir(), 'hbts-authkeys-'))
  writeFileSync(join(dir, 'authkeys'), bytes, { mode: 0o600 })
  t.same([...((await loadAuthkeys(dir)).keys?.keys.get(2)?.key ?? [])], [0x6b, 0xff, 0xe9, 0x80, 0x7a], 'through load-config too')
})

t.test('a string is the text of a UTF-8 file', async (t) => {
  const r = parseAuthkeys(`auth 1\n1 sha1 ${UTF8_KEY}\n`, P, 0o600)
  t.ok(Buffer.from(UTF8_KEY, 'utf8').equals(r.keys?.keys.get(1)?.key ?? Buffer.alloc(0)))
})

t.test('key text is never echoed', async (t) => {
  for (const text of ['auth 1\n1 sha1SECRETkey\n', 'auth 1\n1 md5SECRETkey\n', 'auth 1\n1 SECRETkey\n', 'auth 1\n1 crcSECRETkey\n', 'auth 1\n1 sha1 SECRETkey\nSECRETkey\n', 'auth 1\n1 sha1 SECRETkey\n\x01SECRETkey 1\n']) {
    const r = parseAuthkeys(text, P, 0o600)
    t.notMatch(all(r.diagnostics), /SECRETkey|ECRETke/, JSON.stringify(text))
    t.ok(r.diagnostics.length > 0, 'the bad line is still reported')
  }
  const glued = parseAuthkeys('auth 1\n1 sha1SECRETkey\n', P, 0o600)
  t.match(all(glued.diagnostics), `${P}:2: key 1: the method and the key must be separated by a blank ("sha1" and the key run together)`)
})

t.test('an over-long line is read 5119 bytes at a time, as fgets in 3.0.6 reads it', async (t) => {
  const head = '1 sha1 '
  // the cut falls right before a '#': 3.0.6 reads the rest as a comment line and signs with the cut key
  const keep = 'k'.repeat(5119 - head.length)
  const cut = parseAuthkeys(`auth 1\n${head}${keep}#more-key-text\n`, P, 0o600)
  t.same(cut.keys?.keys.get(1)?.key.length, keep.length, 'the key is cut where 3.0.6 cuts it')
  t.same(all(cut.diagnostics), `${P}:2: warning: key 1: the line is ${head.length + keep.length + 14} bytes long; heartbeat 3.0.6 reads 5119 bytes at a time and keeps only the first ${keep.length} bytes of the key (heartbeat-ts does the same)`)
  // a plain long key: 3.0.6 reads its tail as a line of its own and refuses the file
  const long = parseAuthkeys(`auth 1\n${head}${'s'.repeat(6000)}\n`, P, 0o600)
  t.equal(long.keys, undefined, 'refused, as 3.0.6 refuses it')
  t.notMatch(all(long.diagnostics), /sss/, 'no key text')
  t.match(all(long.diagnostics), `${P}:2: the line is 6007 bytes long: heartbeat 3.0.6 reads the bytes after the first 5119 as a line of their own, which is not a key line (use a key of at most 5112 bytes)`)
  // up to 5119 bytes the line is read whole
  const fits = parseAuthkeys(`auth 1\n${head}${'f'.repeat(5119 - head.length)}\n`, P, 0o600)
  t.same(fits.diagnostics, [])
  t.equal(fits.keys?.keys.get(1)?.key.length, 5119 - head.length)
})

t.test('advice for hbctl check: crc authenticates nothing; listed keys other than the active one still verify', async (t) => {
  const crc = parseAuthkeys('auth 1\n1 crc\n', P, 0o600)
  t.same(crc.diagnostics, [])
  t.match(all(crc.advice), `${P}:2: warning: key 1: crc authenticates nothing: anyone on the network can send heartbeats that this node accepts; use sha1`)
  const listed = parseAuthkeys('auth 2\n1 sha1 old\n2 sha1 new\n3 md5 other\n', P, 0o600)
  t.same(all(listed.advice).split('\n'), [
    `${P}:2: warning: key 1 is listed but not active (auth 2): packets signed with it are still accepted; remove it once every node signs with key 2`,
    `${P}:4: warning: key 3 is listed but not active (auth 2): packets signed with it are still accepted; remove it once every node signs with key 2`,
  ])
  t.same(parseAuthkeys('auth 1\n1 sha1 k\n', P, 0o600).advice, [])
})
