import { BlockList, isIP } from 'node:net';

/**
 * Refuses outbound connections to loopback, private, link-local, CGNAT, multicast and
 * cloud-metadata addresses, unless the operator allowed them (ROOST_ALLOW_PRIVATE_URLS=1).
 * The check runs on the resolved address at connect time, so DNS cannot smuggle a
 * private target past it.
 */
export function isPrivateAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 0) return true; // not an IP at all: refuse rather than guess
  return PRIVATE.check(address, family === 4 ? 'ipv4' : 'ipv6');
}

/**
 * Ranges refused as targets. node's BlockList also matches IPv4-mapped IPv6 forms
 * (`::ffff:7f00:1`), so no spelling of a private address slips through.
 */
const PRIVATE = new BlockList();
for (const [net, bits] of [
  ['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16], ['172.16.0.0', 12],
  ['192.0.0.0', 24], ['192.168.0.0', 16], ['198.18.0.0', 15], ['224.0.0.0', 3],
] as const) PRIVATE.addSubnet(net, bits, 'ipv4');
// Besides loopback, unique-local, link-local and multicast: the forms that embed an IPv4
// address a router may unwrap (IPv4-compatible `::a.b.c.d`, IPv4-translated
// `::ffff:0:a.b.c.d`, NAT64, 6to4 and Teredo, the last two deprecated relays), the old
// site-local range, discard-only and documentation prefixes: none is a webhook's home.
for (const [net, bits] of [
  ['::', 96], ['::ffff:0:0:0', 96], ['64:ff9b::', 96], ['64:ff9b:1::', 48], ['100::', 64], ['2001::', 32],
  ['2001:db8::', 32], ['2002::', 16], ['fc00::', 7], ['fe80::', 10], ['fec0::', 10], ['ff00::', 8],
] as const) PRIVATE.addSubnet(net, bits, 'ipv6');

/**
 * The host as the guards compare it: IPv6 brackets off, and a fully qualified name's
 * final dot too (`localhost.` resolves like `localhost`).
 */
export function hostOf(url: URL): string {
  return url.hostname.replace(/^\[|\]$/g, '').replace(/\.$/, '');
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
  const host = hostOf(url);
  if (host === 'localhost' || host.endsWith('.localhost') || host.endsWith('.internal')) return 'must not point to a private address';
  if (isIP(host) && isPrivateAddress(host)) return 'must not point to a private address';
  return undefined;
}
