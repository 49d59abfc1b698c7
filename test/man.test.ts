// Man pages: every page in man/ passes groff's strictest lint; ours render with man -l and state their differences.

import t from 'tap'
import { readdir } from 'node:fs/promises'
import { join } from 'node:path'
import { execa } from 'execa'
import { REPO } from './cli/heartbeat-kit.js'

const MAN = join(REPO, 'man')
const OURS = ['heartbeat.8', 'hbctl.8', 'cl_status.1', 'ha.cf.5', 'haresources.5', 'authkeys.5', 'mon.cf.5', 'heartbeat-ts.conf.5']

async function have(cmd: string): Promise<boolean> {
  return (await execa('sh', ['-c', `command -v ${cmd}`], { reject: false })).exitCode === 0
}

t.test('man pages', async (t) => {
  if (!(await have('groff')) || !(await have('man'))) {
    if (process.env.CI === 'true') t.fail('groff and man-db are needed (.ci/run installs them)')
    else t.plan(0, 'groff or man not installed: man pages not linted')
    return
  }
  const pages = (await readdir(MAN)).filter((f) => /\.[1-8]$/.test(f)).sort()
  for (const page of OURS) t.ok(pages.includes(page), `man/${page} exists`)
  for (const page of pages) {
    const lint = await execa('groff', ['-ww', '-z', '-man', join(MAN, page)], { reject: false, timeout: 60_000 })
    t.equal(lint.stderr, '', `groff -ww -z -man ${page}: no warnings`)
    t.equal(lint.exitCode, 0, `${page} lints`)
  }
  for (const page of OURS) {
    const r = await execa('man', ['-l', '-P', 'cat', join(MAN, page)], {
      reject: false,
      timeout: 60_000,
      env: { MANWIDTH: '80', LANG: 'C.UTF-8', MAN_KEEP_FORMATTING: '' },
    })
    t.equal(r.exitCode, 0, `man -l ${page}`)
    t.equal(r.stderr, '', `man -l ${page}: nothing on stderr`)
    t.match(r.stdout, /^NAME\n {7}\S/m, `${page}: NAME section`)
    t.match(r.stdout, /^SYNOPSIS$/m, `${page}: SYNOPSIS`)
    t.match(r.stdout, /^DIFFERENCES FROM (HEARTBEAT|MON)\n {7}\S/m, `${page} says how it differs`)
    const wide = r.stdout.split('\n').filter((l) => [...l].length > 80)
    t.same(wide, [], `${page}: fits 80 columns`)
  }
})
