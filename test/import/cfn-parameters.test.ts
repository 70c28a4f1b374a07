import { strict as assert } from 'node:assert';
import { ParameterOverrides, parseParameter } from '../../src/import/cfn-parameters';

describe('import: --parameter values', () => {
  it('parses KEY=VALUE and TEMPLATE:KEY=VALUE, keeping colons of pseudo parameters in the key', () => {
    assert.deepEqual(parseParameter('Env=prod'), { key: 'Env', value: 'prod' });
    assert.deepEqual(parseParameter('AWS::Region=eu-west-1'), { key: 'AWS::Region', value: 'eu-west-1' });
    assert.deepEqual(parseParameter('mesh.yaml:AWS::StackName=a=b'), { scope: 'mesh.yaml', key: 'AWS::StackName', value: 'a=b' });
    assert.deepEqual(parseParameter('novalue'), { problem: '--parameter novalue: must be KEY=VALUE (or TEMPLATE:KEY=VALUE)' });
  });

  it('prefers a value scoped to the template (by path or base name) and reports the unused ones', () => {
    const overrides = new ParameterOverrides([
      { key: 'Env', value: 'dev' }, { scope: 'mesh.yaml', key: 'Env', value: 'prod' }, { key: 'Typo', value: 'x' },
    ]);
    assert.equal(overrides.lookup('stacks/mesh.yaml', 'Env'), 'prod');
    assert.equal(overrides.lookup('other.yaml', 'Env'), 'dev');
    assert.deepEqual(overrides.unused(), ['Typo']);
  });
});
