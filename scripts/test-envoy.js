#!/usr/bin/env node
'use strict';
// `npm run test:envoy`: the real-Envoy scenarios (test/envoy-e2e/, compiled to dist by the build).
// With neither a Docker engine nor ENVOY_BIN it prints one line and exits 0.
require('../dist/test/envoy-e2e/main.js').runEnvoyScenarios().then((code) => {
  process.exitCode = code;
}, (err) => {
  process.stderr.write(`test:envoy: ${err && err.stack ? err.stack : String(err)}\n`);
  process.exitCode = 1;
});
