// The mesh view page. meshd pushes the whole view over Server-Sent Events (/view/events) whenever
// it changes; this script only draws what arrives: it never asks again (the one timer ticks the
// certificate countdowns locally). Maps are laid out by dagre (served from meshd's own npm
// dependency). Everything shown comes from meshd's JSON and is set as text, never as HTML: NACK
// messages and error texts come from proxies and files.
'use strict';

/* global dagre */

const SVG = 'http://www.w3.org/2000/svg';
const POSTURES = ['mtls-san', 'mtls', 'tls', 'permissive', 'plaintext', 'broken'];
const LABELS = {
  'mtls-san': 'mTLS, SAN checked',
  mtls: 'mTLS, no SAN check',
  tls: 'one-way TLS',
  permissive: 'PERMISSIVE',
  plaintext: 'plaintext',
  broken: 'broken',
};
const EXPLAIN = {
  'mtls-san': 'both sides present certificates; the provider checks the caller\'s SAN',
  mtls: 'both sides present certificates; the provider checks only the trust',
  tls: 'encrypted; the caller presents no certificate',
  permissive: 'the provider also accepts plaintext on this port',
  plaintext: 'not encrypted',
  broken: 'the two sides cannot agree: handshakes fail',
};
const KIND_LABELS = { virtualGateway: 'gateway', virtualNode: 'virtual node', virtualService: 'service', virtualRouter: 'router' };

/** What the user selected, kept across pushes: { type: 'edge' | 'endpoint', id }. */
let selected;
/** The latest view. */
let current;

function el(tag, attributes, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name === 'text') node.textContent = String(value);
    else if (name === 'class') node.className = value;
    else node.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children) if (child !== undefined && child !== null) node.append(child);
  return node;
}

function svg(tag, attributes, ...children) {
  const node = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attributes || {})) {
    if (value === undefined || value === null) continue;
    if (name === 'text') node.textContent = String(value);
    else node.setAttribute(name, String(value));
  }
  for (const child of children) if (child) node.append(child);
  return node;
}

/** `mesh/m/virtualNode/front` -> `front`. */
function shortName(id) {
  return id.split('/').slice(3).join('/');
}

function short(version) {
  return version ? version.slice(0, 10) : '–';
}

/** "in 23h 59m 10s" / "EXPIRED 5m ago", from now. */
function countdown(iso) {
  const ms = new Date(iso).getTime() - Date.now();
  const s = Math.round(Math.abs(ms) / 1000);
  const text = s >= 86400 ? `${Math.floor(s / 86400)}d ${Math.floor((s % 86400) / 3600)}h`
    : s >= 3600 ? `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m ${s % 60}s`
      : s >= 60 ? `${Math.floor(s / 60)}m ${s % 60}s` : `${s}s`;
  return ms <= 0 ? `EXPIRED ${text} ago` : `in ${text}`;
}

function sync(value) {
  return `${value.inSync}/${value.proxies}`;
}

function drawLegend() {
  const list = document.getElementById('legend');
  for (const posture of POSTURES) {
    list.append(el('li', { class: `posture-${posture}`, 'data-posture': posture },
      svg('svg', { viewBox: '0 0 64 14', 'aria-hidden': 'true' }, svg('line', { class: 'sample', x1: 2, y1: 7, x2: 62, y2: 7, 'stroke-width': 3 })),
      el('span', { class: 'badge', text: LABELS[posture] }),
      el('span', { text: EXPLAIN[posture] })));
  }
}

function drawSummary(view) {
  const edges = view.meshes.flatMap((mesh) => mesh.edges);
  const counts = POSTURES.map((posture) => [posture, edges.filter((edge) => edge.posture === posture).length]).filter(([, n]) => n > 0);
  const proxies = view.endpoints.reduce((n, endpoint) => n + endpoint.sync.proxies, 0);
  document.getElementById('summary').textContent = view.revision === null
    ? 'No valid mesh has been loaded yet.'
    : `Revision ${view.revision} · ${edges.length} paths (${counts.map(([p, n]) => `${n} ${LABELS[p]}`).join(', ') || 'none'}) · ${proxies} proxies connected · updated ${new Date(view.generatedAt).toLocaleTimeString()}`;
}

