// hbctl decode — placeholder until the decode command lands (being written now).
export async function main(_argv: string[]): Promise<number> {
  process.stderr.write('hbctl decode: not built yet\n')
  return 2
}
