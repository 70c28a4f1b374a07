// Scenarios 4-6, operations under traffic: certificate rotation and CA rollover, a spec error
// pushed and fixed, and meshd restarted.
import { httpPost } from './envoy-admin';
import { routeConfig } from './envoy-admin';
import { BackgroundLoad, expectNoFailures, sleep, waitFor, type MeshUnderTest } from './harness';
import { check, type Scenario } from './scenario-support';

/** Leaf lifetime for the rotation scenario: re-issued at half of it, so a rotation every 8 s. */
export const ROTATION_LEAF_TTL_SECONDS = 16;

async function chainSerials(mesh: MeshUnderTest, name: string): Promise<string[]> {
  return (await mesh.admin(name).serials()).chain;
}

export const rotation: Scenario = {
  name: '4 rotation under load: leaves rotate twice, the CA rolls over once',
  start: () => ({ leafTtlSeconds: ROTATION_LEAF_TTL_SECONDS }),
  async run(mesh, note) {
    const names = mesh.endpoints.map((e) => e.name);
    const seen = new Map(names.map((n) => [n, new Set<string>()]));
    const watch = async (): Promise<void> => {
      for (const name of names) for (const serial of await chainSerials(mesh, name)) seen.get(name)!.add(serial);
    };
    await watch();
    const firstCa = (await mesh.admin('front').serials()).ca;
    const load = new BackgroundLoad(mesh, 2, 20, mesh.mode === 'envoy-bin' ? 0 : 500);
    // Initial leaf plus two rotations on every Envoy.
    await waitFor('two leaf rotations on every Envoy', async () => {
      await watch();
      return names.every((n) => seen.get(n)!.size >= 3);
    }, ROTATION_LEAF_TTL_SECONDS * 1000 * 3, 500);
    note(`leaf serials seen: ${names.map((n) => `${n} ${seen.get(n)!.size}`).join(', ')}`);
    if (mesh.meshdAdminUrl === undefined) {
      note('CA rollover SKIPPED: this meshd serve has no --admin (POST /ca/rollover is being added)');
    } else {
      const rollover = await httpPost(`${mesh.meshdAdminUrl}/ca/rollover`);
      check(rollover.status >= 200 && rollover.status < 300, `POST /ca/rollover answered ${rollover.status}: ${rollover.body}`);
      await waitFor('the new CA in every Envoy\'s trust', async () => {
        for (const name of names) {
          const ca = (await mesh.admin(name).serials()).ca;
          if (!ca.some((serial) => !firstCa.includes(serial))) return false;
        }
        return true;
      }, 60_000, 500);
      const beforeRotate = new Map(await Promise.all(names.map(async (n) => [n, await chainSerials(mesh, n)] as const)));
      const rotate = await httpPost(`${mesh.meshdAdminUrl}/rotate`);
      note(`POST /ca/rollover: ${rollover.status}; POST /rotate: ${rotate.status}`);
      await waitFor('leaves from the new CA on every Envoy', async () => {
        for (const name of names) {
          const now = await chainSerials(mesh, name);
          if (!now.some((serial) => !beforeRotate.get(name)!.includes(serial))) return false;
        }
        return true;
      }, 60_000, 500);
      const lastCa = (await mesh.admin('front').serials()).ca;
      note(`trust on front: ${firstCa.join(',')} -> ${lastCa.join(',')}`);
    }
    await sleep(2000);
    const result = await load.stop();
    expectNoFailures('traffic during rotation', result, 100);
    note(`${result.ok} requests during rotation, none failed`);
  },
};

