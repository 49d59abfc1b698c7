// hbctl takeover [all|local|foreign|failback]: take resources from the peer, like hb_takeover.

import { resourcesCommand } from './hbctl-resources.js'

export function main(argv: string[]): Promise<number> {
  return resourcesCommand('takeover', argv)
}
