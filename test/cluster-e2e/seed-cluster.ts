// The seed cluster ships with the demo (lib/demo/seed-cluster.ts); the tests import it from here.
export * from '../../lib/demo/seed-cluster.js'
