#!/usr/bin/env node
// hbctl: the admin's command. Dispatches to one module per sub-command.

const subcommands: Record<string, () => Promise<{ main(argv: string[]): Promise<number> }>> = {
  check: () => import('./hbctl-check.js'),
  decode: () => import('./hbctl-decode.js'),
  status: () => import('./hbctl-status.js'),
  nodes: () => import('./hbctl-nodes.js'),
  standby: () => import('./hbctl-standby.js'),
  takeover: () => import('./hbctl-takeover.js'),
  reload: () => import('./hbctl-reload.js'),
  cl_status: () => import('./cl-status.js'),
  'export-pacemaker': () => import('./hbctl-export-pacemaker.js'),
}

function usage(): string {
  return `usage: hbctl <command> [options]\ncommands: ${Object.keys(subcommands).join(', ')}\n`
}

async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv
  if (cmd === undefined || cmd === '-h' || cmd === '--help') {
    process.stdout.write(usage())
    return cmd === undefined ? 2 : 0
  }
  const load = subcommands[cmd]
  if (!load) {
    process.stderr.write(`hbctl: unknown command "${cmd}"\n${usage()}`)
    return 2
  }
  const mod = await load()
  return mod.main(rest)
}

process.exitCode = await main(process.argv.slice(2))
