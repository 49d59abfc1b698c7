// The ipvsadm stand-in ships with the demo (lib/demo/ipvsadm-standin.ts); the tests import it from here.
export * from '../../lib/demo/ipvsadm-standin.js'
