/**
 * The one error catalogue. Each error has a permanent MessageBird error code (seed 004:
 * 2 request not allowed, 9 missing params, 10 invalid params, 20 not found, 21 bad request,
 * 98 API not found, 99 internal, 100 service unavailable, 101 duplicate entry) and a `kind` that the HTTP layer
 * alone maps to a status. Domain code never knows about HTTP statuses.
 */
export type ErrorKind =
  | 'unauthorized'
  | 'forbidden'
  | 'missing_parameter'
  | 'invalid_parameter'
  | 'not_found'
  | 'bad_request'
  | 'api_not_found'
  | 'method_not_allowed'
  | 'payload_too_large'
  | 'headers_too_large'
  | 'request_timeout'
  | 'unsupported_media_type'
  | 'limit_exceeded'
  | 'conflict'
  | 'unavailable'
  | 'internal';

export const ERROR_CODES: Record<ErrorKind, number> = {
  unauthorized: 2,
  forbidden: 2,
  missing_parameter: 9,
  invalid_parameter: 10,
  not_found: 20,
  bad_request: 21,
  api_not_found: 98,
  method_not_allowed: 98,
  payload_too_large: 21,
  headers_too_large: 21,
  request_timeout: 21,
  unsupported_media_type: 21,
  limit_exceeded: 10,
  conflict: 101,
  unavailable: 100,
  internal: 99,
};

export class RoostError extends Error {
  readonly code: number;
  constructor(
    readonly kind: ErrorKind,
    description: string,
    readonly parameter: string | null = null,
  ) {
    super(description);
    this.name = 'RoostError';
    this.code = ERROR_CODES[kind];
  }
}

export const missing = (parameter: string) => new RoostError('missing_parameter', `${parameter} is required`, parameter);
export const invalid = (parameter: string, why: string) => new RoostError('invalid_parameter', `${parameter} ${why}`, parameter);
export const notFound = (what: string) => new RoostError('not_found', `${what} not found`, null);
