import { describe, expect, it } from 'vitest';
import { checkTargetUrl, isPrivateAddress } from '../../../src/net/address-guard.js';

describe('isPrivateAddress: IPv4', () => {
  it.each([
    ['127.0.0.1'], ['127.255.255.254'],
    ['10.0.0.0'], ['10.0.0.1'], ['10.255.255.255'],
    ['172.16.0.0'], ['172.16.0.1'], ['172.31.255.255'],
    ['192.168.0.1'], ['192.168.255.255'],
    ['169.254.169.254'], ['169.254.0.1'],
    ['100.64.0.0'], ['100.64.0.1'], ['100.127.255.255'],
    ['0.0.0.0'], ['0.1.2.3'],
    ['224.0.0.1'], ['239.255.255.250'], ['255.255.255.255'],
    ['192.0.0.1'], ['198.18.0.1'], ['198.19.255.255'],
  ])('%s is private', (a) => {
    expect(isPrivateAddress(a)).toBe(true);
  });

  it.each([
    ['8.8.8.8'], ['1.1.1.1'],
    ['172.15.255.255'], ['172.32.0.0'],
    ['100.63.255.255'], ['100.128.0.0'],
    ['169.253.255.255'], ['169.255.0.1'],
    ['192.167.255.255'], ['192.169.0.1'],
    ['11.0.0.1'], ['9.255.255.255'],
    ['126.255.255.255'], ['128.0.0.1'],
    ['198.17.255.255'], ['198.20.0.0'],
    ['223.255.255.255'],
  ])('%s is public', (a) => {
    expect(isPrivateAddress(a)).toBe(false);
  });
});

describe('isPrivateAddress: IPv6', () => {
  it.each([
    ['::1'], ['::'],
    ['fc00::'], ['fc00::1'], ['fd12:3456:789a::1'],
    ['fe80::'], ['fe80::1'], ['febf::1'], ['FE80::1'],
    ['ff02::1'],
    ['::ffff:127.0.0.1'], ['::ffff:10.1.2.3'], ['::ffff:169.254.169.254'], ['::FFFF:192.168.1.1'],
    ['64:ff9b::7f00:1'],
  ])('%s is private', (a) => {
    expect(isPrivateAddress(a)).toBe(true);
  });

  it.each([
    // The hexadecimal spelling of IPv4-mapped addresses, which is how WHATWG URL
    // serialises them: new URL('http://[::ffff:127.0.0.1]/').hostname === '[::ffff:7f00:1]'.
    ['::ffff:7f00:1'], ['::ffff:a9fe:a9fe'], ['::ffff:a00:1'], ['::ffff:c0a8:101'],
    // Uncompressed spellings of loopback and mapped loopback.
    ['0:0:0:0:0:0:0:1'], ['0:0:0:0:0:ffff:7f00:1'], ['0:0:0:0:0:ffff:127.0.0.1'],
  ])('%s (an alternative spelling of a private address) is private', (a) => {
    expect(isPrivateAddress(a)).toBe(true);
  });

  it.each([
    // IPv4-compatible (`::a.b.c.d`) and IPv4-translated (`::ffff:0:a.b.c.d`) loopback.
    ['::127.0.0.1'], ['::7f00:1'], ['::ffff:0:7f00:1'], ['::ffff:0:127.0.0.1'],
    // 6to4 and Teredo (deprecated relays that embed an IPv4 address), local-use NAT64.
    ['2002:7f00:1::'], ['2002:a00:1::1'], ['2001:0:4136:e378:8000:63bf:3fff:fdd2'], ['64:ff9b:1::a00:1'],
    // Site-local, discard-only, documentation.
    ['fec0::1'], ['100::1'], ['2001:db8::1'],
  ])('%s (an IPv6 form that embeds an IPv4 address, or is not routable) is private', (a) => {
    expect(isPrivateAddress(a)).toBe(true);
  });

  it.each([['2001:4860:4860::8888'], ['2001:4860::8888'], ['2606:4700:4700::1111'], ['::ffff:8.8.8.8']])('%s is public', (a) => {
    expect(isPrivateAddress(a)).toBe(false);
  });
});

describe('isPrivateAddress: not an IP', () => {
  it.each([['localhost'], ['example.com'], [''], ['256.1.1.1'], ['10.0.0'], ['1.2.3.4.5']])('%j is refused', (a) => {
    expect(isPrivateAddress(a)).toBe(true);
  });
});

