import { createHash } from 'node:crypto';
import { parse as parseQs, stringify as stringifyQs } from 'node:querystring';
import { describe, expect, it } from 'vitest';
// The official package, a dev dependency only: Roost's validator must agree with it.
import { getExpectedTwilioSignature, validateRequest, validateRequestWithBody } from 'twilio/lib/webhooks/webhooks.js';
import type { ChannelContext, InboundRequest } from '../../../src/channels/connector.js';
import { twilioConnector } from '../../../src/channels/twilio/twilio-connector.js';
import { decodeForm, expectedTwilioSignature, validBodyHash, validTwilioSignature } from '../../../src/channels/twilio/signature.js';
import type { TwilioParams } from '../../../src/channels/twilio/signature.js';
import { encodeForm, twilioFormFixture, twilioSignature } from '../../helpers/fake-twilio.js';
import { FORM_TYPE, channelOf, contextFor, inboundRequest } from './builders.js';

// ---- official vectors (twilio-node spec/validation.spec.js; reference §1.2) ----------------

const TOKEN = '12345';
const URL_DEFAULT = 'https://mycompany.com/myapp.php?foo=1&bar=2';
const PARAMS: TwilioParams = {
  CallSid: 'CA1234567890ABCDE',
  Caller: '+14158675309',
  Digits: '1234',
  From: '+14158675309',
  To: '+18005551212',
};
const BODY = '{"property": "value", "boolean": true}';
const BODY_HASH = '0a1ff7634d9ab3b95db5c9a2dfe9416e41502b283a80c7cf19632632f96e6620';
const EMPTY_BODY_HASH = '44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a';

interface Vector {
  name: string;
  /** The URL as the request arrives (what Roost sees). */
  url: string;
  /** The URL Twilio's back end signed. */
  signedUrl: string;
  params: TwilioParams;
  signature: string;
}

const VECTORS: Vector[] = [
  { name: 'default', url: URL_DEFAULT, signedUrl: URL_DEFAULT, params: PARAMS, signature: 'RSOYDt4T1cUTdK1PDd93/VVr8B8=' },
  {
    name: 'https, standard port added',
    url: URL_DEFAULT,
    signedUrl: 'https://mycompany.com:443/myapp.php?foo=1&bar=2',
    params: PARAMS,
    signature: 'kvajT1Ptam85bY51eRf/AJRuM3w=',
  },
  {
    name: 'http, standard port',
    url: 'http://mycompany.com/myapp.php?foo=1&bar=2',
    signedUrl: 'http://mycompany.com:80/myapp.php?foo=1&bar=2',
    params: PARAMS,
    signature: '0ZXoZLH/DfblKGATFgpif+LLRf4=',
  },
  {
    name: 'http, port 1234',
    url: 'http://mycompany.com:1234/myapp.php?foo=1&bar=2',
    signedUrl: 'http://mycompany.com:1234/myapp.php?foo=1&bar=2',
    params: PARAMS,
    signature: 'Zmvh+3yNM1Phv2jhDCwEM3q5ebU=',
  },
  {
    name: 'credentials',
    url: 'https://user:pass@mycompany.com/myapp.php?foo=1&bar=2',
    signedUrl: 'https://user:pass@mycompany.com/myapp.php?foo=1&bar=2',
    params: PARAMS,
    signature: 'CukzLTc1tT5dXEDIHm/tKBanW10=',
  },
  {
    name: 'credentials + port',
    url: 'https://user:pass@mycompany.com/myapp.php?foo=1&bar=2',
    signedUrl: 'https://user:pass@mycompany.com:443/myapp.php?foo=1&bar=2',
    params: PARAMS,
    signature: 'ZQFR1PTIZXF2MXB8ZnKCvnnA+rI=',
  },
  {
    name: 'username only',
    url: 'https://user@mycompany.com/myapp.php?foo=1&bar=2',
    signedUrl: 'https://user@mycompany.com/myapp.php?foo=1&bar=2',
    params: PARAMS,
    signature: '2YRLlVAflCqxaNicjMpJcSTgzSs=',
  },
  {
    name: 'special characters (the request has a raw quote, Twilio signed %27)',
    url: `${URL_DEFAULT}&Body=It's+amazing`,
    signedUrl: `${URL_DEFAULT}&Body=It%27s+amazing`,
    params: PARAMS,
    signature: 'TfZzewPq8wqrGlMfyAud8+/IvJ0=',
  },
  {
    name: 'array param',
    url: URL_DEFAULT,
    signedUrl: URL_DEFAULT,
    params: { 'MessagingBinding.Address': ['+1325xxxxxxx', '+1415xxxxxxx'] },
    signature: '83O6e2vORAoJHUNzJjDWN1jz+BA=',
  },
  {
    name: 'multiple params with duplicate values',
    url: URL_DEFAULT,
    signedUrl: URL_DEFAULT,
    params: { Sid: 'CA123', SidAccount: 'AC123', Digits: ['5678', '1234', '1234'] },
    signature: 'IK+Dwps556ElfBT0I3Rgjkr1wJU=',
  },
  {
    name: 'body hash',
    url: `${URL_DEFAULT}&bodySHA256=${BODY_HASH}`,
    signedUrl: `${URL_DEFAULT}&bodySHA256=${BODY_HASH}`,
    params: {},
    signature: 'a9nBmqA0ju/hNViExpshrM61xv4=',
  },
  {
    name: 'body hash of {} (signed with :443)',
    url: `${URL_DEFAULT}&bodySHA256=${EMPTY_BODY_HASH}`,
    signedUrl: `https://mycompany.com:443/myapp.php?foo=1&bar=2&bodySHA256=${EMPTY_BODY_HASH}`,
    params: {},
    signature: 'Ldidvp12m26NI7eqEvxnEpkd9Hc=',
  },
  {
    name: 'body hash as the only query parameter',
    url: `https://mycompany.com/myapp.php?bodySHA256=${BODY_HASH}`,
    signedUrl: `https://mycompany.com/myapp.php?bodySHA256=${BODY_HASH}`,
    params: {},
    signature: 'y77kIzt2vzLz71DgmJGsen2scGs=',
  },
];