function drawRefused(view) {
  const box = document.getElementById('refused');
  box.replaceChildren();
  box.hidden = !view.refused;
  if (!view.refused) return;
  box.append(
    el('h2', { text: `A spec change was refused (${new Date(view.refused.at).toLocaleString()})` }),
    el('p', { text: `meshd still serves revision ${view.revision ?? 'none'}. Every error of the refused change:` }),
    el('ul', {}, ...view.refused.errors.map((error) => el('li', { text: error }))));
}

function drawRollover(view) {
  const box = document.getElementById('rollover');
  const rollover = view.rollover;
  box.replaceChildren();
  box.hidden = !rollover.inProgress;
  if (!rollover.inProgress) return;
  box.append(
    el('strong', { text: `CA rollover in progress: ${rollover.previousCaId} → ${rollover.currentCaId}. ` }),
    el('span', { text: `${rollover.moved} of ${rollover.leaves} leaves moved to ${rollover.currentCaId} ` }),
    el('progress', { max: Math.max(rollover.leaves, 1), value: rollover.moved, 'aria-label': 'leaves moved to the new CA' }),
    el('span', { text: ` · trust bundle holds ${view.trustBundle.caSerials.length} CAs` }));
}

/** Node box size from its longest line. */
function nodeSize(node) {
  const longest = Math.max(node.name.length, KIND_LABELS[node.kind].length + 2, 14);
  return { width: Math.min(Math.max(longest * 7.2 + 24, 110), 320), height: node.endpoint ? 58 : 44 };
}

function pathData(points) {
  return points.map((p, i) => `${i === 0 ? 'M' : 'L'}${p.x.toFixed(1)},${p.y.toFixed(1)}`).join(' ');
}

function edgeDescription(edge) {
  return `${shortName(edge.caller)} to ${edge.service}${edge.router ? ` via router ${edge.router}` : ''} to ${shortName(edge.provider)} port ${edge.port}: ${LABELS[edge.posture]}. Proxies in sync: caller ${sync(edge.callerSync)}, provider ${sync(edge.providerSync)}.`;
}

function drawMap(graph, endpointsById) {
  const layout = new dagre.graphlib.Graph({ multigraph: true });
  layout.setGraph({ rankdir: 'LR', nodesep: 36, ranksep: 90, edgesep: 18, marginx: 12, marginy: 12 });
  layout.setDefaultEdgeLabel(() => ({}));
  for (const node of graph.nodes) layout.setNode(node.id, { ...nodeSize(node), node });
  graph.edges.forEach((edge) => {
    for (let i = 0; i + 1 < edge.path.length; i += 1) {
      const last = i + 2 === edge.path.length;
      layout.setEdge(edge.path[i], edge.path[i + 1], last ? { width: 120, height: 16, labelpos: 'c' } : {}, `${edge.id}#${i}`);
    }
  });
  dagre.layout(layout);
  const size = layout.graph();
  const map = svg('svg', { class: 'map', viewBox: `0 0 ${Math.ceil(size.width)} ${Math.ceil(size.height)}`, role: 'group', 'aria-label': `Map of mesh ${graph.mesh}` });
  map.append(svg('defs', {}, ...POSTURES.map((posture) => svg('marker', {
    id: `arrow-${graph.mesh}-${posture}`, class: `posture-${posture}`, viewBox: '0 0 10 10', refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: 'auto-start-reverse',
  }, svg('path', { class: 'arrow', d: 'M0,0 L10,5 L0,10 z' })))));
  const edgesLayer = svg('g', { class: 'edges' });
  const nodesLayer = svg('g', { class: 'nodes' });
  graph.edges.forEach((edge, index) => {
    const group = svg('g', {
      class: `edge posture-${edge.posture}`, tabindex: 0, role: 'button', 'data-edge-id': edge.id, 'data-posture': edge.posture,
      'data-caller': edge.caller, 'data-service': edge.service, 'data-provider': edge.provider, 'data-port': edge.port,
      'data-index': index, 'aria-label': edgeDescription(edge),
    });
    group.append(svg('title', { text: `${edgeDescription(edge)} ${edge.reason}` }));
    for (let i = 0; i + 1 < edge.path.length; i += 1) {
      const placed = layout.edge(edge.path[i], edge.path[i + 1], `${edge.id}#${i}`);
      const last = i + 2 === edge.path.length;
      group.append(svg('path', { class: 'halo', d: pathData(placed.points) }));
      group.append(svg('path', { class: 'segment', d: pathData(placed.points), ...(last ? { 'marker-end': `url(#arrow-${graph.mesh}-${edge.posture})` } : {}) }));
      if (last) group.append(svg('text', { class: 'edge-label', x: placed.x, y: placed.y + 4, 'text-anchor': 'middle', text: `${LABELS[edge.posture]} :${edge.port}` }));
    }
    if (selected && selected.type === 'edge' && selected.id === edge.id) group.classList.add('selected');
    edgesLayer.append(group);
  });
  for (const node of graph.nodes) {
    const placed = layout.node(node.id);
    const endpoint = node.endpoint ? endpointsById.get(node.endpoint) : undefined;
    const x = placed.x - placed.width / 2;
    const y = placed.y - placed.height / 2;
    const group = svg('g', {
      class: `node ${node.kind}`, 'data-node-id': node.id, 'data-kind': node.kind,
      ...(endpoint ? { tabindex: 0, role: 'button', 'data-endpoint': endpoint.id, 'aria-label': `${KIND_LABELS[node.kind]} ${node.name}: ${sync(endpoint.sync)} proxies in sync` } : {}),
    });
    group.append(svg('rect', { x, y, width: placed.width, height: placed.height, rx: node.kind === 'virtualRouter' ? 16 : 4 }));
    group.append(svg('text', { class: 'kind', x: x + 10, y: y + 15, text: KIND_LABELS[node.kind] }));
    group.append(svg('text', { class: 'name', x: x + 10, y: y + 31, text: node.name }));
    if (endpoint) group.append(svg('text', { class: 'proxies', x: x + 10, y: y + 47, text: `proxies in sync ${sync(endpoint.sync)}${endpoint.form === 'grpc' ? ' · gRPC' : ''}` }));
    if (selected && selected.type === 'endpoint' && selected.id === node.endpoint) group.classList.add('selected');
    nodesLayer.append(group);
  }
  map.append(edgesLayer, nodesLayer);
  return map;
}

