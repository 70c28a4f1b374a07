#!/usr/bin/env node
'use strict';
// The command line lives in TypeScript under src/cli; this shim runs its compiled form.
require('../dist/src/cli/main.js').main(process.argv).catch((err) => {
  process.stderr.write(`meshd: ${err && err.message ? err.message : String(err)}\n`);
  process.exit(1);
});