describe('X-Twilio-Signature: official vectors', () => {
  it.each(VECTORS)('$name: computes the signature over the signed URL', (v) => {
    expect(expectedTwilioSignature(TOKEN, v.signedUrl, v.params)).toBe(v.signature);
    expect(getExpectedTwilioSignature(TOKEN, v.signedUrl, v.params)).toBe(v.signature);
  });

  it.each(VECTORS)('$name: accepts the request as it arrives', (v) => {
    expect(validTwilioSignature(TOKEN, v.signature, v.url, v.params)).toBe(true);
    expect(validTwilioSignature(TOKEN, v.signature, v.signedUrl, v.params)).toBe(true);
    expect(validateRequest(TOKEN, v.signature, v.url, v.params)).toBe(true);
  });

  it.each(VECTORS)('$name: refuses another token, a changed URL, changed params and a wrong signature', (v) => {
    expect(validTwilioSignature('54321', v.signature, v.url, v.params)).toBe(false);
    expect(validTwilioSignature(TOKEN, v.signature, `${v.url}&somethingUnexpected=true`, v.params)).toBe(false);
    expect(validTwilioSignature(TOKEN, v.signature, v.url, { ...v.params, Extra: 'x' })).toBe(false);
    expect(validTwilioSignature(TOKEN, 'WRONG_SIGNATURE', v.url, v.params)).toBe(false);
    expect(validTwilioSignature(TOKEN, '', v.url, v.params)).toBe(false);
    expect(validTwilioSignature(TOKEN, v.signature.toLowerCase(), v.url, v.params)).toBe(false);
  });

  it('ignores the order of array values, but not the values', () => {
    const v = VECTORS.find((x) => x.name === 'array param')!;
    expect(validTwilioSignature(TOKEN, v.signature, URL_DEFAULT, { 'MessagingBinding.Address': ['+1415xxxxxxx', '+1325xxxxxxx'] })).toBe(true);
    expect(validTwilioSignature(TOKEN, v.signature, URL_DEFAULT, { 'MessagingBinding.Address': ['+1415xxxxxxx'] })).toBe(false);
  });

  it('checks body hashes over the raw bytes', () => {
    expect(createHash('sha256').update(BODY).digest('hex')).toBe(BODY_HASH);
    expect(validBodyHash(Buffer.from(BODY), BODY_HASH)).toBe(true);
    expect(validBodyHash(Buffer.from('{}'), EMPTY_BODY_HASH)).toBe(true);
    expect(validBodyHash(Buffer.from(BODY), 'WRONG_HASH')).toBe(false);
    expect(validBodyHash(Buffer.from(`${BODY} `), BODY_HASH)).toBe(false);
    expect(validateRequestWithBody(TOKEN, 'a9nBmqA0ju/hNViExpshrM61xv4=', `${URL_DEFAULT}&bodySHA256=${BODY_HASH}`, BODY)).toBe(true);
  });
});

