// The seed-node helpers ship with the demo (lib/demo/seed-node.ts); the tests import them from here.
export * from '../../lib/demo/seed-node.js'
