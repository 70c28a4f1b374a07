import { strict as assert } from 'node:assert';
import { NO_VALUE, ResolveError, TemplateResolver, type Resolved } from '../../src/import/cfn-intrinsics';
import { ParameterOverrides } from '../../src/import/cfn-parameters';
import { readTemplate } from '../../src/import/cfn-template';
import type { SourceValue } from '../../src/import/yaml-source';

const TEMPLATE = `Parameters:
  Env: { Type: String, Default: dev, AllowedValues: [dev, prod] }
  Ports: { Type: CommaDelimitedList, Default: '80, 443' }
  NoDefault: { Type: String }
Mappings:
  Sizes:
    dev: { Port: '8080' }
Conditions:
  IsDev: !Equals [!Ref Env, dev]
  IsProd: !Not [!Condition IsDev]
  Both: !And [!Condition IsDev, !Or [!Condition IsProd, !Equals ['1', 1]]]
Resources:
  Mesh:
    Type: AWS::AppMesh::Mesh
    Properties: {}
  Node:
    Type: AWS::AppMesh::VirtualNode
    Properties:
      MeshName: !GetAtt Mesh.MeshName
      VirtualNodeName: !Sub 'node-\${Env}'
  Route:
    Type: AWS::AppMesh::Route
    Properties:
      MeshName: !Ref Missing
      VirtualRouterName: r
  Queue:
    Type: AWS::SQS::Queue
`;

function resolverWith(parameters: Array<{ key: string; value: string; scope?: string }> = [], exports: Record<string, string> = {}): TemplateResolver {
  const read = readTemplate('stack.yaml', TEMPLATE, 1000);
  if ('errors' in read) assert.fail(JSON.stringify(read.errors));
  return new TemplateResolver(read.template, new ParameterOverrides(parameters), { exportValue: (name) => exports[name], unresolvedExports: 0 });
}

function resolve(value: SourceValue, resolver = resolverWith()): Resolved {
  return resolver.resolve(value, 'Properties.X');
}

function failure(run: () => unknown): ResolveError {
  try {
    run();
  } catch (error) {
    if (error instanceof ResolveError) return error;
    throw error;
  }
  return assert.fail('expected a ResolveError');
}

