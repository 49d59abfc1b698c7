// hb_generation, hb_uuid, hostcache and nodeinfo as heartbeat 3.0.6 keeps them.

import t, { type Test } from 'tap'
import { mkdtemp, readFile, writeFile, rm, readdir } from 'node:fs/promises'
import { tmpdir, hostname } from 'node:os'
import { join } from 'node:path'
import {
  formatGeneration,
  formatUuid,
  loadOrCreateUuid,
  nextGeneration,
  parseGeneration,
  readHostcache,
  readNodeInfo,
  resolveNodeName,
  writeStateFile,
} from '../../lib/io/state-files.js'

async function tempDir(t: Test): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'hbts-state-'))
  t.teardown(() => rm(d, { recursive: true, force: true }))
  return d
}

t.test('hb_generation format', async (t) => {
  t.equal(formatGeneration(1795627040), '     1795627040\n', 'right-aligned in 15 columns, 16 bytes')
  t.equal(formatGeneration(7).length, 16)
  t.equal(parseGeneration('     1795627040\n'), 1795627040)
  t.equal(parseGeneration('42'), 42, 'no padding is fine')
  t.equal(parseGeneration('  -3\n'), undefined, 'negative is not a generation')
  t.equal(parseGeneration('abc'), undefined)
  t.equal(parseGeneration(''), undefined)
})

t.test('nextGeneration: missing file starts from the clock, then +1 per start', async (t) => {
  const d = await tempDir(t)
  const first = await nextGeneration(d, 1795627039.6)
  t.same(first, { generation: 1795627040, previous: undefined }, 'time(2)+1, as 3.0.6 logs "No Previous generation - starting at N"')
  t.equal(await readFile(join(d, 'hb_generation'), 'latin1'), '     1795627040\n', 'written in heartbeat format')
  const second = await nextGeneration(d, 1)
  t.same(second, { generation: 1795627041, previous: 1795627040 }, 'incremented, never from the clock again')
  t.same((await readdir(d)).sort(), ['hb_generation'], 'no temp file left behind')
  await writeFile(join(d, 'hb_generation'), 'garbage')
  const third = await nextGeneration(d, 500)
  t.equal(third.generation, 501, 'unreadable file: from the clock again')
  const time = await nextGeneration(d, 900, 'time')
  t.same(time, { generation: 900, previous: undefined }, 'hbgenmethod time: the clock, file untouched')
  t.equal(await readFile(join(d, 'hb_generation'), 'latin1'), formatGeneration(501))
})

t.test('hb_uuid: 16 raw bytes, reused', async (t) => {
  const d = await tempDir(t)
  const a = await loadOrCreateUuid(d)
  t.equal(a.created, true)
  t.equal(a.uuid.length, 16)
  t.same(await readFile(join(d, 'hb_uuid')), a.uuid, 'raw bytes on disk')
  const b = await loadOrCreateUuid(d)
  t.same(b, { uuid: a.uuid, created: false }, 'the existing file is reused')
  await writeFile(join(d, 'hb_uuid'), Buffer.from('short'))
  const c = await loadOrCreateUuid(d)
  t.equal(c.created, true, 'a malformed file is replaced')
  t.not(c.uuid.toString('hex'), a.uuid.toString('hex'))
  t.equal(formatUuid(Buffer.from('5f3c3a8e2b1c4d2e9a0b1c2d3e4f5061', 'hex')), '5f3c3a8e-2b1c-4d2e-9a0b-1c2d3e4f5061')
})

t.test('node name: the name given (HBTS_NODE_NAME at the edge), then nodeinfo, then uname -n, lowercased', async (t) => {
  const d = await tempDir(t)
  t.equal(await readNodeInfo(d), undefined)
  t.equal(await resolveNodeName({ haDir: d }), hostname().toLowerCase())
  await writeFile(join(d, 'nodeinfo'), 'Titanic5.ETRI.re.kr\nsecond line\n')
  t.equal(await readNodeInfo(d), 'Titanic5.ETRI.re.kr', 'first line only')
  t.equal(await resolveNodeName({ haDir: d }), 'titanic5.etri.re.kr')
  t.equal(await resolveNodeName({ haDir: d, explicit: ' Alice ' }), 'alice', 'a given name wins, trimmed and lowercased')
  t.equal(await resolveNodeName({ haDir: d, explicit: '  ' }), 'titanic5.etri.re.kr', 'a blank one counts as none')
})

t.test('the state-file module reads no environment: HBTS_NODE_NAME is read once, at the edge', async (t) => {
  const saved = process.env.HBTS_NODE_NAME
  process.env.HBTS_NODE_NAME = 'from-the-environment'
  t.teardown(() => {
    if (saved === undefined) delete process.env.HBTS_NODE_NAME
    else process.env.HBTS_NODE_NAME = saved
  })
  const d = await tempDir(t)
  t.equal(await resolveNodeName({ haDir: d }), hostname().toLowerCase(), 'without a given name: uname -n, not the variable')
})

t.test('hostcache: written where the core asks, read back by the next life; missing or foreign lines are no error', async (t) => {
  const d = await tempDir(t)
  t.same([...(await readHostcache(d))], [], 'no file: nothing known')
  const dir = join(d, 'state')
  await writeStateFile(dir, 'hostcache', 'titanic5\t5f3c3a8e-2b1c-4d2e-9a0b-1c2d3e4f5061\t100\t\nTitanic6\t0c1d2e3f-4051-6273-8495-a6b7c8d9eafb\t100\t\ngarbage line\nalpha\tnot-a-uuid\t100\t\n')
  t.equal((await readdir(dir)).join(), 'hostcache', 'the state directory is made, and no temporary file is left')
  const known = await readHostcache(dir)
  t.same(
    [...known].map(([name, uuid]) => [name, uuid.toString('hex')]),
    [
      ['titanic5', '5f3c3a8e2b1c4d2e9a0b1c2d3e4f5061'],
      ['titanic6', '0c1d2e3f405162738495a6b7c8d9eafb'],
    ],
    'names lowercased, uuids as bytes; lines that are not name<TAB>uuid are skipped',
  )
})
