// One status heartbeat as titanic5 sends it every keepalive (fields of the captured vectors), for the
// codec bench and the decoder fuzzer's synthetic seeds.
import { binaryField, stringField, type HaMessage } from '../lib/wire/message.js'

export const sampleStatus: HaMessage = {
  fields: [
    stringField('t', 'status'),
    stringField('st', 'active'),
    stringField('dt', '1388'),
    stringField('protocol', '1'),
    stringField('src', 'titanic5.etri.re.kr'),
    binaryField('srcuuid', Buffer.from('0935e5ab26184f5fb64e9e111a1a68bd', 'hex')),
    stringField('seq', '2a'),
    stringField('hg', '6b07193e'),
    stringField('ts', '6b07193d'),
    stringField('ld', '3.35 3.01 2.18 3/109 16481'),
    stringField('ttl', '3'),
  ],
}