describe('X-Twilio-Signature: twilio-node webhooks.spec cases (token s3cr3t)', () => {
  const token = 's3cr3t';
  const sign = (url: string) => expectedTwilioSignature(token, url, {});

  it('refuses a different query value', () => {
    expect(validTwilioSignature(token, sign('https://example.com/path?test=param'), 'https://example.com/path?test=param2', {})).toBe(false);
  });

  it('accepts :443 added or removed on either side', () => {
    for (const signed of ['https://example.com/path?test=param', 'https://example.com:443/path?test=param']) {
      for (const received of ['https://example.com/path?test=param', 'https://example.com:443/path?test=param']) {
        expect(validTwilioSignature(token, sign(signed), received, {}), `${signed} vs ${received}`).toBe(true);
      }
    }
  });

  it("accepts ' and %27 in all four combinations", () => {
    const forms = ["https://example.com/path?param'WithQuote=1", 'https://example.com/path?param%27WithQuote=1'];
    for (const signed of forms) {
      for (const received of forms) {
        expect(validTwilioSignature(token, sign(signed), received, {}), `${signed} vs ${received}`).toBe(true);
        expect(validateRequest(token, sign(signed), received, {})).toBe(true);
      }
    }
  });
});

// ---- the connector's verify over these vectors ----------------------------------------------

function ctxWithToken(authToken: string): ChannelContext {
  const settings = { accountSid: `AC${'0'.repeat(32)}`, fromNumber: '+14155550123', baseUrl: 'https://api.twilio.com' };
  return contextFor(channelOf('twilio', settings, { authToken }), { inboundUrl: 'https://mycompany.com/myapp.php', tokens: 'never' });
}

function formRequest(url: string, body: string, signature: string | undefined, method = 'POST'): InboundRequest {
  return inboundRequest(url, body, { method, contentType: FORM_TYPE, headers: signature === undefined ? {} : { 'x-twilio-signature': signature } });
}

