// Route matches (route-schema), through the real parser: an HTTP prefix must start with "/" as App
// Mesh's model documents, for routes and gateway routes alike.
import { strict as assert } from 'node:assert';
import { formatErrors } from '../../src/spec/errors';
import { parseSpecText } from '../../src/spec/parse';

const prefixRule = 'must start with "/" ("/" alone matches every request): a request path always does, so this prefix would never match';

function errorsOf(text: string): string[] {
  const parsed = parseSpecText('routes.yaml', text);
  return parsed.errors.length ? formatErrors(parsed.errors).split('\n') : [];
}

const route = (member: string, prefix: string): string => `kind: Route
meshName: m
virtualRouterName: r
routeName: rt
spec:
  ${member}:
    match: { prefix: ${JSON.stringify(prefix)} }
    action: { weightedTargets: [{ virtualNode: b, weight: 100 }] }
`;

const gatewayRoute = (member: string, prefix: string): string => `kind: GatewayRoute
meshName: m
virtualGatewayName: g
gatewayRouteName: gr
spec:
  ${member}:
    match: { prefix: ${JSON.stringify(prefix)} }
    action: { target: { virtualService: { virtualServiceName: svc-b } } }
`;

describe('spec/route-schema: path prefixes', () => {
  for (const member of ['httpRoute', 'http2Route']) {
    it(`refuses a ${member} prefix without a leading "/", and accepts one with it`, () => {
      assert.deepEqual(errorsOf(route(member, 'color')), [`routes.yaml: Route rt: spec.${member}.match.prefix: ${prefixRule}`]);
      assert.deepEqual(errorsOf(route(member, '/color')), []);
    });
    it(`refuses a gateway ${member} prefix without a leading "/", and accepts "/"`, () => {
      assert.deepEqual(errorsOf(gatewayRoute(member, 'color')), [`routes.yaml: GatewayRoute gr: spec.${member}.match.prefix: ${prefixRule}`]);
      assert.deepEqual(errorsOf(gatewayRoute(member, '/')), []);
    });
  }
});
