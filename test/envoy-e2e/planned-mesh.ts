// What both ways of running the demo mesh (local Envoy processes, docker compose) share: finding
// an endpoint of the plan and reaching its Envoy's admin and ingress on loopback.
import { EnvoyAdmin } from './envoy-admin';
import type { EndpointPlan } from './mesh-plan';

export abstract class PlannedMesh {
  abstract endpoints: EndpointPlan[];

  endpoint(name: string): EndpointPlan {
    const found = this.endpoints.find((e) => e.name === name);
    if (!found) throw new Error(`no endpoint ${name} in ${this.endpoints.map((e) => e.name).join(', ')}`);
    return found;
  }

  admin(name: string): EnvoyAdmin {
    return new EnvoyAdmin(name, `http://127.0.0.1:${this.endpoint(name).adminPort}`);
  }

  ingressAddress(name: string): { host: string; port: number } {
    return { host: '127.0.0.1', port: this.endpoint(name).ingressPort };
  }
}