describe('twilio verify with the official vectors', () => {
  const ctx = ctxWithToken(TOKEN);

  it.each(VECTORS.filter((v) => !v.url.includes('bodySHA256')))('$name: a form POST', (v) => {
    const body = encodeForm(v.params);
    expect(twilioConnector.verify(formRequest(v.url, body, v.signature), ctx)).toEqual({ ok: true });
    expect(twilioConnector.verify(formRequest(v.url, `${body}&Tampered=1`, v.signature), ctx)).toMatchObject({ ok: false, status: 403 });
  });

  it('a GET webhook is signed over its URL alone', () => {
    const url = `https://mycompany.com/myapp.php?${encodeForm(PARAMS)}`;
    const signature = expectedTwilioSignature(TOKEN, url, {});
    expect(twilioConnector.verify(formRequest(url, '', signature, 'GET'), ctx)).toEqual({ ok: true });
    expect(twilioConnector.verify(formRequest(`${url}&x=1`, '', signature, 'GET'), ctx)).toMatchObject({ ok: false, status: 403 });
  });

  it('a JSON-body webhook checks bodySHA256 against the raw body', () => {
    const v = VECTORS.find((x) => x.name === 'body hash')!;
    expect(twilioConnector.verify(formRequest(v.url, BODY, v.signature), ctx)).toEqual({ ok: true });
    expect(twilioConnector.verify(formRequest(v.url, `${BODY}\n`, v.signature), ctx)).toMatchObject({ ok: false, status: 403 });
    const empty = VECTORS.find((x) => x.name === 'body hash of {} (signed with :443)')!;
    expect(twilioConnector.verify(formRequest(empty.url, '{}', empty.signature), ctx)).toEqual({ ok: true });
  });

  it('answers 400 without the header, 403 for a wrong one, 405 for other methods', () => {
    const body = encodeForm(PARAMS);
    expect(twilioConnector.verify(formRequest(URL_DEFAULT, body, undefined), ctx)).toMatchObject({ ok: false, status: 400 });
    expect(twilioConnector.verify(formRequest(URL_DEFAULT, body, ''), ctx)).toMatchObject({ ok: false, status: 400 });
    expect(twilioConnector.verify(formRequest(URL_DEFAULT, body, 'WRONG_SIGNATURE'), ctx)).toMatchObject({ ok: false, status: 403 });
    expect(twilioConnector.verify(formRequest(URL_DEFAULT, body, 'RSOYDt4T1cUTdK1PDd93/VVr8B8='), ctxWithToken('54321'))).toMatchObject({ ok: false, status: 403 });
    expect(twilioConnector.verify(formRequest(URL_DEFAULT, body, 'RSOYDt4T1cUTdK1PDd93/VVr8B8=', 'PUT'), ctx)).toMatchObject({ ok: false, status: 405 });
  });
});

// ---- differential property test against the twilio package --------------------------------

