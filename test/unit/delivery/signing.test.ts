import { createRequire } from 'node:module';
import { createSecretKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import {
  JwtVerificationError, signMessageBirdJwt, verifyMessageBirdJwt,
} from '../../../src/delivery/signing/messagebird-jwt.js';
import { signMessageBirdLegacy, verifyMessageBirdLegacy } from '../../../src/delivery/signing/messagebird-legacy.js';
import { signStandardWebhook, standardWebhooksSecret } from '../../../src/delivery/signing/standard-webhooks.js';

interface Vector {
  name: string;
  method: string;
  secret?: string;
  url: string;
  timestamp: string;
  token: string;
  valid: boolean;
  payload?: string;
  reason?: string;
}

// Official file from messagebird/messagebird-nodejs (BSD-2-Clause), copied unchanged.
const vectors: Vector[] = JSON.parse(
  readFileSync(resolve(import.meta.dirname, '../../fixtures/messagebird-webhook-signature-jwt-reference.json'), 'utf8'),
);

const require = createRequire(import.meta.url);
const official = require('messagebird/lib/webhook-signature-jwt') as {
  verify(url: string, payload: Buffer | null, jwt: string, key: unknown, opts?: unknown): Promise<boolean>;
};

describe('MessageBird-Signature-JWT verifier: official vectors', () => {
  it('has all 44 official entries', () => expect(vectors).toHaveLength(44));

  for (const v of vectors) {
    it(v.name, () => {
      const now = Date.parse(v.timestamp) / 1000;
      const body = v.payload === undefined ? null : Buffer.from(v.payload, 'utf8');
      const run = () => verifyMessageBirdJwt(v.token, v.url, body, v.secret ?? '', { nowSeconds: now });
      if (v.valid) expect(run).not.toThrow();
      else {
        expect(run).toThrow(JwtVerificationError);
        if (v.reason) expect(run).toThrow(v.reason);
      }
    });
  }

  it('accepts the Go SDK handler vector (iat instead of nbf, key hunter2)', () => {
    const token = 'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJNZXNzYWdlQmlyZCIsImlhdCI6MTYyNTQ3OTIwMCwiZXhwIjoxNjI1NDc5MjYwLCJqdGkiOiI1OWEyNDRkYy1lOWFkLTRlMjMtOTc3OC0zNzFmYWEyMzhmNzIiLCJ1cmxfaGFzaCI6IjBmMTE1ZGIwNjJiN2MwZGQwMzBiMTY4NzhjOTlkZWE1YzM1NGI0OWRjMzdiMzhlYjg4NDYxNzljNzc4M2U5ZDcifQ.SrhlKJ-ES4Dg8BBXKtop3u92Z_k4L4VjHKsyHWpweGE';
    expect(() => verifyMessageBirdJwt(token, 'https://example.com/', null, 'hunter2', { nowSeconds: 1625479200 })).not.toThrow();
    expect(() => verifyMessageBirdJwt(token, 'https://example.com/', null, '', { nowSeconds: 1625479200 })).toThrow();
  });
});

describe('MessageBird-Signature-JWT signer', () => {
  const find = (prefix: string) => vectors.find((v) => v.name.startsWith(prefix) && v.method === 'GET')!;
  const jtiOf = (token: string) => JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()).jti as string;

  it('reproduces official tokens V1, V3 and V13 byte for byte', () => {
    for (const name of ['Valid JWT with no URL parameters or payload', 'Valid JWT with URL parameters and payload', 'Special characters in the payload']) {
      const v = find(name);
      const token = signMessageBirdJwt(v.url, v.payload ?? '', v.secret!, Date.parse(v.timestamp) / 1000, jtiOf(v.token));
      expect(token).toBe(v.token);
    }
  });

  it('produces tokens the official SDK verify() accepts, with and without a body', async () => {
    const key = 'a-signing-key-of-some-length-123';
    const now = Math.floor(Date.now() / 1000);
    for (const [url, body] of [
      ['https://hooks.example.com/roost?x=1&a=2', '{"type":"message.created"}'],
      ['http://127.0.0.1:9999/h', ''],
    ] as const) {
      const token = signMessageBirdJwt(url, body, key, now);
      await expect(official.verify(url, body === '' ? null : Buffer.from(body), token, createSecretKey(Buffer.from(key)))).resolves.toBe(true);
      expect(() => verifyMessageBirdJwt(token, url, body === '' ? null : Buffer.from(body), key, { nowSeconds: now })).not.toThrow();
    }
  });

  it('binds the token to the URL and body', () => {
    const token = signMessageBirdJwt('https://a.example/x', '{}', 'k'.repeat(20), 1000);
    expect(() => verifyMessageBirdJwt(token, 'https://a.example/y', Buffer.from('{}'), 'k'.repeat(20), { nowSeconds: 1000 })).toThrow('url_hash');
    expect(() => verifyMessageBirdJwt(token, 'https://a.example/x', Buffer.from('{ }'), 'k'.repeat(20), { nowSeconds: 1000 })).toThrow('payload_hash');
    expect(() => verifyMessageBirdJwt(token, 'https://a.example/x', Buffer.from('{}'), 'k'.repeat(20), { nowSeconds: 1061 })).toThrow('exp');
  });
});

