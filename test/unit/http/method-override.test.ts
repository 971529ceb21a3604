import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { applyMethodOverride } from '../../../src/http/method-override.js';

function override(method: string | undefined, url: string | undefined): string | undefined {
  const req = { method, url, headers: {} } as unknown as IncomingMessage;
  applyMethodOverride(req);
  return req.method;
}

describe('applyMethodOverride', () => {
  it('turns GET into POST', () => {
    expect(override('GET', '/v1/send?_method=POST&to=x')).toBe('POST');
  });

  it('turns POST into DELETE', () => {
    expect(override('POST', '/v1/webhooks/abc?_method=DELETE')).toBe('DELETE');
  });

  it('turns GET into PATCH, PUT or DELETE', () => {
    expect(override('GET', '/v1/conversations/abc?_method=PATCH')).toBe('PATCH');
    expect(override('GET', '/v1/x?_method=PUT')).toBe('PUT');
    expect(override('GET', '/v1/x?_method=DELETE')).toBe('DELETE');
  });

  it('accepts the `_method==POST` spelling from the seed', () => {
    expect(override('GET', '/hlr?_method==POST&msisdn=31612345678')).toBe('POST');
  });

  it('is case-insensitive about the wanted method', () => {
    expect(override('GET', '/v1/x?_method=delete')).toBe('DELETE');
    expect(override('GET', '/v1/x?_method=Post')).toBe('POST');
  });

  it('finds _method anywhere in the query string', () => {
    expect(override('GET', '/v1/send?to=x&type=text&_method=POST')).toBe('POST');
  });

  it.each([['PUT'], ['PATCH'], ['DELETE'], ['HEAD'], ['OPTIONS']])('never overrides a %s request', (method) => {
    expect(override(method, '/v1/x?_method=GET')).toBe(method);
    expect(override(method, '/v1/x?_method=POST')).toBe(method);
  });

  it.each([['TRACE'], ['CONNECT'], ['HEAD'], ['OPTIONS'], ['FOO'], [''], ['=']])('ignores the unknown or unsafe method %j', (wanted) => {
    expect(override('GET', `/v1/x?_method=${wanted}`)).toBe('GET');
    expect(override('POST', `/v1/x?_method=${wanted}`)).toBe('POST');
  });

  it('leaves requests without _method alone', () => {
    expect(override('GET', '/v1/conversations')).toBe('GET');
    expect(override('GET', '/v1/conversations?limit=10')).toBe('GET');
    expect(override('POST', '/v1/conversations?x_method=DELETE')).toBe('POST');
    expect(override('GET', '/v1/conversations?method=DELETE')).toBe('GET');
  });

  it('only reads _method from the query string, never from the path', () => {
    expect(override('GET', '/v1/_method=DELETE')).toBe('GET');
    expect(override('GET', '/v1/_method=DELETE?a=1')).toBe('GET');
  });

  it('survives a missing url or method', () => {
    expect(override('GET', undefined)).toBe('GET');
    expect(override(undefined, '/x?_method=POST')).toBeUndefined();
  });
});
