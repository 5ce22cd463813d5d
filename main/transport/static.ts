/** Static renderer files from one directory; refuses anything that resolves outside it. */
import { readFile, realpath, stat } from 'node:fs/promises';
import { extname, resolve, sep } from 'node:path';
import { CSP, HttpError, bytes } from './respond.js';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.ico': 'image/x-icon',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.ttf': 'font/ttf',
  '.txt': 'text/plain; charset=utf-8',
  '.wasm': 'application/wasm',
};

export function contentTypeFor(path: string): string {
  return TYPES[extname(path).toLowerCase()] ?? 'application/octet-stream';
}

/** `pathname` as it came in the URL (percent-encoded). */
export async function serveStatic(root: string, pathname: string): Promise<Response> {
  let decoded: string;
  try {
    decoded = decodeURIComponent(pathname);
  } catch {
    throw new HttpError('BAD_REQUEST', 'malformed percent-encoding in the URL path');
  }
  if (decoded.includes('\0') || decoded.includes('\\') || decoded.split('/').some((s) => s === '..' || s === '.')) {
    throw new HttpError('BAD_REQUEST', 'path traversal refused');
  }
  const rel = decoded === '/' || decoded === '' ? '/index.html' : decoded;
  const base = resolve(root);
  const file = resolve(base, '.' + rel);
  if (!file.startsWith(base + sep)) throw new HttpError('BAD_REQUEST', 'path traversal refused');
  let real: string;
  try {
    real = await realpath(file);
    const realBase = await realpath(base);
    if (!real.startsWith(realBase + sep)) throw new HttpError('BAD_REQUEST', 'path traversal refused');
    if (!(await stat(real)).isFile()) throw new HttpError('NOT_FOUND', `not found: ${rel}`);
  } catch (e) {
    if (e instanceof HttpError) throw e;
    throw new HttpError('NOT_FOUND', `not found: ${rel}`);
  }
  const type = contentTypeFor(real);
  const extra: Record<string, string> = type.startsWith('text/html') ? { 'Content-Security-Policy': CSP } : {};
  return bytes(await readFile(real), type, 'no-cache', extra);
}
