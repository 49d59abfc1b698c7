// The signing keys a node holds: what authkeys(5) says, in the shape the codec uses.

export type AuthMethod = 'crc' | 'md5' | 'sha1'

export interface AuthKey {
  method: AuthMethod
  /** Raw key bytes (empty for crc, which takes no key). */
  key: Buffer
}

export interface AuthKeys {
  /** The `auth N` index: the key this node signs with. */
  active: number
  /** Every configured index 0..15. */
  keys: ReadonlyMap<number, AuthKey>
}
