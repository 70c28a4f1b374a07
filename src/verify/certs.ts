// Reading Envoy's admin `/certs` JSON (envoy.admin.v3.Certificates): one entry per TLS context,
// each with its trust (`ca_cert`) and its own chain (`cert_chain`). Many contexts share the same
// certificate (every egress cluster holds the sidecar's leaf), so identical ones are merged.

const DAY_MS = 86_400_000;

/** One certificate Envoy holds. */
export interface CertificateInfo {
  /** `ca` for trust bundle entries, `chain` for the proxy's own certificate chain. */
  role: 'ca' | 'chain';
  /** File path, or `<inline>` for SDS-delivered material. */
  path: string;
  /** Serial number in hex, as Envoy prints it. */
  serial: string;
  /** Subject alternative names as `URI:...`, `DNS:...`, `IP:...`. */
  sans: string[];
  validFrom?: string;
  expiresAt?: string;
  /** Whole days until expiry (0 once expired). */
  daysUntilExpiry: number;
  /** Milliseconds until expiry at the time of reading (negative once expired). */
  remainingMs: number;
  /** Total validity, when Envoy printed both ends of it. */
  lifetimeMs?: number;
  /** How many TLS contexts hold this certificate. */
  contexts: number;
}

type Json = string | number | boolean | null | Json[] | { [key: string]: Json };

function isObject(value: Json | undefined): value is { [key: string]: Json } {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function arrayAt(obj: { [key: string]: Json }, key: string, where: string): Json[] {
  const value = obj[key];
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw new Error(`${where}${key}: expected an array`);
  return value;
}

function optionalString(obj: { [key: string]: Json }, key: string, where: string): string | undefined {
  const value = obj[key];
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value !== 'string') throw new Error(`${where}${key}: expected a string`);
  return value;
}

function timeOf(value: string | undefined, where: string): number | undefined {
  if (value === undefined) return undefined;
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) throw new Error(`${where}: "${value}" is not a timestamp`);
  return ms;
}

function sanOf(entry: Json, where: string): string {
  if (isObject(entry)) {
    for (const [key, label] of [['uri', 'URI'], ['dns', 'DNS'], ['ip_address', 'IP']] as const) {
      if (typeof entry[key] === 'string') return `${label}:${entry[key]}`;
    }
  }
  throw new Error(`${where}: expected {"uri"|"dns"|"ip_address": string}`);
}

function certificateOf(entry: Json, role: 'ca' | 'chain', where: string, now: number): CertificateInfo {
  if (!isObject(entry)) throw new Error(`${where}: expected an object`);
  const validFrom = optionalString(entry, 'valid_from', `${where}.`);
  const expiresAt = optionalString(entry, 'expiration_time', `${where}.`);
  const notBefore = timeOf(validFrom, `${where}.valid_from`);
  const notAfter = timeOf(expiresAt, `${where}.expiration_time`);
  // Envoy prints this uint64 as a string in some versions and as a number in others.
  const daysField = entry.days_until_expiration;
  const printedDays = typeof daysField === 'number' ? daysField : typeof daysField === 'string' && /^\d+$/.test(daysField) ? Number(daysField) : undefined;
  if (daysField !== undefined && printedDays === undefined) throw new Error(`${where}.days_until_expiration: expected a whole number`);
  let remainingMs: number;
  if (notAfter !== undefined) remainingMs = notAfter - now;
  else if (printedDays !== undefined) remainingMs = printedDays * DAY_MS;
  else throw new Error(`${where}: neither expiration_time nor days_until_expiration is given`);
  const info: CertificateInfo = {
    role,
    path: optionalString(entry, 'path', `${where}.`) ?? '',
    serial: optionalString(entry, 'serial_number', `${where}.`) ?? '',
    sans: arrayAt(entry, 'subject_alt_names', `${where}.`).map((san, i) => sanOf(san, `${where}.subject_alt_names[${i}]`)),
    daysUntilExpiry: Math.max(0, Math.floor(remainingMs / DAY_MS)),
    remainingMs,
    contexts: 1,
  };
  if (validFrom !== undefined) info.validFrom = validFrom;
  if (expiresAt !== undefined) info.expiresAt = expiresAt;
  if (notBefore !== undefined && notAfter !== undefined) info.lifetimeMs = notAfter - notBefore;
  return info;
}

/**
 * Parses `/certs` output; `now` is when it was read. Throws with the JSON path of anything that
 * is not in Envoy's shape.
 */
export function parseCertsJson(text: string, now: Date): CertificateInfo[] {
  let doc: Json;
  try {
    doc = JSON.parse(text) as Json;
  } catch (err) {
    throw new Error(`not JSON (${(err as Error).message})`);
  }
  if (!isObject(doc)) throw new Error('expected an object with "certificates"');
  const merged = new Map<string, CertificateInfo>();
  arrayAt(doc, 'certificates', '').forEach((context, i) => {
    if (!isObject(context)) throw new Error(`certificates[${i}]: expected an object`);
    for (const [key, role] of [['ca_cert', 'ca'], ['cert_chain', 'chain']] as const) {
      arrayAt(context, key, `certificates[${i}].`).forEach((entry, j) => {
        const cert = certificateOf(entry, role, `certificates[${i}].${key}[${j}]`, now.getTime());
        const id = `${role}\u0000${cert.path}\u0000${cert.serial}`;
        const seen = merged.get(id);
        if (seen) seen.contexts += 1;
        else merged.set(id, cert);
      });
    }
  });
  return [...merged.values()];
}