describe('import: CloudFormation intrinsic functions', () => {
  it('resolves parameters (defaults, overrides, lists), mappings and string functions', () => {
    assert.equal(resolve({ Ref: 'Env' }), 'dev');
    assert.equal(resolve({ Ref: 'Env' }, resolverWith([{ key: 'Env', value: 'prod' }])), 'prod');
    assert.equal(resolve({ Ref: 'Env' }, resolverWith([{ key: 'Env', value: 'prod', scope: 'other.yaml' }])), 'dev');
    assert.deepEqual(resolve({ Ref: 'Ports' }), ['80', '443']);
    assert.equal(resolve({ 'Fn::FindInMap': ['Sizes', { Ref: 'Env' }, 'Port'] }), '8080');
    assert.equal(resolve({ 'Fn::Join': ['-', ['a', { Ref: 'Env' }, 3]] }), 'a-dev-3');
    assert.equal(resolve({ 'Fn::Select': ['1', { 'Fn::Split': [',', 'a,b,c'] }] }), 'b');
    assert.equal(resolve({ 'Fn::Sub': ['${A}.${Env}.${!Literal}', { A: 'x' }] }), 'x.dev.${Literal}');
    assert.equal(resolve({ 'Fn::Sub': '${AWS::Partition}/${Node.VirtualNodeName}/${Mesh.MeshName}' }), 'aws/node-dev/Mesh');
    assert.equal(resolve({ 'Fn::ImportValue': 'shared' }, resolverWith([], { shared: 'colors' })), 'colors');
  });

  it('evaluates conditions and Fn::If, and removes AWS::NoValue', () => {
    assert.equal(resolve({ 'Fn::If': ['IsDev', 'yes', 'no'] }), 'yes');
    assert.equal(resolve({ 'Fn::If': ['IsProd', 'yes', 'no'] }), 'no');
    assert.equal(resolve({ 'Fn::If': ['Both', 'yes', 'no'] }), 'yes');
    assert.equal(resolve({ 'Fn::If': ['IsDev', 'yes', 'no'] }, resolverWith([{ key: 'Env', value: 'prod' }])), 'no');
    assert.deepEqual(resolve({ A: { 'Fn::If': ['IsDev', { Ref: 'AWS::NoValue' }, 1] }, B: [1, { Ref: 'AWS::NoValue' }] }), { B: [1] });
    assert.equal(resolve({ Ref: 'AWS::NoValue' }), NO_VALUE);
  });

  it('gives App Mesh names and ARNs for GetAtt and Ref, the logical ID where the name is omitted', () => {
    assert.equal(resolve({ 'Fn::GetAtt': ['Node', 'VirtualNodeName'] }), 'node-dev');
    assert.equal(resolve({ 'Fn::GetAtt': ['Node', 'MeshName'] }), 'Mesh');
    const withAccount = resolverWith([{ key: 'AWS::Region', value: 'eu-west-1' }, { key: 'AWS::AccountId', value: '111122223333' }]);
    assert.equal(resolve({ Ref: 'Node' }, withAccount), 'arn:aws:appmesh:eu-west-1:111122223333:mesh/Mesh/virtualNode/node-dev');
    assert.equal(resolve({ 'Fn::GetAtt': ['Node', 'Arn'] }, withAccount), 'arn:aws:appmesh:eu-west-1:111122223333:mesh/Mesh/virtualNode/node-dev');
    const china = resolverWith([{ key: 'AWS::Region', value: 'cn-north-1' }, { key: 'AWS::AccountId', value: '1' }, { key: 'AWS::Partition', value: 'aws-cn' }]);
    assert.equal(resolve({ 'Fn::GetAtt': ['Mesh', 'Arn'] }, china), 'arn:aws-cn:appmesh:cn-north-1:1:mesh/Mesh');
  });

  it('names the property and the --parameter to pass for what only a deployed stack knows', () => {
    const region = failure(() => resolve({ 'Fn::Sub': 'arn:aws:acm:${AWS::Region}:1:certificate/x' }));
    assert.equal(region.path, 'Properties.X.Fn::Sub');
    assert.match(region.message, /^AWS::Region is known only to a deployed stack; pass --parameter AWS::Region=VALUE \(or --parameter stack\.yaml:AWS::Region=VALUE for this template only\)$/);
    assert.match(failure(() => resolve({ Ref: 'NoDefault' })).message, /parameter NoDefault has no Default; pass --parameter NoDefault=VALUE/);
    assert.match(failure(() => resolve({ 'Fn::GetAtt': ['Queue', 'Arn'] })).message, /AWS::SQS::Queue is not imported, so its attributes are unknown; pass --parameter Queue\.Arn=VALUE/);
    assert.equal(resolve({ 'Fn::GetAtt': ['Queue', 'Arn'] }, resolverWith([{ key: 'Queue.Arn', value: 'arn:q' }])), 'arn:q');
    assert.match(failure(() => resolve({ 'Fn::ImportValue': 'nowhere' })).message, /Fn::ImportValue nowhere: no template given exports it; .* pass --parameter nowhere=VALUE/);
    assert.match(failure(() => resolve({ Ref: 'Env' }, resolverWith([{ key: 'Env', value: 'qa' }]))).message, /parameter Env is "qa", not one of its AllowedValues \(dev, prod\)/);
    assert.match(failure(() => resolve({ Ref: 'Nothing' })).message, /Ref Nothing: no parameter, pseudo parameter or resource of that name/);
    assert.match(failure(() => resolve({ 'Fn::GetAZs': '' })).message, /Fn::GetAZs is not supported by meshd import/);
    assert.match(failure(() => resolve({ 'Fn::Select': [5, ['a']] })).message, /index 5 is outside the list of 1/);
    assert.match(failure(() => resolve({ 'Fn::If': ['Unknown', 1, 2] })).message, /condition Unknown is not in Conditions/);
  });
});
