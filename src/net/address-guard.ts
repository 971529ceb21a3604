import { isIP } from 'node:net';

/**
 * Refuses outbound connections to loopback, private, link-local, CGNAT, multicast and
 * cloud-metadata addresses, unless the operator allowed them (ROOST_ALLOW_PRIVATE_URLS=1).
 * The check runs on the resolved address at connect time, so DNS cannot smuggle a
 * private target past it.
 */
export function isPrivateAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 4) return isPrivateV4(address);
  if (family === 6) {
    const a = address.toLowerCase();
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(a);
    if (mapped) return isPrivateV4(mapped[1]!);
    return (
      a === '::' || a === '::1' || a.startsWith('fc') || a.startsWith('fd') || a.startsWith('fe8') ||
      a.startsWith('fe9') || a.startsWith('fea') || a.startsWith('feb') || a.startsWith('ff') || a.startsWith('64:ff9b')
    );
  }
  return true; // not an IP at all: refuse rather than guess
}

function isPrivateV4(address: string): boolean {
  const [a, b] = address.split('.').map(Number) as [number, number];
  return (
    a === 0 || a === 10 || a === 127 || a >= 224 ||
    (a === 100 && b >= 64 && b <= 127) || // CGNAT
    (a === 169 && b === 254) || // link-local, incl. 169.254.169.254 metadata
    (a === 172 && b >= 16 && b <= 31) ||
    (a === 192 && b === 168) ||
    (a === 192 && b === 0) ||
    (a === 198 && (b === 18 || b === 19))
  );
}

/** Checks a URL's scheme and, for IP-literal hosts, its address. Returns a reason when refused. */
export function checkTargetUrl(raw: string, allowPrivate: boolean, { requireHttps }: { requireHttps: boolean }): string | undefined {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return 'must be an absolute URL';
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return 'must use https';
  if (url.username || url.password) return 'must not contain credentials';
  if (requireHttps && url.protocol !== 'https:' && !allowPrivate) return 'must use https';
  if (allowPrivate) return undefined;
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (host === 'localhost' || host.endsWith('.localhost') || host.endsWith('.internal')) return 'must not point to a private address';
  if (isIP(host) && isPrivateAddress(host)) return 'must not point to a private address';
  return undefined;
}