describe('checkTargetUrl', () => {
  const strict = { requireHttps: true };
  const lax = { requireHttps: false };

  it('accepts public https URLs', () => {
    expect(checkTargetUrl('https://example.com/hook', false, strict)).toBeUndefined();
    expect(checkTargetUrl('https://8.8.8.8/hook', false, strict)).toBeUndefined();
    expect(checkTargetUrl('https://[2001:4860::8888]/hook', false, strict)).toBeUndefined();
    expect(checkTargetUrl('https://example.com:8443/a?b=c', false, strict)).toBeUndefined();
  });

  it.each([['not a url'], [''], ['/relative/path'], ['example.com/hook']])('refuses %j as not absolute', (raw) => {
    expect(checkTargetUrl(raw, false, strict)).toBe('must be an absolute URL');
  });

  it.each([['ftp://example.com/'], ['file:///etc/passwd'], ['javascript:alert(1)'], ['ws://example.com/']])(
    'refuses scheme of %s even when private targets are allowed',
    (raw) => {
      expect(checkTargetUrl(raw, false, lax)).toBe('must use https');
      expect(checkTargetUrl(raw, true, lax)).toBe('must use https');
    },
  );

  it('requires https when asked, unless private targets are allowed (local development)', () => {
    expect(checkTargetUrl('http://example.com/hook', false, strict)).toBe('must use https');
    expect(checkTargetUrl('http://example.com/hook', false, lax)).toBeUndefined();
    expect(checkTargetUrl('http://example.com/hook', true, strict)).toBeUndefined();
  });

  it('refuses credentials in the URL, even when private targets are allowed', () => {
    expect(checkTargetUrl('https://user:pass@example.com/hook', false, strict)).toBe('must not contain credentials');
    expect(checkTargetUrl('https://user@example.com/hook', false, strict)).toBe('must not contain credentials');
    expect(checkTargetUrl('https://:pass@example.com/hook', true, lax)).toBe('must not contain credentials');
  });

  it.each([
    ['https://localhost/hook'],
    ['https://LOCALHOST:3000/hook'],
    ['https://api.localhost/hook'],
    ['https://localhost./hook'],
    ['https://api.localhost./hook'],
    ['https://metadata.google.internal./computeMetadata/v1/'],
    ['https://metadata.google.internal/computeMetadata/v1/'],
    ['https://127.0.0.1/hook'],
    ['https://127.1/hook'],
    ['https://0x7f000001/hook'],
    ['https://2130706433/hook'],
    ['https://10.0.0.5/hook'],
    ['https://172.16.0.1/hook'],
    ['https://192.168.1.10/hook'],
    ['https://169.254.169.254/latest/meta-data/'],
    ['https://100.64.0.1/hook'],
    ['https://0.0.0.0/hook'],
    ['https://[::1]/hook'],
    ['https://[0:0:0:0:0:0:0:1]/hook'],
    ['https://[fc00::1]/hook'],
    ['https://[fe80::1]/hook'],
    ['https://[::ffff:127.0.0.1]/hook'],
    ['https://[::ffff:169.254.169.254]/latest/meta-data/'],
    ['https://[::ffff:10.0.0.1]/hook'],
    ['https://[::127.0.0.1]/hook'],
    ['https://[::ffff:0:7f00:1]/hook'],
    ['https://[2002:7f00:1::]/hook'],
  ])('refuses private target %s', (raw) => {
    expect(checkTargetUrl(raw, false, strict)).toBe('must not point to a private address');
  });

  it('allows private targets when the operator allows them', () => {
    for (const raw of ['http://localhost:3000/hook', 'http://127.0.0.1:9000/', 'https://[::1]/', 'http://169.254.169.254/']) {
      expect(checkTargetUrl(raw, true, strict)).toBeUndefined();
    }
  });

  it('does not refuse public hosts that merely look internal', () => {
    expect(checkTargetUrl('https://localhost.example.com/hook', false, strict)).toBeUndefined();
    expect(checkTargetUrl('https://internal.example.com/hook', false, strict)).toBeUndefined();
    expect(checkTargetUrl('https://172.32.0.1/hook', false, strict)).toBeUndefined();
  });
});