/** mulberry32: a small seeded PRNG, so a failure can be replayed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const SEED = Number(process.env.TWILIO_DIFF_SEED ?? 20250414);
const CASES = 3000;

function generator(random: () => number) {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
  const int = (n: number) => Math.floor(random() * n);
  const chars = ['a', 'Z', '0', '9', '-', '_', '.', '~', "'", '!', '*', '(', ')', ' ', '+', '%20', '%27', '%2F', 'é', '€', '😀', ',', ';', ':', '@', '$'];
  const word = (max: number) => Array.from({ length: 1 + int(max) }, () => pick(chars)).join('');

  const url = (): string => {
    const scheme = pick(['http://', 'https://', 'HTTPS://']);
    const user = pick(['', '', '', 'user@', 'user:pass@', "us'er:p%40ss@"]);
    const host = pick(['mycompany.com', 'roost.example.org', '127.0.0.1', '[::1]', 'xn--bcher-kva.example', 'HOST.Example.COM']);
    const port = pick(['', '', '', ':443', ':80', ':8443', ':1234', ':']);
    const path = pick(['', '/', `/inbound/${int(1e6)}`, `/${word(6)}/${word(4)}`, "/it's/here", '/caf%C3%A9']);
    const queryParts = Array.from({ length: int(4) }, () => `${word(5)}=${word(6)}`);
    const query = queryParts.length > 0 ? `?${queryParts.join('&')}` : pick(['', '', '?']);
    const hash = pick(['', '', '', '', '#rc=3&rp=all']);
    return `${scheme}${user}${host}${port}${path.startsWith('/') || path === '' ? path : `/${path}`}${query}${hash}`;
  };

  const params = (): TwilioParams => {
    const out: TwilioParams = {};
    const keys = ['Body', 'body', 'From', 'To', 'MessageSid', 'MediaUrl0', 'MessagingBinding.Address', 'a[b]', 'Ωmega', 'Z', '_', ''];
    for (let n = int(7); n > 0; n--) {
      const key = random() < 0.7 ? pick(keys) : word(6);
      out[key] = random() < 0.2 ? Array.from({ length: 1 + int(4) }, () => pick(['1234', '5678', word(4)])) : word(10);
    }
    return out;
  };

  /** The query re-encoded by Node's legacy querystring module (`+` becomes %20, %27 becomes '). */
  const legacy = (u: string): string => {
    const q = u.indexOf('?');
    return q === -1 || q === u.length - 1 ? u : `${u.slice(0, q)}?${stringifyQs(parseQs(u.slice(q + 1)))}`;
  };

  /** A URL Twilio may have signed for a request arriving at `u`. */
  const signedVariant = (u: string): string => {
    let normalized = u;
    try {
      normalized = new URL(u).toString();
    } catch {
      // keep it
    }
    return pick([
      u,
      u,
      normalized,
      normalized.replace(/^(https?:\/\/[^/?#]*?)(:\d*)?(?=[/?#]|$)/i, '$1'),
      normalized.replace(/^(https:\/\/[^/?#:]*)(?=[/?#]|$)/i, '$1:443'),
      normalized.replace(/^(http:\/\/[^/?#:]*)(?=[/?#]|$)/i, '$1:80'),
      normalized.replace(/'/g, '%27'),
      legacy(normalized),
      legacy(normalized.replace(/^(https:\/\/[^/?#:]*)(?=[/?#]|$)/i, '$1:443')),
      `${u}x`,
      url(),
    ]);
  };

  return { url, params, signedVariant, word, pick, int };
}

describe('X-Twilio-Signature: differential test against twilio.validateRequest', () => {
  it(`agrees with the twilio package on ${CASES} random URLs, params and signatures (seed ${SEED})`, () => {
    const random = prng(SEED);
    const gen = generator(random);
    let valid = 0;
    for (let i = 0; i < CASES; i++) {
      const token = gen.pick(['12345', 's3cr3t', gen.word(12)]);
      const u = gen.url();
      const p = gen.params();
      let signature: string;
      const strategy = random();
      if (strategy < 0.75) signature = getExpectedTwilioSignature(token, gen.signedVariant(u), p);
      else if (strategy < 0.85) signature = getExpectedTwilioSignature(`${token}x`, u, p);
      else if (strategy < 0.95) signature = getExpectedTwilioSignature(token, u, { ...p, Extra: 'x' });
      else signature = gen.pick(['', 'WRONG_SIGNATURE', Buffer.from(gen.word(10)).toString('base64')]);

      let theirs: boolean;
      try {
        theirs = validateRequest(token, signature, u, p);
      } catch {
        theirs = false; // the package throws on a URL `new URL()` cannot parse; Roost refuses it
      }
      const ours = validTwilioSignature(token, signature, u, p);
      if (ours !== theirs) {
        throw new Error(`case ${i} disagrees: ours=${ours} twilio=${theirs}\n${JSON.stringify({ token, signature, url: u, params: p })}`);
      }
      expect(expectedTwilioSignature(token, u, p)).toBe(getExpectedTwilioSignature(token, u, p));
      if (ours) valid++;
    }
    // The generator must exercise both answers, not just refusals.
    expect(valid).toBeGreaterThan(CASES * 0.3);
    expect(valid).toBeLessThan(CASES * 0.9);
  });

  it('agrees on form bodies decoded from the wire, including repeated keys', () => {
    const random = prng(SEED + 1);
    const gen = generator(random);
    for (let i = 0; i < 500; i++) {
      const pairs: Array<[string, string]> = Array.from({ length: gen.int(8) }, () => [gen.pick(['Body', 'From', 'MediaUrl', gen.word(4)]), gen.word(8)]);
      const wire = new URLSearchParams(pairs).toString();
      const decoded = decodeForm(wire);
      const u = gen.url();
      const signature = getExpectedTwilioSignature('tok', u, decoded);
      expect(validTwilioSignature('tok', signature, u, decoded)).toBe(true);
      let theirs = false;
      try {
        theirs = validateRequest('tok', signature, u, decoded);
      } catch {
        theirs = false;
      }
      expect(theirs).toBe(true);
    }
  });

  it('the fake provider signs exactly like the twilio package', () => {
    const fields = twilioFormFixture('sms-inbound.form');
    const url = 'https://roost.example/inbound/0123?message=abc&token=def';
    expect(twilioSignature('tok3n', url, fields)).toBe(getExpectedTwilioSignature('tok3n', url, fields));
    const repeated = { MediaUrl: ['b', 'a', 'b'], Body: 'x' };
    expect(twilioSignature('tok3n', url, repeated)).toBe(getExpectedTwilioSignature('tok3n', url, repeated));
  });
});
