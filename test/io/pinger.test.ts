// The ping-node shell (lib/io/pinger.ts): one iputils ping child per address, each "bytes from" line
// an echo reply for its ping node; a child that ends early is said once and started again; stop()
// reaps every child. Real children, loopback only.
import t from 'tap'
import { chmodSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { Pinger, isReplyLine, pingArgs } from '../../lib/io/pinger.js'

t.test('the arguments: one request per keepalive, numeric, bounded by its own deadline; -6 for ping6', async (t) => {
  t.same(pingArgs({ node: '10.0.0.254', address: '10.0.0.254', family: 4 }, 2000), ['-4', '-n', '-i', '2', '-w', '3600', '10.0.0.254'])
  t.same(pingArgs({ node: 'fd00::1', address: 'fd00::1', family: 6 }, 500), ['-6', '-n', '-i', '0.5', '-w', '3600', 'fd00::1'])
  t.same(pingArgs({ node: 'r', address: '10.0.0.1', family: 4 }, 50).slice(2, 4), ['-i', '0.2'], 'never below what ping allows an unprivileged user')
})

t.test('reply lines are the "bytes from" lines only', async (t) => {
  t.ok(isReplyLine('64 bytes from 127.0.0.1: icmp_seq=1 ttl=64 time=0.040 ms'))
  t.ok(isReplyLine('64 bytes from fd00::1: icmp_seq=3 ttl=64 time=0.1 ms (DUP!)'))
  t.notOk(isReplyLine('PING 127.0.0.1 (127.0.0.1) 56(84) bytes of data.'))
  t.notOk(isReplyLine('From 10.0.0.5 icmp_seq=1 Destination Host Unreachable'))
})

t.test('a real ping to loopback: replies come for the ping node, and stop() ends the child', async (t) => {
  const replies: string[] = []
  let resolve: () => void = () => undefined
  const threeReplies = new Promise<void>((r) => (resolve = r))
  const pinger = new Pinger({
    targets: [{ node: 'routers', address: '127.0.0.1', family: 4 }],
    keepaliveMs: 200,
    onReply: (node) => {
      replies.push(node)
      if (replies.length === 3) resolve()
    },
  })
  pinger.start()
  await threeReplies
  await pinger.stop()
  t.same(replies.slice(0, 3), ['routers', 'routers', 'routers'], 'each reply counts for the ping node named in ha.cf')
  const after = replies.length
  await new Promise((r) => setTimeout(r, 500))
  t.equal(replies.length, after, 'no reply after stop: the child is gone')
})

t.test('ping6 to loopback: replies over IPv6 count for the ping node', async (t) => {
  let resolve: (node: string) => void = () => undefined
  const first = new Promise<string>((r) => (resolve = r))
  const pinger = new Pinger({ targets: [{ node: '::1', address: '::1', family: 6 }], keepaliveMs: 200, onReply: (node) => resolve(node) })
  pinger.start()
  t.equal(await first, '::1')
  await pinger.stop()
})

t.test('a child that ends early is reported once, with what it said', async (t) => {
  const dir = t.testdir()
  const fake = join(dir, 'ping')
  writeFileSync(fake, '#!/bin/sh\necho "ping: nosuchhost: Name or service not known" >&2\nexit 2\n')
  chmodSync(fake, 0o755)
  const problems: string[] = []
  let resolve: () => void = () => undefined
  const reported = new Promise<void>((r) => (resolve = r))
  const pinger = new Pinger({
    targets: [{ node: 'nosuchhost', address: 'nosuchhost', family: 4 }],
    keepaliveMs: 1000,
    command: fake,
    onReply: () => undefined,
    onProblem: (_a, text) => {
      problems.push(text)
      resolve()
    },
  })
  pinger.start()
  await reported
  await pinger.stop()
  t.same(problems, ['ping nosuchhost: ping: nosuchhost: Name or service not known; trying again every 5 s'])
})