function drawPathTable(graph) {
  const body = el('tbody');
  for (const edge of graph.edges) {
    body.append(el('tr', { tabindex: 0, 'data-row-edge-id': edge.id, class: selected && selected.type === 'edge' && selected.id === edge.id ? 'selected' : undefined },
      el('td', { text: shortName(edge.caller) }),
      el('td', { text: edge.service + (edge.router ? ` (${edge.router})` : '') }),
      el('td', { text: shortName(edge.provider) }),
      el('td', { text: `${edge.port}/${edge.protocol}` }),
      el('td', { class: `posture-${edge.posture}` }, el('span', { class: 'badge', text: LABELS[edge.posture] })),
      el('td', { text: `${sync(edge.callerSync)} → ${sync(edge.providerSync)}` })));
  }
  return el('table', { class: 'paths' },
    el('caption', { class: 'hint', text: 'The same paths as text. Proxies in sync: caller → provider, running what meshd serves / connected.' }),
    el('thead', {}, el('tr', {}, ...['Caller', 'Service', 'Provider', 'Port', 'Posture', 'Proxies in sync'].map((h) => el('th', { scope: 'col', text: h })))),
    body);
}

function drawMeshes(view) {
  const container = document.getElementById('meshes');
  const endpointsById = new Map(view.endpoints.map((endpoint) => [endpoint.id, endpoint]));
  container.replaceChildren(...view.meshes.map((graph) => el('section', { class: 'mesh', 'data-mesh': graph.mesh, 'aria-label': `mesh ${graph.mesh}` },
    el('h2', { text: `Mesh ${graph.mesh}` }),
    drawMap(graph, endpointsById),
    drawPathTable(graph))));
  if (view.meshes.length === 0) container.append(el('p', { class: 'hint', text: 'No mesh is being served.' }));
}

function typeRow(type) {
  return el('tr', {},
    el('td', { text: type.type }),
    el('td', { class: 'mono', text: short(type.sent && type.sent.version) }),
    el('td', { class: 'mono', text: short(type.acked && type.acked.version) }),
    el('td', { class: `state-${type.state}`, text: type.state.replace('_', ' ') }),
    el('td', { class: type.lastNack ? 'nack' : undefined, 'data-nack': type.lastNack ? 'true' : undefined, text: type.lastNack ? `${short(type.lastNack.version)} at ${new Date(type.lastNack.at).toLocaleTimeString()}: ${type.lastNack.message}` : '–' }));
}

