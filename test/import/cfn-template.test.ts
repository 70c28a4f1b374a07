import { strict as assert } from 'node:assert';
import { readTemplate, type Template } from '../../src/import/cfn-template';

function templateOf(text: string): Template {
  const read = readTemplate('t.yaml', text, 1000);
  if ('errors' in read) assert.fail(JSON.stringify(read.errors));
  return read.template;
}

describe('import: reading CloudFormation templates', () => {
  it('turns every short-form tag into its long form, on scalars, lists and mappings', () => {
    const template = templateOf(`Resources:
  R:
    Type: AWS::AppMesh::Mesh
    Properties:
      A: !Ref P
      B: !Sub 'x-\${P}'
      C: !Sub ['\${X}', { X: !Ref P }]
      D: !GetAtt Other.MeshName
      E: !GetAtt [Other, MeshName]
      F: !If [Cond, !Join ['.', [a, b]], !Select [0, !Split [',', 'a,b']]]
      G: !FindInMap [M, a, b]
      H: !ImportValue exported
      I: !ImportValue { 'Fn::Sub': '\${P}-x' }
      J: !Base64 text
Conditions:
  Cond: !Or [!Equals [a, a], !And [!Not [!Condition Other]]]
`);
    assert.deepEqual(template.resources.R!.properties, {
      A: { Ref: 'P' },
      B: { 'Fn::Sub': 'x-${P}' },
      C: { 'Fn::Sub': ['${X}', { X: { Ref: 'P' } }] },
      D: { 'Fn::GetAtt': ['Other', 'MeshName'] },
      E: { 'Fn::GetAtt': ['Other', 'MeshName'] },
      F: { 'Fn::If': ['Cond', { 'Fn::Join': ['.', ['a', 'b']] }, { 'Fn::Select': [0, { 'Fn::Split': [',', 'a,b'] }] }] },
      G: { 'Fn::FindInMap': ['M', 'a', 'b'] },
      H: { 'Fn::ImportValue': 'exported' },
      I: { 'Fn::ImportValue': { 'Fn::Sub': '${P}-x' } },
      J: { 'Fn::Base64': 'text' },
    });
    assert.deepEqual(template.conditions.Cond, {
      'Fn::Or': [{ 'Fn::Equals': ['a', 'a'] }, { 'Fn::And': [{ 'Fn::Not': [{ Condition: 'Other' }] }] }],
    });
  });

  it('reads JSON templates', () => {
    const template = templateOf('{"Resources": {"M": {"Type": "AWS::AppMesh::Mesh", "Properties": {"MeshName": {"Ref": "Name"}}}}}');
    assert.deepEqual(template.resources.M, { type: 'AWS::AppMesh::Mesh', properties: { MeshName: { Ref: 'Name' } } });
  });

  it('names file and line of a syntax error, and refuses what is not a template', () => {
    const broken = readTemplate('t.yaml', 'Resources:\n  R:\n    Type: [unclosed\n', 1000);
    assert.ok('errors' in broken);
    assert.equal(broken.errors[0]!.file, 't.yaml');
    assert.ok(broken.errors[0]!.line !== undefined);
    const notTemplate = readTemplate('k.yaml', 'kind: Mesh\n', 1000);
    assert.ok('errors' in notTemplate);
    assert.match(notTemplate.errors[0]!.message, /not a CloudFormation template/);
    const badResource = readTemplate('t.yaml', 'Resources:\n  R:\n    Properties: {}\n', 1000);
    assert.ok('errors' in badResource);
    assert.deepEqual(badResource.errors[0], { file: 't.yaml', resource: 'R', path: 'Type', message: 'must be a resource type such as AWS::AppMesh::VirtualNode' });
  });
});
