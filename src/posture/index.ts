// The mesh as the operator sees it: call paths and their effective TLS posture, from the model.
export { meshGraphs, resourceNodeId, type GraphNode, type GraphNodeKind, type MeshEdge, type MeshGraph } from './edges';
export { postureOf, POSTURES, POSTURE_LABELS, type Posture, type PostureFacts, type PostureResult } from './posture';
