import { VERIFY_INCREMENTAL_BUILD_ENV } from '../../src/model/build-memo';

/** In the calling describe block, every incremental model build is checked against a full one. */
export function verifyIncrementalBuilds(): void {
  let previous: string | undefined;
  before(() => {
    previous = process.env[VERIFY_INCREMENTAL_BUILD_ENV];
    process.env[VERIFY_INCREMENTAL_BUILD_ENV] = '1';
  });
  after(() => {
    if (previous === undefined) delete process.env[VERIFY_INCREMENTAL_BUILD_ENV];
    else process.env[VERIFY_INCREMENTAL_BUILD_ENV] = previous;
  });
}
