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

type Args = [unknown, ...unknown[]];

class LazyChildLogger {
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

  /** A pino method, called on the child (pino's methods read `this`). */
  #log(level: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent', args: Args): void {
    const logger = this.#logger();
    Reflect.apply(logger[level], logger, args);
  }

  get level(): string {
    return this.#logger().level;
  }

  set level(level: string) {
    this.#logger().level = level;
  }

  fatal(...args: Args): void {
    this.#log('fatal', args);
  }

  error(...args: Args): void {
    this.#log('error', args);
  }

  warn(...args: Args): void {
    this.#log('warn', args);
  }

  info(...args: Args): void {
    this.#log('info', args);
  }

  debug(...args: Args): void {
    this.#log('debug', args);
  }

  trace(...args: Args): void {
    this.#log('trace', args);
  }

  silent(...args: Args): void {
    this.#log('silent', args);
  }

  child(bindings: Bindings, options?: ChildLoggerOptions): FastifyBaseLogger {
    return this.#logger().child(bindings, options);
  }
}
