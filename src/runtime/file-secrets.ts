// The file-backed secrets the mesh declares (`kind: Secret`), each a watched FileSecretSource.
// Kept in step with the model: new ones start, removed ones stop, changed paths restart.
import { FileSecretSource, type Refusal } from '../pki';
import type { MeshModel, SecretModel } from '../model/types';

export class FileSecrets {
  private readonly sources = new Map<string, { source: FileSecretSource; key: string }>();
  private readonly changeListeners: (() => void)[] = [];

  constructor(private readonly onRefused: (refusal: Refusal) => void = () => undefined) {}

  /** Calls `listener` whenever a source delivers a new certificate or bundle. */
  onChange(listener: () => void): void {
    this.changeListeners.push(listener);
  }

  private readonly changed = (): void => {
    for (const listener of this.changeListeners) listener();
  };

  get(mesh: string, secretName: string): FileSecretSource | undefined {
    return this.sources.get(`${mesh}/${secretName}`)?.source;
  }

  /** Starts, restarts and stops sources so they match the model's Secret resources. */
  async sync(model: MeshModel): Promise<void> {
    const wanted = new Map<string, SecretModel>(Object.entries(model.secrets));
    for (const [id, running] of [...this.sources]) {
      const secret = wanted.get(id);
      if (!secret || keyOf(secret) !== running.key) {
        this.sources.delete(id);
        await running.source.close();
      }
    }
    for (const [id, secret] of wanted) {
      if (this.sources.has(id)) continue;
      const p = secret.provision;
      const source = new FileSecretSource(p.kind === 'file-certificate'
        ? { name: id, certificateChainFile: p.certificateChain, privateKeyFile: p.privateKey }
        : { name: id, trustedCaFile: p.trustedCa });
      source.on('certificate', this.changed);
      source.on('trustBundle', this.changed);
      source.on('refused', this.onRefused);
      this.sources.set(id, { source, key: keyOf(secret) });
      await source.start();
    }
  }

  async close(): Promise<void> {
    for (const { source } of this.sources.values()) await source.close();
    this.sources.clear();
  }
}

function keyOf(secret: SecretModel): string {
  return JSON.stringify(secret.provision);
}
