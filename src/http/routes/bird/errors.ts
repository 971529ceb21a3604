import type { FastifyReply } from 'fastify';
import type { ErrorKind, RoostError } from '../../../domain/errors.js';
import { statusOf } from '../../errors.js';

/**
 * Bird's error body (reference §4.6): `{"code","message"}`, the code a PascalCase word,
 * and for a request that failed validation `"details"`, a map of field to messages.
 */
const CODE: Record<ErrorKind, string> = {
  unauthorized: 'Unauthorized',
  forbidden: 'Forbidden',
  missing_parameter: 'InvalidPayload',
  invalid_parameter: 'InvalidPayload',
  limit_exceeded: 'InvalidPayload',
  not_found: 'NotFound',
  api_not_found: 'NotFound',
  method_not_allowed: 'MethodNotAllowed',
  bad_request: 'BadRequest',
  payload_too_large: 'PayloadTooLarge',
  headers_too_large: 'BadRequest',
  request_timeout: 'RequestTimeout',
  unsupported_media_type: 'UnsupportedMediaType',
  conflict: 'Conflict',
  unavailable: 'ServiceUnavailable',
  internal: 'InternalError',
};

export function birdErrorBody(err: RoostError): string {
  const body: Record<string, unknown> = { code: CODE[err.kind], message: err.message };
  if (err.parameter !== null && CODE[err.kind] === 'InvalidPayload') body.details = { [err.parameter]: [err.message] };
  return JSON.stringify(body);
}

export function sendBirdError(reply: FastifyReply, err: RoostError): FastifyReply {
  return reply.code(statusOf(err)).type('application/json; charset=utf-8').send(birdErrorBody(err));
}

/** Bird's paths (`/workspaces/…`): their errors are in Bird's body, wherever they are answered. */
export function isBirdPath(url: string | undefined): boolean {
  return url !== undefined && /^\/workspaces(?:[/?]|$)/.test(url);
}
