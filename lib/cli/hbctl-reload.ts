// hbctl reload: the daemon rereads its configuration (what SIGHUP and `heartbeat -r` do).

import { ask, failure } from './control-client.js'

export async function main(argv: string[]): Promise<number> {
  if (argv.length > 0) {
    process.stderr.write('usage: hbctl reload\n')
    return 2
  }
  const resp = await ask({ type: 'reload' })
  if (!resp.ok) return failure('reload', resp)
  if (resp.type === 'done') process.stdout.write(`${resp.message}\n`)
  return 0
}
