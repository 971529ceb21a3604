import { STATUS_CODES } from 'node:http';
import type { ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest, FastifyServerOptions } from 'fastify';
import { RoostError } from '../domain/errors.js';
import { errorBody, sendError, statusOf } from './errors.js';
import { birdErrorBody, isBirdPath, sendBirdError } from './routes/bird/errors.js';

/**
 * What Fastify and Node answer themselves, before any route or error handler runs, in
 * MessageBird's error body rather than their own `{"error","message","statusCode"}`:
 * a client that parses `errors[0].code` must never meet another shape.
 */

/** A path that does not decode, or a path parameter past the router's length limit. */
export const frameworkErrors: NonNullable<FastifyServerOptions['frameworkErrors']> = (err: FastifyError, req: FastifyRequest, reply: FastifyReply) => {
  const send = isBirdPath(req.url) ? sendBirdError : sendError;
  switch (err.code) {
    case 'FST_ERR_BAD_URL':
      return send(reply, new RoostError('bad_request', 'the URL path is not validly percent-encoded'));
    // Every path parameter is an id; none is 100 characters long.
    case 'FST_ERR_MAX_PARAM_LENGTH':
      return send(reply, new RoostError('not_found', 'resource not found'));
    default:
      req.log.error({ err }, 'framework error');
      return send(reply, new RoostError('internal', 'internal error'));
  }
};

/**
 * A request Node's HTTP parser refused (malformed framing or header, headers past
 * Node's limit, headers that never finished arriving). The connection is closed after
 * the answer, as Node's own handler does: what follows on it cannot be framed.
 */
export function clientErrorHandler(err: NodeJS.ErrnoException, socket: Socket): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const error = err.code === 'HPE_HEADER_OVERFLOW'
    ? new RoostError('headers_too_large', 'the request line and headers are too large')
    : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
      ? new RoostError('request_timeout', 'the request did not arrive in time')
      : new RoostError('bad_request', 'the request is not valid HTTP/1.1');
  const status = statusOf(error);
  const body = errorBody(error);
  if (socket.writable) {
    socket.write(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\ncontent-type: application/json; charset=utf-8\r\n` +
      `content-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
  }
  socket.destroy();
}

/** A request that arrives while the server closes: 503 code 100, and the connection closes. */
export function refuseWhileClosing(url: string | undefined, res: ServerResponse): void {
  const error = new RoostError('unavailable', 'the server is shutting down; try again shortly');
  const body = isBirdPath(url) ? birdErrorBody(error) : errorBody(error);
  res.writeHead(503, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body), connection: 'close' });
  res.end(body);
}

const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;

/**
 * For a request no route took: 405 code 98 with `Allow` when its path is served under
 * other methods (`PUT /v1/conversations`), else 404 code 98, API not found.
 */
export function answerUnrouted(app: FastifyInstance, req: FastifyRequest, reply: FastifyReply): FastifyReply {
  const send = isBirdPath(req.url) ? sendBirdError : sendError;
  const path = req.url.split('?')[0]!;
  const allowed = METHODS.filter((method) => method !== req.method && app.findRoute({ method, url: path }) !== null);
  if (allowed.length === 0) return send(reply, new RoostError('api_not_found', `API not found: ${req.method} ${path}`));
  reply.header('allow', allowed.join(', '));
  return send(reply, new RoostError('method_not_allowed', `${req.method} is not allowed on ${path} (allowed: ${allowed.join(', ')})`));
}
