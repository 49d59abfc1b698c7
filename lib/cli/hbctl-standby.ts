// hbctl standby [all|local|foreign|failback]: give resources to the peer, like hb_standby.

import { resourcesCommand } from './hbctl-resources.js'

export function main(argv: string[]): Promise<number> {
  return resourcesCommand('standby', argv)
}
