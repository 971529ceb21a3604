import { describe, expect, it } from 'vitest';
import { MAX_TEXT_LENGTH, MESSAGE_TYPES, mediaOf, parseContent, textOf } from '../../../src/domain/content.js';
import type { MessageContent } from '../../../src/domain/content.js';
import { RoostError } from '../../../src/domain/errors.js';

/** Runs `fn`, expects a RoostError and returns it. */
function errorOf(fn: () => unknown): RoostError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(RoostError);
    return e as RoostError;
  }
  throw new Error('expected a RoostError, nothing was thrown');
}

function expectMissing(type: unknown, content: unknown, parameter: string) {
  const e = errorOf(() => parseContent(type, content));
  expect(e.kind).toBe('missing_parameter');
  expect(e.code).toBe(9);
  expect(e.parameter).toBe(parameter);
  expect(e.message).toContain(parameter);
}

function expectInvalid(type: unknown, content: unknown, parameter: string) {
  const e = errorOf(() => parseContent(type, content));
  expect(e.kind).toBe('invalid_parameter');
  expect(e.code).toBe(10);
  expect(e.parameter).toBe(parameter);
  expect(e.message).toContain(parameter);
}

const URL_OK = 'https://cdn.example.com/cat.jpg';

describe('parseContent: type', () => {
  it.each([[undefined], [null], ['']])('type %j is missing', (type) => {
    expectMissing(type, { text: 'hi' }, 'type');
  });

  it.each([['sms'], ['TEXT'], ['Text'], [' text'], [42], [{}], [['text']], ['toString'], ['__proto__']])('type %j is invalid', (type) => {
    expectInvalid(type, { text: 'hi' }, 'type');
  });

  it('lists the allowed types in the invalid-type message', () => {
    const e = errorOf(() => parseContent('sms', { text: 'hi' }));
    for (const t of MESSAGE_TYPES) expect(e.message).toContain(t);
  });

  it('checks the type before the content', () => {
    expectMissing(undefined, undefined, 'type');
    expectInvalid('nope', undefined, 'type');
  });
});

describe('parseContent: content', () => {
  it.each([[undefined], [null]])('content %j is missing', (content) => {
    expectMissing('text', content, 'content');
  });

  it.each([['hi'], [42], [true], [['hi']]])('content %j is invalid (not an object)', (content) => {
    expectInvalid('text', content, 'content');
  });
});

describe('parseContent: text', () => {
  it('returns the text, and only the text', () => {
    expect(parseContent('text', { text: 'Hello', extra: 'dropped', image: { url: URL_OK } })).toEqual({
      type: 'text',
      content: { text: 'Hello' },
    });
  });

  it.each([[{}], [{ text: undefined }], [{ text: null }], [{ text: '' }], [{ image: { url: URL_OK } }]])('%j is missing content.text', (content) => {
    expectMissing('text', content, 'content.text');
  });

  it.each([[{ text: 42 }], [{ text: { body: 'hi' } }], [{ text: ['hi'] }], [{ text: true }]])('%j has an invalid content.text', (content) => {
    expectInvalid('text', content, 'content.text');
  });

  it('accepts exactly MAX_TEXT_LENGTH characters and refuses one more', () => {
    expect(MAX_TEXT_LENGTH).toBe(20_000);
    const max = 'x'.repeat(MAX_TEXT_LENGTH);
    expect(parseContent('text', { text: max }).content).toEqual({ text: max });
    expectInvalid('text', { text: `${max}x` }, 'content.text');
  });

  it('keeps whitespace and unicode exactly', () => {
    const text = '  héllo\n👋 ';
    expect(parseContent('text', { text }).content).toEqual({ text });
  });
});

describe.each(['image', 'video', 'audio', 'file'] as const)('parseContent: %s', (t) => {
  it('returns the url', () => {
    expect(parseContent(t, { [t]: { url: URL_OK } })).toEqual({ type: t, content: { [t]: { url: URL_OK } } });
  });

  it('keeps a caption and drops unknown media fields', () => {
    expect(parseContent(t, { [t]: { url: URL_OK, caption: 'a cat', secret: 'x' } }).content).toEqual({
      [t]: { url: URL_OK, caption: 'a cat' },
    });
  });

  it('treats a null caption as absent', () => {
    const media = (parseContent(t, { [t]: { url: URL_OK, caption: null } }).content as Record<string, object>)[t]!;
    expect(media).toEqual({ url: URL_OK });
    expect('caption' in media).toBe(false);
  });

  it('accepts plain http URLs', () => {
    expect(parseContent(t, { [t]: { url: 'http://example.com/a' } }).type).toBe(t);
  });

  it.each([[{}], [{ text: 'hi' }]])('%j is missing content.<type>', (content) => {
    expectMissing(t, content, `content.${t}`);
  });

  it('null media is missing', () => {
    expectMissing(t, { [t]: null }, `content.${t}`);
  });

  it.each([['https://x.example/a.jpg'], [42], [['https://x.example/a.jpg']]])('media %j is not an object', (media) => {
    expectInvalid(t, { [t]: media }, `content.${t}`);
  });

  it.each([
    [undefined],
    [null],
    [''],
    ['not a url'],
    ['/relative/path.jpg'],
    ['ftp://example.com/a.jpg'],
    ['file:///etc/passwd'],
    ['javascript:alert(1)'],
    ['data:image/png;base64,AAAA'],
    [42],
    [`https://example.com/${'a'.repeat(2048)}`],
  ])('url %j is invalid', (url) => {
    expectInvalid(t, { [t]: { url } }, `content.${t}.url`);
  });

  it('accepts a url of exactly 2048 characters', () => {
    const url = `https://example.com/${'a'.repeat(2048 - 'https://example.com/'.length)}`;
    expect(url.length).toBe(2048);
    expect(parseContent(t, { [t]: { url } }).type).toBe(t);
  });

  it.each([[42], [{ text: 'x' }], [['x']], [true]])('caption %j is invalid', (caption) => {
    expectInvalid(t, { [t]: { url: URL_OK, caption } }, `content.${t}.caption`);
  });
});

