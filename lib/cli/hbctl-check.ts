// hbctl check — placeholder until the check command lands (being written now).
export async function main(_argv: string[]): Promise<number> {
  process.stderr.write('hbctl check: not built yet\n')
  return 2
}
