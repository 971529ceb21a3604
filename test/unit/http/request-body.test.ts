import type { FastifyRequest } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { RoostError } from '../../../src/domain/errors.js';
import { attributesOf } from '../../../src/http/request-body.js';

function req(body: string | Buffer | undefined, contentType: string | undefined, url = '/v1/send'): FastifyRequest {
  const headers: Record<string, string> = {};
  if (contentType !== undefined) headers['content-type'] = contentType;
  return {
    body: typeof body === 'string' ? Buffer.from(body, 'utf8') : body,
    headers,
    url,
  } as unknown as FastifyRequest;
}

function errorOf(fn: () => unknown): RoostError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(RoostError);
    return e as RoostError;
  }
  throw new Error('expected a RoostError');
}

const FORM = 'application/x-www-form-urlencoded';
const JSON_TYPE = 'application/json';

afterEach(() => {
  // Every test must leave Object.prototype clean; a leak would show here.
  expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  expect(Object.prototype).not.toHaveProperty('polluted');
});

describe('attributesOf: lone surrogates', () => {
  it('refuses a string, value or key, that UTF-8 cannot hold, with 422 code 10 naming where it is', () => {
    for (const [body, parameter] of [
      ['{"name":"\\ud800"}', 'name'],
      ['{"content":{"text":"ok \\udc00 then"}}', 'content.text'],
      ['{"items":["fine","\\ud83d"]}', 'items.1'],
      ['{"settings":{"\\ud800key":1}}', 'settings.\ud800key'],
    ] as const) {
      const e = errorOf(() => attributesOf(req(body, JSON_TYPE)));
      expect(e).toMatchObject({ kind: 'invalid_parameter', code: 10, parameter });
    }
    // A JSON value given in the query string (the GET alternative) alike.
    expect(errorOf(() => attributesOf(req(undefined, undefined, '/v1/send?content=%7B%22text%22%3A%22%5Cud800%22%7D'))).parameter).toBe('content.text');
  });

  it('refuses a JSON body whose bytes are not valid UTF-8 (an encoded lone surrogate, a stray byte) with 400 code 21', () => {
    for (const bytes of [[0xed, 0xa0, 0x80], [0xff], [0xc3]]) {
      const body = Buffer.concat([Buffer.from('{"text":"a'), Buffer.from(bytes), Buffer.from('b"}')]);
      expect(errorOf(() => attributesOf(req(body, JSON_TYPE)))).toMatchObject({ kind: 'bad_request', code: 21 });
    }
  });

  it('keeps well-formed text whole: pairs, emoji, RTL and NUL', () => {
    const body = { text: 'a \ud83d\ude00 b \u202e c \u0000 é' };
    expect(attributesOf(req(JSON.stringify(body), JSON_TYPE))).toEqual(body);
  });
});

describe('attributesOf: JSON body', () => {
  it('returns the parsed object', () => {
    const body = { to: '+31612345678', type: 'text', content: { text: 'Hi' }, n: 1, ok: true, list: [1, 2] };
    expect(attributesOf(req(JSON.stringify(body), JSON_TYPE))).toEqual(body);
  });

  it('reads JSON whatever the content type says', () => {
    expect(attributesOf(req('{"a":1}', 'text/plain'))).toEqual({ a: 1 });
    expect(attributesOf(req('{"a":1}', undefined))).toEqual({ a: 1 });
    expect(attributesOf(req('{"a":1}', 'application/json; charset=utf-8'))).toEqual({ a: 1 });
  });

  it('reads JSON labelled as a form (curl -d)', () => {
    expect(attributesOf(req('{"type":"text","content":{"text":"Hi"}}', FORM))).toEqual({ type: 'text', content: { text: 'Hi' } });
    expect(attributesOf(req('  \n {"a":1}', FORM))).toEqual({ a: 1 });
  });

  it('prefers the body over query-string attributes', () => {
    expect(attributesOf(req('{"a":"body"}', JSON_TYPE, '/v1/send?a=query&b=query'))).toEqual({ a: 'body' });
  });

  it('keeps string values exactly (no coercion of JSON strings)', () => {
    expect(attributesOf(req('{"a":"{\\"x\\":1}","b":"42"}', JSON_TYPE))).toEqual({ a: '{"x":1}', b: '42' });
  });

  it.each([['{'], ['{"a":'], ['not json'], ["{'a':1}"], ['{"a":1}}']])('refuses malformed JSON %j as bad_request', (body) => {
    const e = errorOf(() => attributesOf(req(body, JSON_TYPE)));
    expect(e.kind).toBe('bad_request');
    expect(e.code).toBe(21);
  });

  it('refuses malformed JSON labelled as a form', () => {
    expect(errorOf(() => attributesOf(req('{"a":', FORM))).kind).toBe('bad_request');
  });

  it.each([['[1,2]'], ['[]'], ['[{"a":1}]'], ['42'], ['"text"'], ['null'], ['true']])('refuses a JSON %s body that is not an object', (body) => {
    const e = errorOf(() => attributesOf(req(body, JSON_TYPE)));
    expect(e.kind).toBe('bad_request');
    expect(e.code).toBe(21);
  });

  it('does not let a JSON "__proto__" key change the prototype of anything', () => {
    const out = attributesOf(req('{"__proto__":{"polluted":true},"a":1}', JSON_TYPE));
    expect(out.a).toBe(1);
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
    const copy = { ...out };
    expect((copy as Record<string, unknown>).polluted).toBeUndefined();
  });
});