/** Which CA generation issued a leaf: the current one, or the one a rollover is retiring. */
function caGeneration(caId) {
  const rollover = current.rollover;
  if (caId === rollover.currentCaId) return rollover.inProgress ? 'new generation, rollover in progress' : 'current generation';
  if (caId === rollover.previousCaId) return 'previous generation, being retired: this leaf has not moved yet';
  return 'a CA no longer in the bundle';
}

function drawEndpoint(endpoint) {
  const certificate = endpoint.certificate;
  const section = el('section', { class: 'endpoint', 'data-endpoint-card': endpoint.id, id: `endpoint-${endpoint.id.replace(/[^A-Za-z0-9_-]/g, '_')}` },
    el('h3', { text: `${KIND_LABELS[endpoint.kind]} ${endpoint.name} · mesh ${endpoint.mesh} · ${endpoint.form === 'grpc' ? 'proxyless gRPC' : 'Envoy'} · ${sync(endpoint.sync)} proxies in sync` }));
  if (certificate) {
    section.append(el('dl', { class: 'certificate' },
      el('dt', { text: 'certificate serial' }), el('dd', { class: 'mono', 'data-serial': certificate.serial, text: certificate.serial }),
      el('dt', { text: 'SANs' }), el('dd', { class: 'mono', text: certificate.sans.join(', ') }),
      el('dt', { text: 'not after' }), el('dd', {}, el('span', { text: `${new Date(certificate.notAfter).toLocaleString()} ` }),
        el('span', { class: 'countdown', 'data-not-after': certificate.notAfter, text: `(${countdown(certificate.notAfter)})` })),
      el('dt', { text: 'issued by' }), el('dd', { 'data-ca': certificate.caId, text: `CA ${certificate.caId} (${caGeneration(certificate.caId)})` })));
  } else {
    section.append(el('p', { class: 'hint', text: 'No certificate issued yet (none of its proxies has asked for one).' }));
  }
  if (endpoint.proxies.length === 0) {
    section.append(el('p', { class: 'hint', text: 'No proxy connected.' }));
    return section;
  }
  for (const proxy of endpoint.proxies) {
    section.append(el('div', { class: 'proxy', 'data-stream': proxy.streamId },
      el('p', { text: `${proxy.form === 'grpc' ? 'proxyless gRPC' : 'Envoy'} · ${proxy.service} ${proxy.flavor} over ${proxy.transport} · ${proxy.userAgentName || 'unknown client'} · connected ${new Date(proxy.connectedSince).toLocaleTimeString()}` }),
      el('table', {},
        el('thead', {}, el('tr', {}, ...['Type', 'Version sent', 'Version ACKed', 'State', 'Last NACK'].map((h) => el('th', { scope: 'col', text: h })))),
        el('tbody', {}, ...proxy.types.map(typeRow)))));
  }
  return section;
}

function drawEndpoints(view) {
  document.getElementById('endpoints').replaceChildren(...view.endpoints.map(drawEndpoint));
}

function drawDetails(view) {
  const panel = document.getElementById('details');
  if (!selected) return;
  if (selected.type === 'edge') {
    const edge = view.meshes.flatMap((mesh) => mesh.edges).find((candidate) => candidate.id === selected.id);
    if (!edge) {
      panel.replaceChildren(el('p', { class: 'hint', text: 'The selected path is no longer in the mesh.' }));
      return;
    }
    const facts = edge.facts;
    const yes = (value) => (value ? 'yes' : 'no');
    panel.replaceChildren(
      el('h2', { class: `posture-${edge.posture}` }, el('span', { class: 'badge', text: LABELS[edge.posture] }), ` ${shortName(edge.caller)} → ${edge.service} → ${shortName(edge.provider)}:${edge.port}`),
      el('p', { 'data-reason': 'true', text: edge.reason }),
      el('dl', {},
        el('dt', { text: 'provider listener tls.mode' }), el('dd', { text: facts.providerMode }),
        el('dt', { text: 'client policy' }), el('dd', { text: `${facts.clientPolicy}${facts.clientPolicy !== 'none' ? (facts.clientPolicyApplies ? ' (enforces TLS on this port)' : ' (does not apply to this port)') : ''}` }),
        el('dt', { text: 'encrypted' }), el('dd', { text: yes(facts.encrypted) }),
        el('dt', { text: 'caller presents a certificate' }), el('dd', { text: yes(facts.callerPresentsCertificate) }),
        el('dt', { text: 'caller verifies the provider' }), el('dd', { text: yes(facts.callerVerifiesProvider) }),
        el('dt', { text: 'provider requires a client certificate' }), el('dd', { text: yes(facts.providerRequiresClientCertificate) }),
        el('dt', { text: 'provider checks the caller\'s SAN' }), el('dd', { text: yes(facts.providerChecksCallerSan) }),
        el('dt', { text: 'provider accepts plaintext' }), el('dd', { text: yes(facts.providerAcceptsPlaintext) }),
        el('dt', { text: 'routes' }), el('dd', { text: edge.routes.length ? `${edge.router}: ${edge.routes.join(', ')}` : '–' }),
        el('dt', { text: 'proxies in sync' }), el('dd', { text: `caller ${sync(edge.callerSync)}, provider ${sync(edge.providerSync)}` })));
    return;
  }
  const endpoint = view.endpoints.find((candidate) => candidate.id === selected.id);
  panel.replaceChildren(endpoint ? drawEndpoint(endpoint) : el('p', { class: 'hint', text: 'The selected endpoint is no longer in the mesh.' }));
}

