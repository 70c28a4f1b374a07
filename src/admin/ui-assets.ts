// The files of the /ui page: its HTML, script and style (src/admin/ui/, shipped with meshd) and
// the graph-layout library from its npm package. Nothing is fetched from elsewhere: the page's
// Content-Security-Policy allows only this server, so a stray external reference fails loudly.
import * as fs from 'node:fs';
import * as path from 'node:path';

export interface UiAsset {
  readonly body: Buffer;
  readonly contentType: string;
}

/** The page's own files, beside the sources (compiled code runs from dist/src/admin). */
const UI_DIR = path.resolve(__dirname, '..', '..', '..', 'src', 'admin', 'ui');

/** URL path -> file. */
function assetFiles(): Record<string, { file: string; contentType: string }> {
  const dagre = path.join(path.dirname(require.resolve('@dagrejs/dagre/package.json')), 'dist', 'dagre.min.js');
  return {
    '/ui': { file: path.join(UI_DIR, 'index.html'), contentType: 'text/html; charset=utf-8' },
    '/ui/': { file: path.join(UI_DIR, 'index.html'), contentType: 'text/html; charset=utf-8' },
    '/ui/app.js': { file: path.join(UI_DIR, 'app.js'), contentType: 'text/javascript; charset=utf-8' },
    '/ui/app.css': { file: path.join(UI_DIR, 'app.css'), contentType: 'text/css; charset=utf-8' },
    '/ui/dagre.min.js': { file: dagre, contentType: 'text/javascript; charset=utf-8' },
  };
}

/** Only this server, no inline script: every asset is one of the files above. */
export const UI_CONTENT_SECURITY_POLICY = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

export class UiAssets {
  private readonly cache = new Map<string, UiAsset>();

  /** The asset at `pathname`, or undefined when there is none; read once, then kept. */
  get(pathname: string): UiAsset | undefined {
    const cached = this.cache.get(pathname);
    if (cached) return cached;
    const entry = assetFiles()[pathname];
    if (!entry) return undefined;
    const asset = { body: fs.readFileSync(entry.file), contentType: entry.contentType };
    this.cache.set(pathname, asset);
    return asset;
  }
}