export const specError: Scenario = {
  name: '5 a spec error pushed while traffic flows: refused, then the fix is applied and ACKed',
  start: () => ({}),
  async run(mesh, note) {
    const front = mesh.endpoint('front');
    const admin = mesh.admin('front');
    const egressRoutes = `rds_egress_http_${front.egressPort}`;
    const routeBefore = routeConfig(await admin.configDump(), egressRoutes);
    check(routeBefore !== undefined, `front has no route configuration ${egressRoutes}`);
    const load = new BackgroundLoad(mesh);
    await waitFor('traffic', async () => load.ok >= 10);
    const spec = mesh.spec();
    spec.edit('VirtualNode', 'front', ['spec', 'listeners', 0, 'tls', 'mode'], 'SOMETIMES');
    spec.save();
    await waitFor('meshd to refuse the change', async () => /SOMETIMES|must be STRICT, PERMISSIVE or DISABLED/.test(await mesh.meshdLog()), 15_000);
    note('meshd refused the bad change (its log names the field)');
    const okAtRefusal = load.ok;
    await waitFor('traffic after the refusal', async () => load.ok >= okAtRefusal + 20);
    const routeDuring = routeConfig(await admin.configDump(), egressRoutes);
    check(routeDuring?.version === routeBefore.version, `front's routes changed after a refused change: ${routeBefore.version} -> ${routeDuring?.version}`);
    // The fix restores the mode and makes a visible change: one more retry on the color route.
    const fix = mesh.spec();
    fix.edit('VirtualNode', 'front', ['spec', 'listeners', 0, 'tls', 'mode'], 'STRICT');
    fix.edit('Route', 'color-route', ['spec', 'httpRoute', 'retryPolicy', 'maxRetries'], 3);
    fix.save();
    const routeAfter = await waitFor('front to ACK the fixed routes', async () => {
      const now = routeConfig(await admin.configDump(), egressRoutes);
      return now && now.version !== routeBefore.version && JSON.stringify(now.routeConfig).includes('"num_retries":3') ? now : undefined;
    }, 30_000);
    note(`front holds routes version ${routeAfter.version} (was ${routeBefore.version}) with num_retries 3`);
    const okAtFix = load.ok;
    await waitFor('traffic after the fix', async () => load.ok >= okAtFix + 20);
    const result = await load.stop();
    expectNoFailures('traffic around the refused change and the fix', result, 50);
    note(`${result.ok} requests, none failed`);
  },
};

export const meshdRestart: Scenario = {
  name: '6 meshd restarted while traffic flows: Envoys keep serving, reconnect, same CA',
  start: () => ({}),
  async run(mesh, note) {
    const names = mesh.endpoints.map((e) => e.name);
    const connected = async (name: string): Promise<number> => mesh.admin(name).stat('control_plane.connected_state');
    for (const name of names) check((await connected(name)) === 1, `${name} is not connected to meshd at the start`);
    const caBefore = new Map(await Promise.all(names.map(async (n) => [n, (await mesh.admin(n).serials()).ca] as const)));
    const load = new BackgroundLoad(mesh);
    await waitFor('traffic', async () => load.ok >= 10);
    await mesh.stopMeshd();
    await waitFor('every Envoy to notice meshd is gone', async () => (await Promise.all(names.map(connected))).every((s) => s === 0), 30_000);
    const okDown = load.ok;
    await waitFor('traffic while meshd is down', async () => load.ok >= okDown + 30, 30_000);
    note(`meshd down: ${load.ok - okDown} requests served on the Envoys' current config`);
    await mesh.startMeshd();
    await waitFor('every Envoy to reconnect', async () => (await Promise.all(names.map(connected))).every((s) => s === 1), 60_000, 500);
    note('every Envoy reconnected (control_plane.connected_state 1)');
    const okUp = load.ok;
    await waitFor('traffic after the restart', async () => load.ok >= okUp + 20);
    const result = await load.stop();
    expectNoFailures('traffic across the meshd restart', result, 60);
    for (const name of names) {
      const ca = (await mesh.admin(name).serials()).ca;
      check(JSON.stringify(ca) === JSON.stringify(caBefore.get(name)), `${name}: trust changed across the restart: ${caBefore.get(name)!.join(',')} -> ${ca.join(',')}`);
    }
    note(`${result.ok} requests, none failed; CA serials unchanged (${caBefore.get('front')!.join(',')})`);
  },
};
