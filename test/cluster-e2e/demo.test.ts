// `npm run demo` (dist/lib/cli/demo.js) end to end: it exits 0, shows the takeover with its time, and leaves
// no namespace, process or directory behind — also when interrupted with Ctrl-C half way.

import t from 'tap'
import { readdir } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { execa } from 'execa'
import { distFile } from '../netns/kit.js'

const asRoot = process.getuid?.() === 0

/** What the demo could leave behind: hbdemo- namespaces, hbdemo- and hbloopdemo- temp dirs, processes naming them. */
async function leftovers(): Promise<string[]> {
  const out: string[] = []
  if (asRoot) {
    const ns = await execa('ip', ['netns', 'list'], { reject: false, timeout: 10_000 })
    for (const l of String(ns.stdout).split('\n')) if (l.startsWith('hbdemo-')) out.push(`namespace ${l.split(' ')[0]}`)
  }
  for (const e of await readdir(tmpdir())) if (e.startsWith('hbdemo-') || e.startsWith('hbloopdemo-')) out.push(`directory ${tmpdir()}/${e}`)
  const ps = await execa('pgrep', ['-af', 'hbdemo-|hbloopdemo-'], { reject: false, timeout: 10_000 })
  for (const l of String(ps.stdout).split('\n')) if (l.trim() !== '' && !l.includes('pgrep')) out.push(`process ${l.trim()}`)
  return out
}

t.test('the demo runs to the end, shows the takeover time and cleans up', async (tt) => {
  const demo = await distFile('lib/cli/demo.js')
  tt.same(await leftovers(), [], 'nothing of an earlier demo is around before it starts')
  const r = await execa(process.execPath, [demo], { reject: false, timeout: 240_000, all: true })
  const out = String(r.all ?? '')
  tt.equal(r.exitCode, 0, `the demo exits 0${r.exitCode === 0 ? '' : `:\n${out.split('\n').slice(-30).join('\n')}`}`)
  const took = /takeover: .*?(\d+) ms after the crash/.exec(out)
  tt.ok(took, 'it prints the measured takeover time')
  if (took) tt.comment(`demo takeover: ${took[1]} ms (${asRoot ? 'namespaces' : 'loopback, dry run'})`)
  if (asRoot) {
    tt.match(out, /\$ hbctl status/, 'it shows hbctl status')
    tt.match(out, /answered by: titanic5[\s\S]*first answer from titanic6[\s\S]*answered by: titanic5/, 'titanic5 serves, titanic6 takes over, titanic5 serves again')
  } else {
    tt.match(out, /Not root/, 'without root it says so')
    tt.match(out, /DRY RUN: ip addr add 129\.254\.203\.149/, 'the address change is printed, not made')
  }
  tt.same(await leftovers(), [], 'no namespace, directory or process is left behind')
})

t.test('Ctrl-C half way through still removes everything', async (tt) => {
  const demo = await distFile('lib/cli/demo.js')
  const sub = execa(process.execPath, [demo], { reject: false, timeout: 240_000, buffer: false, stdin: 'ignore' })
  let text = ''
  await new Promise<void>((resolve) => {
    const onData = (chunk: Buffer): void => {
      text += chunk.toString('utf8')
      // Interrupt once both daemons run (before the crash): the most to clean up.
      if (/== (Crashing titanic5|Starting both daemons)/.test(text)) {
        sub.stdout?.off('data', onData)
        resolve()
      }
    }
    sub.stdout?.on('data', onData)
    void sub.then(() => resolve())
  })
  sub.kill('SIGINT')
  sub.stdout?.resume()
  const r = await sub
  tt.equal(r.exitCode, 130, 'the demo exits 130 after Ctrl-C')
  tt.same(await leftovers(), [], 'no namespace, directory or process is left behind after Ctrl-C')
})
