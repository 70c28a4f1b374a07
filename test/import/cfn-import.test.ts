import { strict as assert } from 'node:assert';
import { importTemplates } from '../../src/import/cfn-import';
import { ParameterOverrides } from '../../src/import/cfn-parameters';
import { readTemplate, type Template } from '../../src/import/cfn-template';
import { formatError } from '../../src/spec/errors';

function template(file: string, text: string): Template {
  const read = readTemplate(file, text, 1000);
  if ('errors' in read) assert.fail(JSON.stringify(read.errors));
  return read.template;
}

const MESH = `Resources:
  Mesh:
    Type: AWS::AppMesh::Mesh
    Properties: { MeshName: demo }
Outputs:
  Name:
    Value: !GetAtt Mesh.MeshName
    Export: { Name: !Sub '\${AWS::StackName}-mesh' }
`;

const NODES = `Parameters:
  MeshStack: { Type: String, Default: base }
Conditions:
  Never: !Equals [a, b]
Resources:
  Node:
    Type: AWS::AppMesh::VirtualNode
    Properties:
      MeshName: !ImportValue { 'Fn::Sub': '\${MeshStack}-mesh' }
      Spec:
        Listeners: [{ PortMapping: { Port: '8080', Protocol: http } }]
        ServiceDiscovery: { DNS: { Hostname: node.demo.local } }
  Service:
    Type: AWS::AppMesh::VirtualService
    Properties:
      MeshName: !ImportValue { 'Fn::Sub': '\${MeshStack}-mesh' }
      VirtualServiceName: node.demo.local
      Spec: { Provider: { VirtualNode: { VirtualNodeName: !Ref Node } } }
  Skipped:
    Type: AWS::AppMesh::VirtualNode
    Condition: Never
    Properties: { MeshName: demo, Spec: {} }
  Role: { Type: AWS::IAM::Role }
  Bucket: { Type: AWS::S3::Bucket }
  Bucket2: { Type: AWS::S3::Bucket }
`;

const account = [{ key: 'AWS::Region', value: 'us-east-1' }, { key: 'AWS::AccountId', value: '111122223333' }];

describe('import: CloudFormation templates to meshd resources', () => {
  it('imports stacks together through their exports, names by logical ID, skips and counts the rest', () => {
    const result = importTemplates([template('mesh.yaml', MESH), template('nodes.yaml', NODES)],
      new ParameterOverrides([{ scope: 'mesh.yaml', key: 'AWS::StackName', value: 'base' }, ...account]));
    assert.deepEqual(result.errors, []);
    assert.deepEqual(result.resources.map((resource) => resource.body), [
      { kind: 'Mesh', meshName: 'demo', spec: {} },
      { kind: 'VirtualNode', meshName: 'demo', virtualNodeName: 'Node', spec: { listeners: [{ portMapping: { port: 8080, protocol: 'http' } }], serviceDiscovery: { dns: { hostname: 'node.demo.local' } } } },
      { kind: 'VirtualService', meshName: 'demo', virtualServiceName: 'node.demo.local', spec: { provider: { virtualNode: { virtualNodeName: 'Node' } } } },
    ]);
    assert.deepEqual(result.skipped, ['3 non-App-Mesh resources (AWS::IAM::Role, AWS::S3::Bucket ×2)', '1 resource whose Condition is false']);
    // Ref gives an ARN in CloudFormation; App Mesh wants the name there: taken, with a warning.
    assert.deepEqual(result.warnings.map(formatError), [
      'nodes.yaml: Service: Properties.Spec.provider.virtualNode.virtualNodeName: is an ARN (what Ref gives); App Mesh takes a name here, so Node is used (write !GetAtt <LogicalId>.VirtualNodeName instead)',
    ]);
  });

  it('names template, logical ID and property of every value it cannot resolve, with the --parameter to pass', () => {
    const result = importTemplates([template('mesh.yaml', MESH), template('nodes.yaml', NODES)], new ParameterOverrides([{ key: 'Unused', value: '1' }]));
    const lines = result.errors.map(formatError);
    assert.equal(lines[0], 'mesh.yaml: Outputs.Name: Export.Name.Fn::Sub: AWS::StackName is known only to a deployed stack; pass --parameter AWS::StackName=VALUE (or --parameter mesh.yaml:AWS::StackName=VALUE for this template only)');
    assert.match(lines[1]!, /^nodes\.yaml: Node: Properties\.MeshName\.Fn::ImportValue: Fn::ImportValue base-mesh: no template given exports it; import the template that does in the same run \(an export name of a given template could not be resolved: see its error\), or pass --parameter base-mesh=VALUE/);
    assert.equal(lines.length, 4);
    assert.match(lines[3]!, /^nodes\.yaml: Service: Properties\.Spec\.Provider\.VirtualNode\.VirtualNodeName\.Ref: Node's names cannot be resolved \(its MeshName\.Fn::ImportValue: Fn::ImportValue base-mesh: /);
    assert.deepEqual(result.warnings.map(formatError), ['--parameter: Unused is used by no template given']);
  });

  it('takes an export from --parameter when its stack is not imported', () => {
    const result = importTemplates([template('nodes.yaml', NODES)], new ParameterOverrides([{ key: 'base-mesh', value: 'demo' }, ...account]));
    assert.deepEqual(result.errors, []);
    assert.equal(result.resources.length, 2);
  });
});
