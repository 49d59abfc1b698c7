// Issue 11, the mixed pair's soak: after a healed partition heartbeat-ts gave the VIP back to a 3.0.6
// titanic5 that kept it, but 3.0.6 never re-announces an address it already holds, so the client kept
// sending to titanic6 (its ARP entry from titanic6's takeover). The yielder now announces the address
// with the holder's MAC. In namespaces: a holder, a yielder with the VIP on lo:0, a client.
import t from 'tap'
import { randomBytes } from 'node:crypto'
import { fileURLToPath } from 'node:url'
import { join } from 'node:path'
import { execa } from 'execa'
import { holderMacOf } from '../../lib/agents/holder-announce.js'
import { removeNamespace } from '../netns/kit.js'

const repo = fileURLToPath(new URL('../../', import.meta.url))
const VIP = '129.254.203.149'

t.test('the holder is read from arping, never ourselves', async (t) => {
  const out = 'ARPING 129.254.203.149 from 129.254.203.146 eth0\nUnicast reply from 129.254.203.149 [96:00:C6:81:8B:3F]  0.640ms\nSent 1 probes (1 broadcast(s))\n'
  t.equal(holderMacOf(out, '02:00:00:00:00:01'), '96:00:c6:81:8b:3f')
  t.equal(holderMacOf(out, '96:00:c6:81:8b:3f'), undefined, 'our own MAC is not a holder')
  t.equal(holderMacOf('Sent 3 probes (3 broadcast(s))\nReceived 0 response(s)\n', undefined), undefined, 'no answer, no holder')
})

const isRoot = process.getuid?.() === 0
if (!isRoot) {
  if (process.env.CI === 'true') t.fail('namespace tests need root under CI=true')
  else t.comment('skipped the namespace part: it needs root (ip netns, veth)')
} else {
  t.test('the client\'s ARP entry moves from the yielder to the holder', async (t) => {
    const tag = `ha${randomBytes(3).toString('hex')}`
    const hosts = { holder: ['129.254.203.145', `${tag}-h`], yielder: ['129.254.203.146', `${tag}-y`], client: ['129.254.203.140', `${tag}-c`] } as const
    const sw = `${tag}-sw`
    const ip = async (...args: string[]): Promise<string> => (await execa('ip', args, { timeout: 10_000 })).stdout
    const all = [sw, ...Object.values(hosts).map((h) => h[1])]
    t.teardown(async () => {
      for (const ns of all) await removeNamespace(ns)
    })
    for (const ns of all) await ip('netns', 'add', ns)
    await ip('-n', sw, 'link', 'add', 'br0', 'type', 'bridge')
    await ip('-n', sw, 'link', 'set', 'br0', 'up')
    const macs: Record<string, string> = {}
    for (const [name, [addr, ns]] of Object.entries(hosts)) {
      await ip('-n', sw, 'link', 'add', `p${name}`, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns)
      await ip('-n', sw, 'link', 'set', `p${name}`, 'master', 'br0', 'up')
      await ip('-n', ns, 'link', 'set', 'lo', 'up')
      await ip('-n', ns, 'addr', 'add', `${addr}/26`, 'brd', '129.254.203.191', 'dev', 'eth0')
      await ip('-n', ns, 'link', 'set', 'eth0', 'up')
      macs[name] = (JSON.parse(await ip('-n', ns, '-j', 'link', 'show', 'eth0')) as { address: string }[])[0]?.address ?? ''
    }
    const [, holderNs] = hosts.holder
    const [, yielderNs] = hosts.yielder
    const [, clientNs] = hosts.client
    await ip('-n', holderNs, 'addr', 'add', `${VIP}/26`, 'brd', '129.254.203.191', 'dev', 'eth0', 'label', 'eth0:0')
    // The yielder after its release: the VIP back on lo:0, silent on ARP (the lo:0 swap's sysctls).
    await ip('-n', yielderNs, 'addr', 'add', `${VIP}/32`, 'dev', 'lo', 'label', 'lo:0')
    await execa('ip', ['netns', 'exec', yielderNs, 'sysctl', '-q', '-w', 'net.ipv4.conf.all.arp_ignore=1', 'net.ipv4.conf.all.arp_announce=2'], { timeout: 10_000 })
    // What the yielder's takeover left in the client.
    await ip('-n', clientNs, 'neigh', 'replace', VIP, 'lladdr', macs.yielder ?? '', 'dev', 'eth0', 'nud', 'stale')

    const announce = async (): Promise<{ ok: boolean; text: string }> => {
      const script = `import(${JSON.stringify(join(repo, 'dist/lib/agents/holder-announce.js'))}).then((m) => m.announceForHolder(${JSON.stringify(VIP)}, process.env)).then((o) => process.stdout.write(JSON.stringify(o)))`
      const r = await execa('ip', ['netns', 'exec', yielderNs, process.execPath, '--input-type=module', '-e', script], { timeout: 30_000, reject: false })
      return JSON.parse(r.stdout || '{"ok":false,"text":"no output"}') as { ok: boolean; text: string }
    }
    const clientEntry = async (): Promise<string> => {
      const entries = JSON.parse(await ip('-n', clientNs, '-j', 'neigh', 'show', VIP)) as Array<{ lladdr?: string }>
      return entries[0]?.lladdr ?? ''
    }
    t.equal(await clientEntry(), macs.yielder, 'before: the client names the yielder')
    const o = await announce()
    t.ok(o.ok, o.text)
    t.match(o.text, macs.holder ?? '', "the log line names the holder's MAC")
    t.equal(await clientEntry(), macs.holder, "after: the client's entry names the holder")

    await ip('-n', holderNs, 'addr', 'del', `${VIP}/26`, 'dev', 'eth0')
    await ip('-n', clientNs, 'neigh', 'replace', VIP, 'lladdr', macs.yielder ?? '', 'dev', 'eth0', 'nud', 'stale')
    const none = await announce()
    t.notOk(none.ok, `nobody holds it: ${none.text}`)
    t.equal(await clientEntry(), macs.yielder, 'with no holder, nothing is announced')
  })
}
