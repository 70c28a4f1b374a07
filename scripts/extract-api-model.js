'use strict';
// Build step: copies App Mesh's service model (2019-01-25) and its paginators from the pinned
// `aws-sdk` package (a devDependency: the JSON the AWS SDKs are generated from) into
// dist/api-model/, where the App Mesh API reads them at run time. Nothing of the model is kept in
// the source tree, and a production install needs no SDK.
const fs = require('node:fs');
const path = require('node:path');

const out = path.resolve(__dirname, '..', 'dist', 'api-model');
fs.mkdirSync(out, { recursive: true });
for (const file of ['appmesh-2019-01-25.min.json', 'appmesh-2019-01-25.paginators.json']) {
  const source = require.resolve(`aws-sdk/apis/${file}`);
  fs.copyFileSync(source, path.join(out, file));
}
