// The file-system side of watching a spec directory: one fs.watch on the directory (inotify on
// Linux) names each entry that changed, at no cost beyond the event. chokidar, used before, listed
// and lstat-ed the whole directory on every event: with a few thousand spec files that was a good
// part of a one-file change. What the directory's watch cannot see is a change to the target of a
// symbolic link that points elsewhere, so each linked spec file is watched too (fs.watch follows
// the link to its target); a ConfigMap volume's atomic `..data` swap is an event in the directory.
//
// A watch on a directory keeps following it when it is renamed away, and goes quiet when it is
// removed; the owner re-checks the directory's identity (MeshWatcher) and opens a new watch on
// whatever is at the path then.
import { statSync, watch, type FSWatcher } from 'node:fs';
import * as path from 'node:path';

export interface SpecDirectoryWatchEvents {
  /** An entry of the directory (or a linked file's target) changed; undefined when the name is not known. */
  changed(name: string | undefined): void;
  /** Something of the directory's own name was renamed: the directory itself, moved away or removed? */
  renamed(): void;
  /** The watch failed and sees nothing more. */
  failed(message: string): void;
}

/** A linked spec file's watch, and the target (device and inode) it was opened on. */
interface LinkWatch {
  readonly target: string;
  readonly watcher: FSWatcher;
}

export class SpecDirectoryWatch {
  private readonly directory: FSWatcher;
  private readonly links = new Map<string, LinkWatch>();
  private closed = false;

  /** Starts watching `dir` (throws when it cannot be watched). */
  constructor(private readonly dir: string, private readonly events: SpecDirectoryWatchEvents) {
    const ownName = path.basename(dir);
    this.directory = watch(dir, (event, name) => {
      if (this.closed) return;
      // The directory's own name: it was moved away or removed (an entry of that name is rare,
      // and the check that follows costs little).
      if (event === 'rename' && name === ownName) this.events.renamed();
      this.events.changed(name ?? undefined);
    });
    this.directory.on('error', (err: Error) => {
      if (!this.closed) this.events.failed(err.message);
    });
  }

  /**
   * Watches the targets of the spec files that are symbolic links (`names`, as the last load
   * found them): a target not watched yet, or no longer the one watched, gets a new watch; links
   * gone lose theirs.
   */
  watchLinks(names: readonly string[]): void {
    if (this.closed) return;
    const wanted = new Set(names);
    for (const [name, link] of this.links) {
      if (!wanted.has(name)) this.unwatchLink(name, link);
    }
    for (const name of wanted) {
      const file = path.join(this.dir, name);
      let target: string;
      try {
        const stats = statSync(file);
        target = `${stats.dev}:${stats.ino}`;
      } catch {
        // A dangling link is an error of the load; a new target appears as an event in the directory or its ..data.
        const link = this.links.get(name);
        if (link) this.unwatchLink(name, link);
        continue;
      }
      // A target replaced (an editor's atomic save) is a new inode: the old watch sees nothing more.
      const existing = this.links.get(name);
      if (existing?.target === target) continue;
      if (existing) this.unwatchLink(name, existing);
      try {
        const watcher = watch(file, () => {
          if (!this.closed) this.events.changed(name);
        });
        watcher.on('error', () => {
          // The target went away: a reload finds out what the link leads to now.
          this.unwatchLink(name, { target, watcher });
          if (!this.closed) this.events.changed(name);
        });
        this.links.set(name, { target, watcher });
      } catch {
        // Gone between the check and the watch: the next load reads it again and reports it.
      }
    }
  }

  close(): void {
    this.closed = true;
    this.directory.close();
    for (const [name, link] of this.links) this.unwatchLink(name, link);
  }

  private unwatchLink(name: string, link: LinkWatch): void {
    if (this.links.get(name) === link) this.links.delete(name);
    link.watcher.close();
  }
}
