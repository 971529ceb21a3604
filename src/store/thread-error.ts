import { RoostError } from '../domain/errors.js';
import type { ErrorKind } from '../domain/errors.js';

/**
 * An error as it crosses between threads. A structured clone keeps only a plain Error's
 * message, so a RoostError (a body's `not found`, `invalid ...`) would arrive as a 500;
 * this keeps its kind and parameter, and for other errors the name, message, stack and
 * driver code (`SQLITE_BUSY`, ...).
 */
export type WireError =
  | { roost: ErrorKind; message: string; parameter: string | null }
  | { roost?: undefined; name: string; message: string; stack?: string | undefined; code?: string | undefined };

export function toWire(error: unknown): WireError {
  if (error instanceof RoostError) return { roost: error.kind, message: error.message, parameter: error.parameter };
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return { name: error.name, message: error.message, stack: error.stack, code: typeof code === 'string' ? code : undefined };
  }
  return { name: 'Error', message: String(error) };
}

export function fromWire(wire: WireError): Error {
  if (wire.roost !== undefined) return new RoostError(wire.roost, wire.message, wire.parameter);
  const error = new Error(wire.message);
  // Not an own enumerable property, as on the original.
  if (wire.name !== 'Error') Object.defineProperty(error, 'name', { value: wire.name, configurable: true, writable: true });
  if (wire.stack !== undefined) error.stack = wire.stack;
  if (wire.code !== undefined) Object.assign(error, { code: wire.code });
  return error;
}
