// A secret backed by files an operator (or cert-manager, or a SPIRE helper) maintains: a
// certificate chain and key, and/or a CA bundle. The directories are watched with chokidar (a
// directory watch survives atomic renames, which replace the file's inode); changes are debounced,
// then the files are re-read and validated together. A valid new pair becomes the served version;
// anything else is refused with one log line naming the file and the reason, counted, and the
// previous good material keeps being served.
import { EventEmitter } from 'node:events';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { watch, type FSWatcher } from 'chokidar';
import { logger, type Logger } from '../log';
import { MaterialError, validateTlsCertificate, validateTrustBundle } from './pem-validation';
import type { TlsCertificateMaterial, TrustBundleMaterial } from './types';

export interface FileSecretSourceOptions {
  /** Secret name, used in logs and events. */
  name: string;
  /** Certificate chain PEM (leaf first). Needs `privateKeyFile`. */
  certificateChainFile?: string;
  /** Private key PEM matching the chain's leaf. Needs `certificateChainFile`. */
  privateKeyFile?: string;
  /** Trusted CA bundle PEM. */
  trustedCaFile?: string;
  /** Quiet period after the last file event before re-reading (default 100 ms). */
  debounceMs?: number;
  /** Logger (default `logger('pki-file-source')`). */
  log?: Logger;
}

/** A refused load: which file and why. */
export interface Refusal {
  secret: string;
  file: string;
  reason: string;
  /** Refusals so far by this source, this one included. */
  count: number;
}

export interface FileSecretSourceEvents {
  /** A new valid certificate/key pair is being served. */
  certificate: [material: TlsCertificateMaterial];
  /** A new valid CA bundle is being served. */
  trustBundle: [material: TrustBundleMaterial];
  /** New file contents were refused; the previous material stays. */
  refused: [refusal: Refusal];
}

export class FileSecretSource extends EventEmitter<FileSecretSourceEvents> {
  readonly name: string;
  readonly #options: FileSecretSourceOptions;
  readonly #log: Logger;
  readonly #files: Set<string>;
  #certificate: TlsCertificateMaterial | undefined;
  #trustBundle: TrustBundleMaterial | undefined;
  #refusals = 0;
  #watcher: FSWatcher | undefined;
  #debounce: NodeJS.Timeout | undefined;
  #loading: Promise<void> | undefined;
  #reloadAgain = false;
  #closed = false;

  constructor(options: FileSecretSourceOptions) {
    super();
    if ((options.certificateChainFile === undefined) !== (options.privateKeyFile === undefined)) {
      throw new Error(`file secret "${options.name}": certificateChainFile and privateKeyFile go together`);
    }
    if (!options.certificateChainFile && !options.trustedCaFile) {
      throw new Error(`file secret "${options.name}": needs certificateChainFile + privateKeyFile, trustedCaFile, or both`);
    }
    this.name = options.name;
    this.#options = options;
    this.#log = options.log ?? logger('pki-file-source');
    this.#files = new Set([options.certificateChainFile, options.privateKeyFile, options.trustedCaFile].filter((f): f is string => f !== undefined).map((f) => path.resolve(f)));
  }

  /** The certificate being served, if a valid one has been loaded. */
  get certificate(): TlsCertificateMaterial | undefined {
    return this.#certificate;
  }

  /** The CA bundle being served, if a valid one has been loaded. */
  get trustBundle(): TrustBundleMaterial | undefined {
    return this.#trustBundle;
  }

  /** Refusals so far (for a metric). */
  get refusals(): number {
    return this.#refusals;
  }

  /**
   * Starts watching, then loads the files. An invalid initial load is refused like any other (log
   * line, event, count) and the source keeps watching: the material appears once the files are good.
   * Returns whether everything configured loaded.
   */
  async start(): Promise<boolean> {
    const dirs = [...new Set([...this.#files].map((file) => path.dirname(file)))];
    const watcher = watch(dirs, { ignoreInitial: true, depth: 0, atomic: false });
    this.#watcher = watcher;
    watcher.on('all', (_event, changed) => {
      if (this.#files.has(path.resolve(changed))) this.#scheduleReload();
    });
    watcher.on('error', (err) => this.#log.error({ secret: this.name, err: (err as Error).message }, 'file watcher error'));
    await new Promise<void>((resolve) => watcher.once('ready', resolve));
    await this.#reload();
    return (!this.#options.certificateChainFile || this.#certificate !== undefined) && (!this.#options.trustedCaFile || this.#trustBundle !== undefined);
  }

  /** Stops watching and cancels a pending reload. */
  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#debounce);
    await this.#watcher?.close();
    await this.#loading;
  }

  #scheduleReload(): void {
    if (this.#closed) return;
    clearTimeout(this.#debounce);
    this.#debounce = setTimeout(() => {
      this.#debounce = undefined;
      void this.#reload();
    }, this.#options.debounceMs ?? 100);
  }

  /** One load at a time; events during a load cause one more load afterwards. */
  async #reload(): Promise<void> {
    if (this.#loading) {
      this.#reloadAgain = true;
      return this.#loading;
    }
    this.#loading = (async () => {
      do {
        this.#reloadAgain = false;
        await this.#loadOnce();
      } while (this.#reloadAgain && !this.#closed);
    })().finally(() => { this.#loading = undefined; });
    return this.#loading;
  }

  async #loadOnce(): Promise<void> {
    const { certificateChainFile, privateKeyFile, trustedCaFile } = this.#options;
    if (certificateChainFile && privateKeyFile) {
      try {
        const [chain, key] = await Promise.all([readText(certificateChainFile), readText(privateKeyFile)]);
        const material = validateTlsCertificate(chain, certificateChainFile, key, privateKeyFile);
        if (material.version !== this.#certificate?.version) {
          this.#certificate = material;
          this.#log.info({ secret: this.name, file: certificateChainFile, serial: material.serial, version: material.version }, 'loaded certificate');
          this.emit('certificate', material);
        }
      } catch (err) {
        this.#refuse(err, certificateChainFile);
      }
    }
    if (trustedCaFile) {
      try {
        const material = validateTrustBundle(await readText(trustedCaFile), trustedCaFile);
        if (material.version !== this.#trustBundle?.version) {
          this.#trustBundle = material;
          this.#log.info({ secret: this.name, file: trustedCaFile, caSerials: material.caSerials, version: material.version }, 'loaded CA bundle');
          this.emit('trustBundle', material);
        }
      } catch (err) {
        this.#refuse(err, trustedCaFile);
      }
    }
  }

  #refuse(thrown: unknown, file: string): void {
    // Only our own MaterialError reasons are logged verbatim; anything else is summarized.
    const err = thrown instanceof MaterialError ? thrown : new MaterialError(file, `unexpected validation failure (${(thrown as Error).name ?? 'error'})`);
    this.#refusals++;
    const refusal: Refusal = { secret: this.name, file: err.file, reason: err.reason, count: this.#refusals };
    const keeping = this.#certificate || this.#trustBundle ? 'keeping the previous version' : 'nothing to serve yet';
    this.#log.warn({ secret: this.name, file: err.file, reason: err.reason }, `refused ${err.file}: ${err.reason}; ${keeping}`);
    this.emit('refused', refusal);
  }
}

async function readText(file: string): Promise<string> {
  try {
    return await fs.readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new MaterialError(file, code === 'ENOENT' ? 'file does not exist (deleted?)' : `cannot be read (${code ?? 'error'})`);
  }
}
