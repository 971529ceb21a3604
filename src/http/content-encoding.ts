import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib';
import { Transform } from 'node:stream';
import type { FastifyRequest, preParsingHookHandler } from 'fastify';
import { RoostError } from '../domain/errors.js';

/** The request content codings Roost reads (RFC 9110 §8.4), by their header token. */
const DECODERS: Record<string, () => Transform> = {
  gzip: createGunzip,
  'x-gzip': createGunzip,
  deflate: createInflate,
  br: createBrotliDecompress,
};

/** What Fastify reads a body from (it compares `receivedEncodedLength` with Content-Length). */
type Payload = Parameters<preParsingHookHandler>[2];

/**
 * Fastify `preParsing` hook: a body sent with `Content-Encoding: gzip`, `deflate` or `br`
 * is decoded before it is read, so routes, provider signatures and the JSON parser see
 * the content itself. Any other coding is refused with 415, not read as garbage JSON.
 *
 * The body limit counts the decoded bytes: a small compressed body that inflates past
 * it is a 413, and decoding stops there. A body that does not decode is a 400 (see
 * `isDecodeError`).
 */
export const decodeContentEncoding: preParsingHookHandler = (req, _reply, payload, done) => {
  // Callback style: on every request's path, where an async hook would cost a promise.
  const { 'content-encoding': header, 'content-length': length, 'transfer-encoding': chunked } = req.headers;
  // Without a body (a GET, an empty POST) there is nothing to decode, and nothing may be
  // left piping into a decoder that no parser reads.
  if (header === undefined || (chunked === undefined && (length === undefined || length === '0'))) return done(null, payload);
  const coding = header.trim().toLowerCase();
  if (coding === '' || coding === 'identity') return done(null, payload);
  const decoder = DECODERS[coding];
  // One coding at most: stacked codings (`gzip, br`) are not something a client sends.
  if (decoder === undefined) {
    return done(new RoostError('unsupported_media_type', `Content-Encoding ${JSON.stringify(header)} is not supported (gzip, deflate, br)`));
  }
  done(null, decoded(req, payload, decoder()));
};

/** The body as `decoding` turns it out, stopped at the route's body limit. */
function decoded(req: FastifyRequest, payload: Payload, decoding: Transform): Payload {
  // Fastify answers 413 once the decoded bytes pass the limit, but would let the decoder
  // inflate the rest for nothing (a 1 MB bomb is a gigabyte of zlib work): the cap stops
  // it at the limit.
  const limit = req.routeOptions.bodyLimit ?? Infinity;
  let inflated = 0;
  const capped: Payload & Transform = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      inflated += chunk.length;
      if (inflated <= limit) return callback(null, chunk);
      payload.unpipe(decoding);
      decoding.destroy();
      callback(new RoostError('payload_too_large', 'request body is too large'));
    },
  });
  // Fastify compares Content-Length with the bytes on the wire, not the decoded ones.
  let encoded = 0;
  payload.on('data', (chunk: Buffer) => {
    encoded += chunk.length;
    capped.receivedEncodedLength = encoded;
  });
  // Failures reach the parser through the stream it reads; none is left unhandled.
  // Nothing at all (an empty chunked body) is an empty body, as with Content-Length: 0,
  // not a truncated stream.
  decoding.on('error', (err) => (encoded === 0 ? capped.end() : capped.destroy(err)));
  payload.on('error', (err) => capped.destroy(err));
  capped.on('error', () => {});
  payload.pipe(decoding).pipe(capped);
  return capped;
}

/** zlib's errors for a body that is not what its Content-Encoding says. */
export function isDecodeError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && (code.startsWith('Z_') || code.startsWith('ERR__ERROR_') || code.startsWith('ERR_BROTLI'));
}
