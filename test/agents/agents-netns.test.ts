// Namespace tests (root): IPaddr on a veth eth0 seen from a client namespace, the lo:0 swap on the wire, lvs with the stand-in.
import t from 'tap'
import { mkdtempSync, readFileSync, rmSync, writeFileSync, chmodSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { randomBytes } from 'node:crypto'
import { execa } from 'execa'
import { emptyState, runIpvsadm } from '../support/ipvsadm-standin.js'
import { removeNamespace } from '../netns/kit.js'

const repo = fileURLToPath(new URL('../../', import.meta.url))
const VIP = '129.254.203.149'
const DIRECTOR = '129.254.203.146' // titanic6: backup director and real server 1
const CLIENT = '129.254.203.140'

const isRoot = process.getuid?.() === 0
const ci = process.env.CI === 'true'
if (!isRoot) {
  if (ci) t.fail('namespace tests need root under CI=true')
  else t.plan(0, 'skipped: namespace tests need root (ip netns, veth)')
} else {
  await main()
}

async function ip(...args: string[]): Promise<string> {
  return (await execa('ip', args, { timeout: 10_000 })).stdout
}

async function main(): Promise<void> {
  const tag = `t5a${randomBytes(3).toString('hex')}`
  const sw = `${tag}-sw`
  const dir = `${tag}-dir`
  const cli = `${tag}-cli`
  const tmp = mkdtempSync(join(tmpdir(), `${tag}-`))
  const standinFiles: string[] = []

  t.teardown(async () => {
    // Every process left in a namespace (arping bursts, the monitor stub) goes with it.
    for (const ns of [dir, cli, sw]) await removeNamespace(ns)
    for (const f of standinFiles) rmSync(f, { force: true })
    rmSync(tmp, { recursive: true, force: true })
  })

  // A private switch: a bridge inside its own namespace, so nothing touches the host's interfaces.
  for (const ns of [sw, dir, cli]) await ip('netns', 'add', ns)
  await ip('-n', sw, 'link', 'add', 'br0', 'type', 'bridge')
  await ip('-n', sw, 'link', 'set', 'br0', 'up')
  for (const [ns, port, addr] of [[dir, 'pdir', DIRECTOR], [cli, 'pcli', CLIENT]] as const) {
    await ip('-n', sw, 'link', 'add', port, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns)
    await ip('-n', sw, 'link', 'set', port, 'master', 'br0', 'up')
    await ip('-n', ns, 'link', 'set', 'lo', 'up')
    await ip('-n', ns, 'addr', 'add', `${addr}/26`, 'brd', '129.254.203.191', 'dev', 'eth0')
    await ip('-n', ns, 'link', 'set', 'eth0', 'up')
  }
  const dirMac = (JSON.parse(await ip('-n', dir, '-j', 'link', 'show', 'eth0')) as { address: string }[])[0]?.address ?? ''

  const env: Record<string, string | undefined> = {
    ...process.env,
    PATH: `${join(repo, 'test/bin')}:${process.env.PATH ?? ''}`,
    HBTS_RUN_DIR: join(tmp, 'run'),
    HBTS_HA_DIR: join(tmp, 'ha.d'),
    HBTS_MON_CF: join(repo, 'ha.d-example/titanic6/mon/mon.cf'),
  }
  delete env.IPVSADM_STANDIN_STATE
  const agent = (ns: string, name: string, ...args: string[]) =>
    execa('ip', ['netns', 'exec', ns, process.execPath, join(repo, 'resource.d', name), ...args], { env, reject: false, timeout: 30_000 })
  const vipLabels = async (): Promise<string[]> => {
    const links = JSON.parse(await ip('-n', dir, '-j', '-4', 'addr', 'show')) as { addr_info: { local: string; label: string }[] }[]
    return links.flatMap((l) => l.addr_info).filter((a) => a.local === VIP).map((a) => a.label)
  }
  /** arping from the client: the MAC that answers for the VIP, or undefined when nobody does. */
  const whoAnswers = async (): Promise<string | undefined> => {
    const r = await execa('ip', ['netns', 'exec', cli, 'arping', '-c', '2', '-w', '2', '-I', 'eth0', VIP], { reject: false, timeout: 10_000 })
    const m = /\[([0-9a-f:]{17})\]/i.exec(r.stdout)
    return r.exitCode === 0 && m !== null ? m[1]?.toLowerCase() : undefined
  }

  t.test('titanic6 as real server: VIP on lo:0 with arp_ignore/arp_announce is silent on ARP', async (t) => {
    // What ipvsadm.sct did with ifconfig and the hidden flag, in today's terms (lvs-mon-agents §3.3).
    await ip('-n', dir, 'addr', 'add', `${VIP}/32`, 'dev', 'lo', 'label', 'lo:0')
    await execa('ip', ['netns', 'exec', dir, 'sysctl', '-q', '-w', 'net.ipv4.conf.all.arp_ignore=1', 'net.ipv4.conf.all.arp_announce=2'])
    t.same(await vipLabels(), ['lo:0'])
    t.equal(await whoAnswers(), undefined, "the client's arping for the VIP gets no answer")
    const st = await agent(dir, 'IPaddr', VIP, 'status')
    t.match(st.stdout, /stopped/, 'IPaddr status: a lo:0 copy is not a held VIP')
  })

  t.test('takeover: IPaddr start moves lo:0 to eth0:0 and the client learns the MAC from gratuitous ARP', async (t) => {
    // The client still has the VIP at the failed master's MAC.
    await ip('-n', cli, 'neigh', 'replace', VIP, 'lladdr', '02:00:00:00:00:05', 'dev', 'eth0', 'nud', 'stale')
    // The client's view of the wire, with kernel timestamps (same clock as Date.now()).
    const dump = execa('ip', ['netns', 'exec', cli, 'tcpdump', '-l', '-n', '-tt', '-i', 'eth0', 'arp'], { reject: false, timeout: 30_000 })
    let dumped = ''
    dump.stdout?.on('data', (b: Buffer) => (dumped += b.toString()))
    t.teardown(() => void dump.kill('SIGKILL'))
    await new Promise<void>((resolve, reject) => {
      let e = ''
      dump.stderr?.on('data', (b: Buffer) => {
        e += b.toString()
        if (e.includes('listening on')) resolve()
      })
      void dump.then((x) => reject(new Error(`tcpdump ended: ${String(x.stderr)}`)))
    })
    const started = performance.now()
    const r = await agent(dir, 'IPaddr', VIP, 'start')
    const startMs = performance.now() - started
    const returnedAt = Date.now()
    t.equal(r.exitCode, 0, r.stderr)
    t.match(r.stdout, /Success/)
    t.same(await vipLabels(), ['eth0:0'], 'VIP now on eth0:0 only')
    const shown = JSON.parse(await ip('-n', dir, '-j', '-4', 'addr', 'show', 'dev', 'eth0')) as { addr_info: { local: string; prefixlen: number; broadcast?: string }[] }[]
    const addr = shown[0]?.addr_info.find((a) => a.local === VIP)
    t.equal(`${addr?.prefixlen} ${addr?.broadcast}`, '26 129.254.203.191', 'netmask and broadcast from the route, as findif gives them')
    t.comment(`IPaddr start returned in ${startMs.toFixed(0)} ms (ARP continues in the background)`)
    let learned = ''
    for (let i = 0; i < 60 && learned !== dirMac; i++) {
      const n = JSON.parse(await ip('-n', cli, '-j', 'neigh', 'show', VIP)) as { lladdr?: string }[]
      learned = n[0]?.lladdr ?? ''
      if (learned !== dirMac) await new Promise((res) => setTimeout(res, 100))
    }
    t.equal(learned, dirMac, "client's ARP entry for the VIP moved to the director's MAC")
    // The first request+reply pair is sent by IPaddr start itself: both on the wire together, at
    // once (a Node helper's start-up used to hold them back); the next pair follows the pacing.
    const frames = (): { atMs: number; kind: string }[] =>
      dumped.split('\n').flatMap((l) => {
        const m = /^(\d+\.\d+) .*?(Request who-has|Reply) 129\.254\.203\.149\b/.exec(l)
        return m !== null && m[1] !== undefined && m[2] !== undefined && (m[2] === 'Reply' || l.includes(`tell ${VIP}`)) ? [{ atMs: Number(m[1]) * 1000, kind: m[2].startsWith('Request') ? 'request' : 'reply' }] : []
      })
    for (let i = 0; i < 40 && frames().length < 3; i++) await new Promise((res) => setTimeout(res, 50))
    const fs = frames()
    const [f1, f2, f3] = fs
    t.same(fs.slice(0, 2).map((f) => f.kind).sort(), ['reply', 'request'], 'the first two gratuitous frames are a request and a reply')
    if (f1 !== undefined && f2 !== undefined && f3 !== undefined) {
      t.comment(`first frame ${(f1.atMs - returnedAt).toFixed(1)} ms after start returned, second +${(f2.atMs - f1.atMs).toFixed(1)} ms, third +${(f3.atMs - f1.atMs).toFixed(1)} ms`)
      t.ok(f1.atMs - returnedAt < 100, 'the first frame is on the wire within 100 ms of start returning')
      t.ok(f2.atMs - f1.atMs < 100, 'its pair goes with it, not half an interval later')
      t.ok(f3.atMs - f1.atMs >= 400, 'the background pacer sends the next pair one interval (500 ms) after the first')
    } else t.fail(`expected at least 3 gratuitous frames, saw: ${dumped}`)
    t.equal(await whoAnswers(), dirMac, 'and ARP requests for the VIP are answered by it')
    const st = await agent(dir, 'IPaddr', VIP, 'status')
    t.match(st.stdout, /Running OK/)
    t.equal(st.exitCode, 0)
    t.equal((await agent(dir, 'IPaddr', VIP, 'start')).exitCode, 0, 'start again: nothing to do')
    t.same(await vipLabels(), ['eth0:0'])
  })

  t.test('release: IPaddr stop puts the VIP back on lo:0, silent again; stop is idempotent', async (t) => {
    const r = await agent(dir, 'IPaddr', VIP, 'stop')
    t.equal(r.exitCode, 0, r.stderr)
    t.same(await vipLabels(), ['lo:0'])
    const pids = (await execa('ip', ['netns', 'pids', dir])).stdout.split('\n').filter((p) => p !== '')
    const arpings = []
    for (const pid of pids) {
      try {
        const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8')
        if (cmd.startsWith('arping') || cmd.includes('arp-burst')) arpings.push(pid)
      } catch {
        // exited meanwhile
      }
    }
    t.same(arpings, [], 'the background ARP burst was stopped')
    t.equal(await whoAnswers(), undefined, 'no ARP answer for the VIP from the real server')
    const st = await agent(dir, 'IPaddr', VIP, 'status')
    t.match(st.stdout, /stopped/)
    t.equal(st.exitCode, 7)
    const again = await agent(dir, 'IPaddr', VIP, 'stop')
    t.equal(again.exitCode, 0)
    t.same(await vipLabels(), ['lo:0'], 'a second stop leaves the real-server lo:0 alone')
  })

  t.test('lvs in the namespace builds the seed table in the stand-in and empties it on stop', async (t) => {
    const stub = join(tmp, 'mon-stub')
    writeFileSync(stub, '#!/bin/sh\nsleep 300 &\nwait\n')
    chmodSync(stub, 0o755)
    const lvsEnv = { ...env, HBTS_LVS_MONITOR_CMD: stub }
    const ino = (await execa('ip', ['netns', 'exec', dir, 'stat', '-L', '-c', '%i', '/proc/self/ns/net'])).stdout.trim()
    standinFiles.push(`/run/ipvsadm-standin/netns-${ino}.json`, `/run/ipvsadm-standin/netns-${ino}.json.lock`)
    const lvs = (op: string) => execa('ip', ['netns', 'exec', dir, process.execPath, join(repo, 'resource.d/lvs'), op], { env: lvsEnv, reject: false, timeout: 30_000 })
    const save = async () => (await execa('ip', ['netns', 'exec', dir, 'ipvsadm', '-S', '-n'], { env: lvsEnv })).stdout
    const start = await lvs('start')
    t.equal(start.exitCode, 0, start.stderr)
    // The seed init.d/lvs lines, -R read as the 2.2-era real-server option.
    const seed = emptyState()
    for (const raw of readFileSync(join(repo, 'ha.d-example/titanic6/init.d/lvs'), 'utf8').split('\n')) {
      const m = /^\s*\$IPVSADM\s+(-[Aa].*)$/.exec(raw)
      if (m?.[1] !== undefined) runIpvsadm(m[1].trim().split(/\s+/).map((w) => (w === '-R' ? '-r' : w)), seed, { stdin: '', localAddrs: new Set() })
    }
    t.equal(`${await save()}\n`, runIpvsadm(['-S', '-n'], seed, { stdin: '', localAddrs: new Set() }).stdout, 'ipvsadm -S -n = the seed script table')
    const listed = (await execa('ip', ['netns', 'exec', dir, 'ipvsadm', '-L', '-n'], { env: lvsEnv })).stdout
    t.match(listed, new RegExp(`-> ${DIRECTOR.replaceAll('.', '\\.')}:80 +Local`), "titanic6's own real-server address shows as Local")
    t.equal((await execa('ip', ['netns', 'exec', dir, 'sysctl', '-n', 'net.ipv4.ip_forward'])).stdout, '1', 'forwarding on in the director')
    t.match((await lvs('status')).stdout, /running/)
    const stop = await lvs('stop')
    t.equal(stop.exitCode, 0, stop.stderr)
    t.equal(await save(), '', 'table empty after stop')
    const left = (await execa('ip', ['netns', 'pids', dir])).stdout.split('\n').filter((p) => p !== '')
    t.same(left, [], 'no monitor process (nor its child) survives the stop')
    t.match((await lvs('status')).stdout, /stopped/)
  })
}
