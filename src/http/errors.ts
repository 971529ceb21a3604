import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { RoostError } from '../domain/errors.js';
import type { ErrorKind } from '../domain/errors.js';
import { isDecodeError } from './content-encoding.js';

/** The only place that maps an error kind to an HTTP status (seed 004's table). */
const STATUS: Record<ErrorKind, number> = {
  unauthorized: 401,
  forbidden: 403,
  missing_parameter: 422,
  invalid_parameter: 422,
  not_found: 404,
  bad_request: 400,
  api_not_found: 404,
  method_not_allowed: 405,
  payload_too_large: 413,
  headers_too_large: 431,
  request_timeout: 408,
  unsupported_media_type: 415,
  limit_exceeded: 422,
  conflict: 409,
  unavailable: 503,
  internal: 500,
};

export function statusOf(err: RoostError): number {
  return STATUS[err.kind];
}

/** `{"errors":[{"code","description","parameter"}]}`, the MessageBird error body. */
export function errorBody(err: RoostError): string {
  return JSON.stringify({ errors: [{ code: err.code, description: err.message, parameter: err.parameter }] });
}

export function sendError(reply: FastifyReply, err: RoostError): FastifyReply {
  return reply.code(statusOf(err)).type('application/json; charset=utf-8').send(errorBody(err));
}

/** Turns anything thrown into a RoostError; unknown errors become 99 internal and are logged. */
export function toRoostError(err: unknown, req: FastifyRequest): RoostError {
  if (err instanceof RoostError) return err;
  const fe = err as FastifyError;
  switch (fe.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new RoostError('payload_too_large', 'request body is too large');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new RoostError('unsupported_media_type', 'unsupported content type');
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return new RoostError('bad_request', 'request body is not valid JSON');
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new RoostError('bad_request', 'invalid Content-Length');
  }
  if (isDecodeError(err)) return new RoostError('bad_request', 'request body does not decode as its Content-Encoding says');
  if (typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) {
    return new RoostError('bad_request', fe.message || 'bad request');
  }
  req.log.error({ err }, 'unhandled error');
  return new RoostError('internal', 'internal error');
}
