/**
 * Cross-site and DNS-rebinding guard for the HTTP host. The API can open files on this machine, so a web page
 * in the user's browser must not be able to drive it:
 *  - when bound to a loopback address, the Host header must name a loopback host on our port
 *    (a rebinding attack arrives with the attacker's host name);
 *  - state-changing requests (POST/PUT/PATCH/DELETE) must not be cross-site: an Origin header, when present,
 *    must be our own origin, and Sec-Fetch-Site must not be 'cross-site'/'same-site'.
 * Returns null when the request may proceed, else the reason (sent as a 403).
 */
import type { IncomingHttpHeaders } from 'node:http';

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]', '::1']);
const UNSAFE = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** a dotted-quad IPv4 address in 127.0.0.0/8 — exactly, so '127.0.0.1.attacker.example' is not one */
const LOOPBACK_V4 = /^127\.(?:25[0-5]|2[0-4]\d|1?\d?\d)\.(?:25[0-5]|2[0-4]\d|1?\d?\d)\.(?:25[0-5]|2[0-4]\d|1?\d?\d)$/;

export function isLoopbackAddress(address: string): boolean {
  return address === '::1' || address === 'localhost' || LOOPBACK_V4.test(address);
}

function hostAndPort(value: string): { host: string; port: string } | null {
  const m = /^(\[[0-9a-fA-F:.]+\]|[^:[\]]+)(?::(\d+))?$/.exec(value.trim());
  return m ? { host: m[1].toLowerCase(), port: m[2] ?? '80' } : null;
}

export function rejectForeignRequest(
  method: string,
  headers: IncomingHttpHeaders,
  server: { boundAddress: string; port: number },
): string | null {
  const hostHeader = headers.host;
  if (isLoopbackAddress(server.boundAddress)) {
    const hp = hostHeader ? hostAndPort(hostHeader) : null;
    if (!hp || !(LOOPBACK_HOSTS.has(hp.host) || LOOPBACK_V4.test(hp.host)) || hp.port !== String(server.port)) {
      return `host header '${hostHeader ?? ''}' is not this loopback server (127.0.0.1:${server.port})`;
    }
  }
  if (UNSAFE.has(method.toUpperCase())) {
    const site = headers['sec-fetch-site'];
    if (site === 'cross-site' || site === 'same-site') return `cross-site ${method} refused (Sec-Fetch-Site: ${site})`;
    const origin = headers.origin;
    if (origin !== undefined) {
      if (origin === 'null') return `${method} from an opaque origin refused`;
      const u = (() => {
        try {
          return new URL(origin);
        } catch {
          return null;
        }
      })();
      if (!u || u.protocol !== 'http:' || !hostHeader || u.host.toLowerCase() !== hostHeader.toLowerCase()) {
        return `cross-origin ${method} from '${origin}' refused`;
      }
    }
  }
  return null;
}
