import { Writable } from 'node:stream';
import Fastify from 'fastify';
import type { FastifyBaseLogger } from 'fastify';
import { pino } from 'pino';
import { describe, expect, it, vi } from 'vitest';
import { lazyChildLogger } from '../../../src/http/lazy-child-logger.js';

/** A pino logger writing its lines into an array. */
function capture() {
  const lines: Array<Record<string, unknown>> = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString('utf8').split('\n')) if (line) lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { log: pino({ level: 'info' }, stream), lines };
}

describe('lazyChildLogger', () => {
  it('makes the pino child on the first line, once, with the bindings and options it was given', () => {
    const { log, lines } = capture();
    const child = vi.spyOn(log, 'child');
    const lazy = lazyChildLogger(log as unknown as FastifyBaseLogger, { reqId: 'req-1' }, { msgPrefix: '[r] ' });
    expect(child).not.toHaveBeenCalled();
    lazy.info('first');
    lazy.error({ code: 7 }, 'second %s', 'arg');
    lazy.debug('below the level');
    expect(child).toHaveBeenCalledTimes(1);
    expect(lines.map((l) => [l.reqId, l.msg, l.code])).toEqual([
      ['req-1', '[r] first', undefined],
      ['req-1', '[r] second arg', 7],
    ]);
  });

  it('reads and sets the level of its child, and makes grandchildren that keep the bindings', () => {
    const { log, lines } = capture();
    const lazy = lazyChildLogger(log as unknown as FastifyBaseLogger, { reqId: 'req-2' }, {});
    expect(lazy.level).toBe('info');
    lazy.level = 'error';
    lazy.warn('hidden');
    lazy.child({ part: 'x' }).error('shown');
    expect(log.level).toBe('info');
    expect(lines.map((l) => [l.reqId, l.part, l.msg])).toEqual([['req-2', 'x', 'shown']]);
  });

  it('serves Fastify: a request that logs gets its request id, one that does not makes no child', async () => {
    const { log, lines } = capture();
    const child = vi.spyOn(log, 'child');
    const app = Fastify({ loggerInstance: log as unknown as FastifyBaseLogger, disableRequestLogging: true, childLoggerFactory: lazyChildLogger });
    app.get('/quiet', async () => ({ ok: true }));
    app.get('/loud', async (req) => {
      req.log.warn('something to say');
      return { ok: true };
    });
    try {
      const made = child.mock.calls.length;
      expect((await app.inject({ method: 'GET', url: '/quiet' })).statusCode).toBe(200);
      expect(child.mock.calls.length).toBe(made);
      expect((await app.inject({ method: 'GET', url: '/loud' })).statusCode).toBe(200);
      expect(child.mock.calls.length).toBe(made + 1);
      const said = lines.filter((l) => l.msg === 'something to say');
      expect(said).toHaveLength(1);
      expect(said[0]!.reqId).toEqual(expect.any(String));
    } finally {
      await app.close();
    }
  });
});