describe('parseContent: location', () => {
  it('returns latitude and longitude only', () => {
    expect(parseContent('location', { location: { latitude: 52.37, longitude: 4.89, name: 'x' } })).toEqual({
      type: 'location',
      content: { location: { latitude: 52.37, longitude: 4.89 } },
    });
  });

  it('accepts the exact bounds', () => {
    for (const [latitude, longitude] of [[90, 180], [-90, -180], [0, 0]] as const) {
      expect(parseContent('location', { location: { latitude, longitude } }).content).toEqual({ location: { latitude, longitude } });
    }
  });

  it.each([[{}], [{ location: null }], [{ location: 'x' }], [{ location: [1, 2] }]])('%j is missing content.location', (content) => {
    expectMissing('location', content, 'content.location');
  });

  it.each([[undefined], ['52.3'], [90.0001], [-90.0001], [Number.NaN], [Number.POSITIVE_INFINITY], [null]])(
    'latitude %j is invalid',
    (latitude) => {
      expectInvalid('location', { location: { latitude, longitude: 4.89 } }, 'content.location.latitude');
    },
  );

  it.each([[undefined], ['4.89'], [180.0001], [-180.0001], [Number.NaN], [Number.NEGATIVE_INFINITY], [null]])(
    'longitude %j is invalid',
    (longitude) => {
      expectInvalid('location', { location: { latitude: 52.37, longitude } }, 'content.location.longitude');
    },
  );

  it('reports the latitude first when both are wrong', () => {
    expectInvalid('location', { location: { latitude: 100, longitude: 200 } }, 'content.location.latitude');
  });
});

describe('parseContent: hsm', () => {
  it('passes the template object through', () => {
    const hsm = { namespace: 'ns', templateName: 'welcome', language: { code: 'en' }, params: [{ default: 'Bob' }] };
    expect(parseContent('hsm', { hsm })).toEqual({ type: 'hsm', content: { hsm } });
  });

  it.each([[{}], [{ hsm: null }], [{ hsm: 'welcome' }], [{ hsm: ['welcome'] }]])('%j is missing content.hsm', (content) => {
    expectMissing('hsm', content, 'content.hsm');
  });

  it.each([[{}], [{ templateName: '' }], [{ templateName: 42 }], [{ templateName: null }]])('hsm %j is missing content.hsm.templateName', (hsm) => {
    expectMissing('hsm', { hsm }, 'content.hsm.templateName');
  });
});

describe('textOf', () => {
  it('renders each content type as short text', () => {
    const cases: Array<[MessageContent, string]> = [
      [{ text: 'Hello' }, 'Hello'],
      [{ image: { url: URL_OK, caption: 'a cat' } }, 'a cat'],
      [{ video: { url: URL_OK, caption: 'a clip' } }, 'a clip'],
      [{ audio: { url: URL_OK } }, ''],
      [{ file: { url: URL_OK, caption: 'the file' } }, 'the file'],
      [{ location: { latitude: 52.37, longitude: -4.5 } }, '52.37,-4.5'],
      [{ hsm: { templateName: 'welcome' } }, 'welcome'],
    ];
    for (const [content, expected] of cases) expect(textOf(content)).toBe(expected);
  });

  it('never renders the media url as text', () => {
    expect(textOf({ image: { url: URL_OK } })).not.toContain('http');
  });

  it('works on the output of parseContent for every type', () => {
    const samples: Record<string, unknown> = {
      text: { text: 'hi' },
      image: { image: { url: URL_OK, caption: 'c' } },
      video: { video: { url: URL_OK } },
      audio: { audio: { url: URL_OK } },
      file: { file: { url: URL_OK } },
      location: { location: { latitude: 1, longitude: 2 } },
      hsm: { hsm: { templateName: 'tpl' } },
    };
    for (const t of MESSAGE_TYPES) expect(typeof textOf(parseContent(t, samples[t]).content)).toBe('string');
  });
});

describe('mediaOf', () => {
  it.each(['image', 'video', 'audio', 'file'] as const)('returns the %s media', (t) => {
    const media = { url: URL_OK, caption: 'c' };
    expect(mediaOf({ [t]: media } as MessageContent)).toEqual(media);
  });

  it('returns undefined for content without media', () => {
    expect(mediaOf({ text: 'hi' })).toBeUndefined();
    expect(mediaOf({ location: { latitude: 1, longitude: 2 } })).toBeUndefined();
    expect(mediaOf({ hsm: { templateName: 'x' } })).toBeUndefined();
  });
});
