// Proves the namespace kit with two real heartbeat 3.0.6 nodes: they reach active, one dies, the
// other declares it dead; the root namespace is untouched and destroy() leaves nothing behind.

import t from 'tap'
import { execa } from 'execa'
import { readdir } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { createKit, distFile, gate, realHeartbeatAvailability, startObserver, waitFor } from './kit.js'
import { SEED_ADDRESS, SEED_NODENAME, installSeedConfig, realLog, realNodeStatus, statusEvents } from './seed-node.js'

const PREFIX = 'hbkit'

async function rootLinks(): Promise<string[]> {
  const r = await execa('ip', ['-o', 'link', 'show'], { timeout: 10_000 })
  return r.stdout.split('\n').map((l) => l.split(':')[1]?.trim() ?? '').sort()
}

async function kitNamespaces(): Promise<string[]> {
  const r = await execa('ip', ['netns', 'list'], { timeout: 10_000 })
  return r.stdout.split('\n').filter((l) => l.startsWith(`${PREFIX}-`))
}

t.test('two real heartbeat 3.0.6 nodes in namespaces', async (t) => {
  if (!gate(t, await realHeartbeatAvailability())) return
  const linksBefore = await rootLinks()
  const kit = await createKit(PREFIX)
  t.teardown(() => kit.destroy())

  const n5 = await kit.addHost({ name: 't5', address: SEED_ADDRESS.titanic5, hostname: SEED_NODENAME.titanic5 })
  const n6 = await kit.addHost({ name: 't6', address: SEED_ADDRESS.titanic6, hostname: SEED_NODENAME.titanic6 })
  const obs = await startObserver(await kit.addHost({ name: 'obs', address: '129.254.203.150/26' }), 1001)
  t.same(await rootLinks(), linksBefore, 'the root namespace has no new interfaces')

  const uname = await n5.exec(['uname', '-n'])
  t.equal(uname.stdout.trim(), 'titanic5.etri.re.kr', 'the host has the node name as hostname')
  const ping = await n5.exec(['ping', '-c', '1', '-W', '2', n6.ip])
  t.equal(ping.exitCode, 0, 'the hosts reach each other over the bridge')

  await installSeedConfig(n5, 'titanic5', { auth: 'sha1' })
  await installSeedConfig(n6, 'titanic6', { auth: 'sha1' })
  t.equal((await n5.startRealHeartbeat()).exitCode, 0, 'real heartbeat starts on titanic5')
  t.equal((await n6.startRealHeartbeat()).exitCode, 0, 'real heartbeat starts on titanic6')

  for (const [host, peer] of [
    [n5, n6],
    [n6, n5],
  ] as const) {
    const st = await waitFor(
      `${host.hostname} to see ${peer.hostname} active`,
      async () => ((await realNodeStatus(host, peer.hostname)) === 'active' ? 'active' : undefined),
      30_000,
      500,
    )
    t.equal(st, 'active', `cl_status on ${host.hostname}: ${peer.hostname} is active`)
    t.equal(await realNodeStatus(host, host.hostname), 'active', `cl_status on ${host.hostname}: itself active`)
  }
  t.match(await realLog(n5), /Link titanic6\.etri\.re\.kr:eth0 up/, 'titanic5 logs the link to titanic6 up')

  // Crash titanic5: cable pulled and every process killed at once.
  await n5.linkDown()
  const killedAt = Date.now()
  const killed = await n5.killAll('SIGKILL')
  t.ok(killed.length >= 3, `killed titanic5's heartbeat processes (${killed.length})`)
  const dead = await waitFor(
    'titanic6 to declare titanic5 dead',
    async () => (await statusEvents(n6)).find((e) => e.node === 'titanic5.etri.re.kr' && e.status === 'dead'),
    20_000,
    200,
  )
  const last = obs.lastStatus('titanic5.etri.re.kr', killedAt)
  if (!last) throw new Error('the observer heard no status from titanic5')
  const dtMs = Number.parseInt(last.f.dt ?? '', 16)
  const lateMs = dead.atMs - (last.atMs + dtMs)
  t.comment(`titanic6 declared titanic5 dead ${dead.atMs - killedAt} ms after the kill; ` +
    `deadline = last heartbeat + advertised dt ${dtMs} ms; late by ${lateMs} ms (checked every 250 ms, then rc.d/status starts)`)
  t.ok(lateMs >= -50, 'not before its deadline')
  t.ok(lateMs <= 1500, 'the real daemon detects within its 250 ms check plus script start-up')
  t.equal(await realNodeStatus(n6, 'titanic5.etri.re.kr'), 'dead', 'cl_status on titanic6: titanic5 is dead')
  t.match(await realLog(n6), /node titanic5\.etri\.re\.kr: is dead/, "titanic6's log says titanic5 is dead")

  const ns = await kitNamespaces()
  t.equal(ns.length, 4, 'the kit made a switch, two nodes and an observer')
  await kit.destroy()
  t.same(await kitNamespaces(), [], 'destroy() removed every namespace')
  t.same((await readdir(tmpdir())).filter((e) => e.startsWith(`${PREFIX}-`)), [], 'destroy() removed the node directories')
  t.same(await rootLinks(), linksBefore, 'the root namespace is as before')
})

t.test('link down/up and loss on a host', async (t) => {
  if (!gate(t, await realHeartbeatAvailability())) return
  const kit = await createKit(`${PREFIX}l`)
  t.teardown(() => kit.destroy())
  const a = await kit.addHost({ name: 'a', address: '10.77.0.1/24' })
  const b = await kit.addHost({ name: 'b', address: '10.77.0.2/24' })
  t.equal((await a.exec(['ping', '-c', '1', '-W', '2', b.ip])).exitCode, 0, 'reachable')
  await b.linkDown()
  t.not((await a.exec(['ping', '-c', '1', '-W', '1', b.ip])).exitCode, 0, 'unreachable with the cable pulled')
  await b.linkUp()
  await waitFor('link back', async () => ((await a.exec(['ping', '-c', '1', '-W', '1', b.ip])).exitCode === 0 ? true : undefined), 10_000)
  t.pass('reachable again after link up')
  const blast = await distFile('test/netns/udp-blast.js')
  const obs = await startObserver(b, 5999)
  const how = await a.setLoss(30)
  t.comment(`loss mechanism on this kernel: ${how}`)
  await a.exec([process.execPath, blast, b.ip, '5999', '1000'])
  await new Promise((r) => setTimeout(r, 300))
  const got = obs.heard.length
  t.comment(`30 % loss: ${got} of 1000 datagrams arrived`)
  t.ok(got > 550 && got < 850, 'about 70 % arrive')
  await a.setLoss(100)
  await a.exec([process.execPath, blast, b.ip, '5999', '200'])
  await new Promise((r) => setTimeout(r, 300))
  t.equal(obs.heard.length, got, '100 % loss: nothing arrives')
  await a.clearLoss()
  await a.exec([process.execPath, blast, b.ip, '5999', '200'])
  await waitFor('datagrams after clearLoss', async () => (obs.heard.length === got + 200 ? true : undefined), 5_000, 100)
  t.pass('no loss after clearLoss')
})