/** Draws a view, keeping keyboard focus where it was. */
function render(view) {
  current = view;
  const active = document.activeElement;
  const focusKey = active && (active.getAttribute('data-edge-id') !== null ? ['data-edge-id', active.getAttribute('data-edge-id')]
    : active.getAttribute('data-endpoint') !== null ? ['data-endpoint', active.getAttribute('data-endpoint')]
      : active.getAttribute('data-row-edge-id') !== null ? ['data-row-edge-id', active.getAttribute('data-row-edge-id')] : undefined);
  drawSummary(view);
  drawRefused(view);
  drawRollover(view);
  drawMeshes(view);
  drawEndpoints(view);
  drawDetails(view);
  if (focusKey) {
    const again = [...document.querySelectorAll(`[${focusKey[0]}]`)].find((node) => node.getAttribute(focusKey[0]) === focusKey[1]);
    if (again) again.focus();
  }
  document.body.setAttribute('data-revision', view.revision === null ? '' : view.revision);
  document.body.setAttribute('data-generated-at', view.generatedAt);
}

function select(next) {
  selected = next;
  if (current) render(current);
}

function onActivate(target) {
  const edge = target.closest('[data-edge-id], [data-row-edge-id]');
  if (edge) {
    select({ type: 'edge', id: edge.getAttribute('data-edge-id') || edge.getAttribute('data-row-edge-id') });
    return true;
  }
  const node = target.closest('[data-endpoint]');
  if (node) {
    select({ type: 'endpoint', id: node.getAttribute('data-endpoint') });
    return true;
  }
  return false;
}

document.addEventListener('click', (event) => { onActivate(event.target); });
document.addEventListener('keydown', (event) => {
  const target = event.target;
  if (!(target instanceof Element)) return;
  if ((event.key === 'Enter' || event.key === ' ') && onActivate(target)) {
    event.preventDefault();
    return;
  }
  // Arrow keys step through the paths of the same map.
  const edge = target.closest('[data-edge-id]');
  if (edge && ['ArrowRight', 'ArrowDown', 'ArrowLeft', 'ArrowUp'].includes(event.key)) {
    const all = [...edge.closest('svg').querySelectorAll('[data-edge-id]')];
    const step = event.key === 'ArrowRight' || event.key === 'ArrowDown' ? 1 : -1;
    const next = all[(all.indexOf(edge) + step + all.length) % all.length];
    if (next) next.focus();
    event.preventDefault();
  }
});

// Countdowns run on the page's clock between pushes; nothing is fetched.
setInterval(() => {
  for (const node of document.querySelectorAll('[data-not-after]')) node.textContent = `(${countdown(node.getAttribute('data-not-after'))})`;
}, 1000);

function connect() {
  const status = document.getElementById('connection');
  const source = new EventSource('/view/events');
  source.addEventListener('open', () => { status.dataset.state = 'live'; status.textContent = 'live'; });
  source.addEventListener('view', (event) => { render(JSON.parse(event.data)); });
  source.addEventListener('error', (event) => {
    if (event.data) {
      document.getElementById('summary').textContent = JSON.parse(event.data).error;
      return;
    }
    // EventSource reconnects by itself (meshd asks for a retry after 1 s).
    status.dataset.state = 'reconnecting';
    status.textContent = 'reconnecting…';
  });
}

drawLegend();
connect();
