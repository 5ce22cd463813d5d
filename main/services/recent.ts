/** Recently opened files, persisted atomically (write temp + rename) as JSON in the host's config dir. */
import { mkdir, readFile, rename, writeFile, unlink } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { RecentFileDTO } from '../contract/slides.js';

export const RECENT_FILE = 'recent.json';
export const MAX_RECENT = 20;

export class RecentFiles {
  private items: RecentFileDTO[] | null = null;
  private saving: Promise<void> = Promise.resolve();

  /** `configDir` undefined: kept in memory only. */
  constructor(readonly configDir?: string) {}

  get file(): string | undefined {
    return this.configDir ? join(this.configDir, RECENT_FILE) : undefined;
  }

  async list(): Promise<RecentFileDTO[]> {
    return [...(await this.load())];
  }

  async add(path: string, now = new Date()): Promise<void> {
    const items = await this.load();
    const next = [{ path, name: basename(path), openedAt: now.toISOString() }, ...items.filter((r) => r.path !== path)].slice(0, MAX_RECENT);
    this.items = next;
    await this.save(next);
  }

  private async load(): Promise<RecentFileDTO[]> {
    if (this.items) return this.items;
    let items: RecentFileDTO[] = [];
    if (this.file) {
      try {
        const parsed: unknown = JSON.parse(await readFile(this.file, 'utf8'));
        if (Array.isArray(parsed)) {
          items = parsed
            .filter((r): r is RecentFileDTO => !!r && typeof r.path === 'string' && typeof r.openedAt === 'string')
            .map((r) => ({ path: r.path, name: basename(r.path), openedAt: r.openedAt }))
            .slice(0, MAX_RECENT);
        }
      } catch {
        /* missing or unreadable: start empty (a corrupt file is replaced on the next save) */
      }
    }
    this.items = items;
    return items;
  }

  private save(items: RecentFileDTO[]): Promise<void> {
    const file = this.file;
    if (!file || !this.configDir) return Promise.resolve();
    const dir = this.configDir;
    // serialise writes so an older list never lands after a newer one
    this.saving = this.saving.then(async () => {
      await mkdir(dir, { recursive: true });
      const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
      try {
        await writeFile(tmp, JSON.stringify(items, null, 2) + '\n', 'utf8');
        await rename(tmp, file);
      } catch (e) {
        await unlink(tmp).catch(() => {});
        throw e;
      }
    });
    const p = this.saving;
    this.saving = p.catch(() => {});
    return p;
  }
}