describe('legacy MessageBird-Signature', () => {
  it('matches the Node SDK vector and fails for a changed query', () => {
    const query = {
      id: 'eef0ab57a9e049be946f3821568c2b2e', mccmnc: '20408', ported: '1', recipient: '31612345678',
      reference: 'FOO', status: 'delivered', statusDatetime: '2019-01-11T09:17:11+00:00',
    };
    const key = 'PlLrKaqvZNRR5zAjm42ZT6q1SQxgbbGd';
    expect(signMessageBirdLegacy('1547198231', query, '', key)).toBe('KVBdcVdz2lYMwcBLZCRITgxUfA/WkwSi+T3Wxl2HL6w=');
    expect(verifyMessageBirdLegacy('KVBdcVdz2lYMwcBLZCRITgxUfA/WkwSi+T3Wxl2HL6w=', '1547198231', { ...query, reference: 'BAR' }, '', key)).toBe(false);
  });

  it.each([
    ['other-secret', 'abc=foo&def=bar', '{"a key":"some value"}', 'orb0adPhRCYND1WCAvPBr+qjm4STGtyvNDIDNBZ4Ir4='],
    ['secret', '', '', 'LISw4Je7n0/MkYDgVSzTJm8dW6BkytKTXMZZk1IElMs='],
    ['secret', '', '{"a key":"some value"}', 'p2e20OtAg39DEmz1ORHpjQ556U4o1ZaH4NWbM9Q8Qjk='],
    ['secret', 'abc=foo&def=bar', '', 'Tfn+nRUBsn6lQgf6IpxBMS1j9lm7XsGjt5xh47M3jCk='],
  ])('matches the Go SDK vector (key %s, query %j, body %j)', (key, query, body, expected) => {
    const params = Object.fromEntries(new URLSearchParams(query));
    expect(signMessageBirdLegacy('1544544948', params, body, key)).toBe(expected);
    expect(verifyMessageBirdLegacy(expected, '1544544948', params, body, key)).toBe(true);
  });
});

describe('Standard Webhooks', () => {
  it('matches the specification vector', () => {
    const key = Buffer.from('MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', 'base64');
    expect(signStandardWebhook('msg_p5jXN8AQM9LWM0D4loKWxJek', 1614265330, '{"test": 2432232314}', key))
      .toBe('v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=');
  });

  it('is accepted by the standardwebhooks verifier with whsec_ + base64(signing key)', () => {
    const signingKey = 'roost-signing-key-0123456789abcd';
    const ts = Math.floor(Date.now() / 1000);
    const body = '{"type":"message.created"}';
    const sig = signStandardWebhook('evt_1', ts, body, Buffer.from(signingKey, 'utf8'));
    const wh = new Webhook(standardWebhooksSecret(signingKey));
    expect(wh.verify(body, { 'webhook-id': 'evt_1', 'webhook-timestamp': String(ts), 'webhook-signature': sig })).toEqual(JSON.parse(body));
    expect(() => wh.verify(body + ' ', { 'webhook-id': 'evt_1', 'webhook-timestamp': String(ts), 'webhook-signature': sig })).toThrow();
  });
});
