import type { FastifyBaseLogger } from 'fastify';
import type { Bindings, ChildLoggerOptions } from 'pino';

/**
 * Fastify's `childLoggerFactory` for `request.log`: the pino child is made on the
 * request's first log line. Fastify asks for one per request, and a pino child costs
 * the event loop a few microseconds (its bindings serialised, its level methods
 * rebuilt) on a path where nearly no request logs: provider webhooks and API calls
 * log only when something fails.
 */
export function lazyChildLogger(parent: FastifyBaseLogger, bindings: Bindings, options: ChildLoggerOptions): FastifyBaseLogger {
  // The class has every method Fastify checks and calls; pino's overloads are not restated.
  return new LazyChildLogger(parent, bindings, options) as unknown as FastifyBaseLogger;
}

type LogLine = (...args: [unknown, ...unknown[]]) => void;
const LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

class LazyChildLogger {
  // One method per level, defined below: each calls the child's own (pino's read `this`).
  declare fatal: LogLine;
  declare error: LogLine;
  declare warn: LogLine;
  declare info: LogLine;
  declare debug: LogLine;
  declare trace: LogLine;
  declare silent: LogLine;

  static {
    for (const level of LEVELS) {
      this.prototype[level] = function (this: LazyChildLogger, ...args) {
        const logger = this.#logger();
        Reflect.apply(logger[level], logger, args);
      };
    }
  }

  #made: FastifyBaseLogger | undefined;
  readonly #parent: FastifyBaseLogger;
  readonly #bindings: Bindings;
  readonly #options: ChildLoggerOptions;

  constructor(parent: FastifyBaseLogger, bindings: Bindings, options: ChildLoggerOptions) {
    this.#parent = parent;
    this.#bindings = bindings;
    this.#options = options;
  }

  #logger(): FastifyBaseLogger {
    return (this.#made ??= this.#parent.child(this.#bindings, this.#options));
  }

  get level(): string {
    return this.#logger().level;
  }

  set level(level: string) {
    this.#logger().level = level;
  }

  child(bindings: Bindings, options?: ChildLoggerOptions): FastifyBaseLogger {
    return this.#logger().child(bindings, options);
  }
}