describe('attributesOf: form body', () => {
  it('reads flat fields', () => {
    expect(attributesOf(req('to=%2B31612345678&from=abc&type=text', FORM))).toEqual({ to: '+31612345678', from: 'abc', type: 'text' });
  });

  it('nests bracketed keys', () => {
    expect(attributesOf(req('type=text&content[text]=Hi+there', FORM))).toEqual({ type: 'text', content: { text: 'Hi there' } });
    expect(attributesOf(req('content%5Bimage%5D%5Burl%5D=https%3A%2F%2Fx.example%2Fa.jpg', FORM))).toEqual({
      content: { image: { url: 'https://x.example/a.jpg' } },
    });
  });

  it('reads the content-type case-insensitively and with parameters', () => {
    expect(attributesOf(req('a=1', 'Application/X-WWW-Form-Urlencoded; charset=UTF-8'))).toEqual({ a: '1' });
  });

  it('leaves values as strings', () => {
    expect(attributesOf(req('limit=10&flag=true', FORM))).toEqual({ limit: '10', flag: 'true' });
  });

  it('parses a JSON-valued field', () => {
    expect(attributesOf(req(`type=text&content=${encodeURIComponent('{"text":"hi"}')}`, FORM))).toEqual({
      type: 'text',
      content: { text: 'hi' },
    });
    expect(attributesOf(req(`events=${encodeURIComponent('["message.created"]')}`, FORM))).toEqual({ events: ['message.created'] });
  });

  it('keeps a value that only looks like JSON as the original string', () => {
    expect(attributesOf(req(`a=${encodeURIComponent('{not json}')}`, FORM))).toEqual({ a: '{not json}' });
  });

  it('ignores _method and access_key', () => {
    expect(attributesOf(req('_method=DELETE&access_key=live_xxx&a=1', FORM))).toEqual({ a: '1' });
  });
});

describe('attributesOf: query string', () => {
  it('is used when there is no body', () => {
    expect(attributesOf(req(undefined, undefined, '/v1/send?to=%2B31612345678&type=text&content[text]=hi'))).toEqual({
      to: '+31612345678',
      type: 'text',
      content: { text: 'hi' },
    });
  });

  it('is used when the body is empty', () => {
    expect(attributesOf(req(Buffer.alloc(0), JSON_TYPE, '/v1/send?a=1'))).toEqual({ a: '1' });
  });

  it('is empty without a query string', () => {
    expect(attributesOf(req(undefined, undefined, '/v1/send'))).toEqual({});
    expect(attributesOf(req(undefined, undefined, '/v1/send?'))).toEqual({});
  });

  it('parses a JSON-valued parameter, as the seed describes', () => {
    expect(attributesOf(req(undefined, undefined, '/v1/send?type=text&content={"text":"hi"}'))).toEqual({
      type: 'text',
      content: { text: 'hi' },
    });
  });

  it('ignores _method, including the double-equals form, and access_key', () => {
    expect(attributesOf(req(undefined, undefined, '/v1/conversations?_method=POST&a=1'))).toEqual({ a: '1' });
    expect(attributesOf(req(undefined, undefined, '/v1/conversations?_method==POST&a=1'))).toEqual({ a: '1' });
    expect(attributesOf(req(undefined, undefined, '/v1/conversations?access_key=live_abc&a=1'))).toEqual({ a: '1' });
  });

  it('lets a later nested key replace an earlier scalar', () => {
    expect(attributesOf(req(undefined, undefined, '/x?content=plain&content[text]=hi'))).toEqual({ content: { text: 'hi' } });
  });

  it('merges several nested keys into one object', () => {
    expect(attributesOf(req(undefined, undefined, '/x?content[image][url]=u&content[image][caption]=c'))).toEqual({
      content: { image: { url: 'u', caption: 'c' } },
    });
  });

  it('ignores keys nested more than 5 deep', () => {
    expect(attributesOf(req(undefined, undefined, '/x?a[b][c][d][e][f]=deep&ok=1'))).toEqual({ ok: '1' });
    expect(attributesOf(req(undefined, undefined, '/x?a[b][c][d][e]=five'))).toEqual({ a: { b: { c: { d: { e: 'five' } } } } });
  });

  it.each([
    ['__proto__[polluted]=yes'],
    ['__proto__.polluted=yes'],
    ['a[__proto__][polluted]=yes'],
    ['constructor[prototype][polluted]=yes'],
    ['a[constructor][prototype][polluted]=yes'],
    ['prototype[polluted]=yes'],
    ['%5F%5Fproto%5F%5F%5Bpolluted%5D=yes'],
  ])('ignores the prototype-polluting key in %s', (qs) => {
    const out = attributesOf(req(undefined, undefined, `/x?${qs}&safe=1`));
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
    expect(out.safe).toBe('1');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.keys(out).filter((k) => k !== 'safe' && k !== '__proto__.polluted')).toEqual([]);
    const a = out.a as Record<string, unknown> | undefined;
    if (a !== undefined) expect(Object.getPrototypeOf(a)).toBe(Object.prototype);
  });

  it('ignores prototype-polluting keys in a form body too', () => {
    const out = attributesOf(req('__proto__[polluted]=yes&constructor[prototype][polluted]=yes&a=1', FORM));
    expect(out).toEqual({ a: '1' });
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
  });
});

describe('attributesOf with a byte-order mark', () => {
  // Fastify exposes headers and url through prototype getters, as this stand-in does.
  class GetterRequest {
    constructor(readonly body: Buffer, private readonly h: Record<string, string>) {}
    get headers() {
      return this.h;
    }
    get url() {
      return '/v1/send';
    }
  }

  it('reads a JSON body that starts with a UTF-8 BOM, whatever the request object is made of', () => {
    const body = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('{"to":"+31612345678"}')]);
    const r = new GetterRequest(body, { 'content-type': 'application/json' }) as unknown as FastifyRequest;
    expect(attributesOf(r)).toEqual({ to: '+31612345678' });
  });
});
