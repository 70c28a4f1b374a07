// Naming rules of App Mesh resources (common-schema), through the real parser: a name must fit
// App Mesh's model (1-255 characters) and everything meshd builds from it (node ids, SPIFFE IDs,
// Envoy names, host names).
import { strict as assert } from 'node:assert';
import { formatErrors } from '../../src/spec/errors';
import { parseSpecText } from '../../src/spec/parse';

function errorsOf(text: string): string[] {
  const parsed = parseSpecText('names.yaml', text);
  return parsed.errors.length ? formatErrors(parsed.errors).split('\n') : [];
}

const endpointRule = 'must start with a letter or digit and hold only letters, digits, ".", "_" and "-": it is part of the node id mesh/<mesh>/virtualNode/<name> and of the SPIFFE ID';
const routingRule = 'must not contain "/", white space or control characters: it is part of Envoy resource names and of the App Mesh ARN';
const hostRule = 'must be a host name (dot-separated labels of letters, digits and "-", at most 63 characters each): callers reach the virtual service by this name';

const node = (name: string): string => `kind: VirtualNode\nmeshName: m\nvirtualNodeName: ${JSON.stringify(name)}\nspec: {}\n`;
const router = (name: string): string => `kind: VirtualRouter\nmeshName: m\nvirtualRouterName: ${JSON.stringify(name)}\nspec: { listeners: [{ portMapping: { port: 80, protocol: http } }] }\n`;
const service = (name: string): string => `kind: VirtualService\nmeshName: m\nvirtualServiceName: ${JSON.stringify(name)}\nspec: {}\n`;

describe('spec/common-schema: resource names', () => {
  const refused: { name: string; text: string; errors: string[] }[] = [
    { name: 'a virtual node named with a space and a slash', text: node('color blue/v2'), errors: [`names.yaml: VirtualNode color blue/v2: virtualNodeName: ${endpointRule}`] },
    { name: 'a virtual node name starting with a dot', text: node('.hidden'), errors: [`names.yaml: VirtualNode .hidden: virtualNodeName: ${endpointRule}`] },
    { name: 'a virtual node name with a colon', text: node('a:b'), errors: [`names.yaml: VirtualNode a:b: virtualNodeName: ${endpointRule}`] },
    { name: 'a virtual node name of 256 characters', text: node('n'.repeat(256)), errors: [`names.yaml: VirtualNode ${'n'.repeat(256)}: virtualNodeName: must be at most 255 characters`] },
    { name: 'a mesh name with a slash', text: 'kind: Mesh\nmeshName: "prod/eu"\n', errors: [`names.yaml: Mesh prod/eu: meshName: ${endpointRule}`] },
    {
      name: 'a virtual gateway name with a control character',
      text: 'kind: VirtualGateway\nmeshName: m\nvirtualGatewayName: "gw\\u0007"\nspec: { listeners: [{ portMapping: { port: 80, protocol: http } }] }\n',
      errors: [`names.yaml: VirtualGateway gw\u0007: virtualGatewayName: ${endpointRule}`],
    },
    { name: 'a virtual router name with white space', text: router('color router'), errors: [`names.yaml: VirtualRouter color router: virtualRouterName: ${routingRule}`] },
    { name: 'a virtual router name with a slash', text: router('a/b'), errors: [`names.yaml: VirtualRouter a/b: virtualRouterName: ${routingRule}`] },
    {
      name: 'a route name with a tab',
      text: 'kind: Route\nmeshName: m\nvirtualRouterName: r\nrouteName: "to\\tblue"\nspec: { tcpRoute: { action: { weightedTargets: [{ virtualNode: b, weight: 1 }] } } }\n',
      errors: [`names.yaml: Route to\tblue: routeName: ${routingRule}`],
    },
    { name: 'a virtual service name with a space', text: service('color svc'), errors: [`names.yaml: VirtualService color svc: virtualServiceName: ${hostRule}`] },
    { name: 'a virtual service name with an underscore', text: service('color_svc.local'), errors: [`names.yaml: VirtualService color_svc.local: virtualServiceName: ${hostRule}`] },
    { name: 'a virtual service name with an empty label', text: service('color..local'), errors: [`names.yaml: VirtualService color..local: virtualServiceName: ${hostRule}`] },
    { name: 'a virtual service name with a label of 64 characters', text: service(`${'a'.repeat(64)}.local`), errors: [`names.yaml: VirtualService ${'a'.repeat(64)}.local: virtualServiceName: ${hostRule}`] },
  ];
  for (const row of refused) {
    it(`refuses ${row.name}`, () => assert.deepEqual(errorsOf(row.text), row.errors));
  }

  const accepted: { name: string; text: string }[] = [
    { name: 'a virtual node name of letters, digits, ".", "_" and "-" (255 characters)', text: node(`Color_blue-v1.2${'x'.repeat(240)}`) },
    { name: 'a router name with a colon', text: router('color:router') },
    { name: 'a single-label virtual service name', text: service('svc-b') },
    { name: 'a virtual service name of several labels', text: service('color.colorapp.svc.cluster.local') },
  ];
  for (const row of accepted) {
    it(`accepts ${row.name}`, () => assert.deepEqual(errorsOf(row.text), []));
  }
});
