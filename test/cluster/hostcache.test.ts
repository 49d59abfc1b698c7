// heartbeat's host cache format (hb_uuid.c): name, uuid_unparse text, weight, site, tab-separated.
import t from 'tap'
import { formatHostcache, formatUuid, parseHostcache, parseUuid } from '../../lib/cluster/hostcache.js'
import { statusMessage } from '../../lib/cluster/protocol-messages.js'
import { setString } from '../../lib/wire/message.js'
import { logLines, lone } from './lone-core.js'

const U5 = Buffer.from('5f3c3a8e2b1c4d2e9a0b1c2d3e4f5061', 'hex')
const U6 = Buffer.from('0c1d2e3f405162738495a6b7c8d9eafb', 'hex')

t.test('one line per node: name, uuid as uuid_unparse writes it, the default weight 100, an empty site', async (t) => {
  t.equal(
    formatHostcache([
      { name: 'titanic5.etri.re.kr', uuid: U5 },
      { name: 'titanic6.etri.re.kr', uuid: U6 },
    ]),
    'titanic5.etri.re.kr\t5f3c3a8e-2b1c-4d2e-9a0b-1c2d3e4f5061\t100\t\ntitanic6.etri.re.kr\t0c1d2e3f-4051-6273-8495-a6b7c8d9eafb\t100\t\n',
  )
  t.equal(formatHostcache([]), '', 'no uuid known: an empty file')
})

t.test('read back: what we write, and what 3.0.6 wrote with a weight and site of its own', async (t) => {
  const back = parseHostcache(formatHostcache([{ name: 'titanic5', uuid: U5 }]) + 'TITANIC6\t0C1D2E3F-4051-6273-8495-A6B7C8D9EAFB\t250\tdc2\n')
  t.same([...back].map(([n, u]) => `${n} ${u.toString('hex')}`), ['titanic5 5f3c3a8e2b1c4d2e9a0b1c2d3e4f5061', 'titanic6 0c1d2e3f405162738495a6b7c8d9eafb'])
  t.same([...parseHostcache('\n\tx\nname-only\nbeta\t1234\t100\t\n')], [], 'blank, nameless, uuid-less and short-uuid lines are skipped')
  t.equal(parseUuid(formatUuid(U6))?.toString('hex'), U6.toString('hex'))
  t.equal(parseUuid('5f3c3a8e2b1c4d2e9a0b1c2d3e4f5061'), undefined, 'without dashes it is not uuid_unparse text')
})

t.test('what the host cache kept identifies a peer from its first packet, even one whose src is in capitals', async (t) => {
  for (const cached of [false, true]) {
    const knownUuids = parseHostcache(formatHostcache([{ name: 'beta', uuid: Buffer.alloc(16, 2) }]))
    const { core, env, fromBeta } = lone(cached ? { knownUuids } : {})
    core.start(0, env)
    const out = core.receive(setString(fromBeta(statusMessage('active', 5000, true)), 'src', 'BETA'), 'eth0', 10, env)
    const beta = core.snapshot().nodes.find((n) => n.name === 'beta')
    if (cached) {
      t.equal(beta?.status, 'active', 'with the cache: the status counts for beta (found by its srcuuid)')
      t.same(logLines(out).filter((l) => l.includes('bad node')), [], 'and nothing is complained about')
    } else {
      t.equal(beta?.status, 'init', 'without it: an unknown name, the status is not taken')
      t.match(logLines(out).join('\n'), /bad node \[BETA\]/, 'and it is complained about')
    }
  }
})
