'use strict';
// Mocha's spec reporter, plus: when MESHD_MOCHA_JSON names a file, mocha's own final counts are
// written there as JSON so .ci/run can close with "tests: N passed, N failed".
const fs = require('node:fs');
const Mocha = require('mocha');

class MeshdReporter extends Mocha.reporters.Spec {
  constructor(runner, options) {
    super(runner, options);
    runner.once(Mocha.Runner.constants.EVENT_RUN_END, () => {
      const out = process.env.MESHD_MOCHA_JSON;
      if (!out) return;
      const { passes, failures, pending, tests } = runner.stats;
      fs.writeFileSync(out, JSON.stringify({ passes, failures, pending, tests }));
    });
  }
}

module.exports = MeshdReporter;
