import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';

function problemsOf(env: Record<string, string | undefined>): string[] {
  try {
    loadConfig(env);
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as ConfigError).problems;
  }
  throw new Error('expected a ConfigError');
}

function expectOnlyProblemAbout(env: Record<string, string | undefined>, variable: string) {
  const problems = problemsOf(env);
  expect(problems, JSON.stringify(problems)).toHaveLength(1);
  expect(problems[0]).toContain(variable);
}

const LIVE = 'live_0123456789abcdefABCDEF';
const TEST = 'test_0123456789abcdefABCDEF';

describe('loadConfig: defaults', () => {
  it('has a default for everything', () => {
    expect(loadConfig({})).toEqual({
      port: 8080,
      host: '127.0.0.1',
      database: { engine: 'sqlite', path: resolve('./data/roost.db') },
      publicUrl: null,
      accessKey: null,
      testAccessKey: null,
      signingKey: null,
      allowPrivateUrls: false,
      logLevel: 'info',
      bodyLimitBytes: 1_048_576,
      sendConcurrency: 32,
      pollIntervalMs: 500,
      simulatedStepMs: 200,
      outboundTimeoutMs: 10_000,
      webhook: {
        timeoutMs: 10_000,
        retryScheduleMs: [5, 300, 1800, 7200, 18_000, 36_000, 50_400, 72_000, 86_400].map((s) => s * 1000),
        overloadFloorMs: 60_000,
        disableAfterMs: 5 * 86_400_000,
        concurrency: 256,
        perWebhook: 64,
      },
    });
  });

  it('treats empty strings as unset', () => {
    const env = Object.fromEntries(
      ['ROOST_PORT', 'ROOST_HOST', 'ROOST_DATABASE_URL', 'ROOST_PUBLIC_URL', 'ROOST_ACCESS_KEY', 'ROOST_TEST_ACCESS_KEY',
        'ROOST_SIGNING_KEY', 'ROOST_ALLOW_PRIVATE_URLS', 'ROOST_LOG_LEVEL', 'ROOST_BODY_LIMIT_BYTES', 'ROOST_SEND_CONCURRENCY',
        'ROOST_POLL_INTERVAL_MS', 'ROOST_SIMULATED_STEP_MS', 'ROOST_OUTBOUND_TIMEOUT_MS'].map((k) => [k, '']),
    );
    expect(loadConfig(env)).toEqual(loadConfig({}));
  });

  it('ignores unrelated variables', () => {
    expect(loadConfig({ PATH: '/bin', PORT: 'nope', HOME: '/root' })).toEqual(loadConfig({}));
  });
});

describe('loadConfig: valid values', () => {
  it('reads every setting', () => {
    const c = loadConfig({
      ROOST_PORT: '0',
      ROOST_HOST: '0.0.0.0',
      ROOST_DATABASE_URL: 'sqlite:/var/lib/roost/roost.db',
      ROOST_PUBLIC_URL: 'https://roost.example.com',
      ROOST_ACCESS_KEY: LIVE,
      ROOST_TEST_ACCESS_KEY: TEST,
      ROOST_SIGNING_KEY: 'signing-key-0123456789',
      ROOST_ALLOW_PRIVATE_URLS: '1',
      ROOST_LOG_LEVEL: 'debug',
      ROOST_BODY_LIMIT_BYTES: '1024',
      ROOST_SEND_CONCURRENCY: '1024',
      ROOST_POLL_INTERVAL_MS: '10',
      ROOST_SIMULATED_STEP_MS: '0',
      ROOST_OUTBOUND_TIMEOUT_MS: '120000',
      ROOST_WEBHOOK_TIMEOUT_MS: '2500',
      ROOST_WEBHOOK_RETRY_SCHEDULE: '1, 0.5,60',
      ROOST_WEBHOOK_OVERLOAD_FLOOR_MS: '0',
      ROOST_WEBHOOK_DISABLE_AFTER_SECONDS: '30',
      ROOST_DELIVERY_CONCURRENCY: '8',
      ROOST_DELIVERY_PER_WEBHOOK: '2',
    });
    expect(c).toEqual({
      port: 0,
      host: '0.0.0.0',
      database: { engine: 'sqlite', path: '/var/lib/roost/roost.db' },
      publicUrl: 'https://roost.example.com',
      accessKey: LIVE,
      testAccessKey: TEST,
      signingKey: 'signing-key-0123456789',
      allowPrivateUrls: true,
      logLevel: 'debug',
      bodyLimitBytes: 1024,
      sendConcurrency: 1024,
      pollIntervalMs: 10,
      simulatedStepMs: 0,
      outboundTimeoutMs: 120_000,
      webhook: {
        timeoutMs: 2500,
        retryScheduleMs: [1000, 500, 60_000],
        overloadFloorMs: 0,
        disableAfterMs: 30_000,
        concurrency: 8,
        perWebhook: 2,
      },
    });
  });

  it.each([['1', true], ['true', true], ['0', false], ['false', false]])('ROOST_ALLOW_PRIVATE_URLS=%s is %s', (raw, expected) => {
    expect(loadConfig({ ROOST_ALLOW_PRIVATE_URLS: raw }).allowPrivateUrls).toBe(expected);
  });

  it.each(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])('accepts log level %s', (level) => {
    expect(loadConfig({ ROOST_LOG_LEVEL: level }).logLevel).toBe(level);
  });

  it('accepts the port bounds', () => {
    expect(loadConfig({ ROOST_PORT: '65535' }).port).toBe(65535);
    expect(loadConfig({ ROOST_PORT: '0' }).port).toBe(0);
  });
});

const sqlitePath = (c: ReturnType<typeof loadConfig>) => (c.database.engine === 'sqlite' ? c.database.path : '');

describe('loadConfig: database URL', () => {
  it('resolves a relative sqlite path against the working directory', () => {
    expect(loadConfig({ ROOST_DATABASE_URL: 'sqlite:./var/x.db' }).database).toEqual({ engine: 'sqlite', path: resolve('./var/x.db') });
    expect(sqlitePath(loadConfig({ ROOST_DATABASE_URL: 'sqlite:x.db' }))).toBe(resolve('x.db'));
  });

  it('keeps an absolute sqlite path', () => {
    expect(sqlitePath(loadConfig({ ROOST_DATABASE_URL: 'sqlite:/tmp/roost/x.db' }))).toBe('/tmp/roost/x.db');
  });

  it('accepts the URL form sqlite:///absolute/path', () => {
    expect(sqlitePath(loadConfig({ ROOST_DATABASE_URL: 'sqlite:///tmp/roost/x.db' }))).toBe('/tmp/roost/x.db');
  });

  it('keeps :memory: as is', () => {
    expect(loadConfig({ ROOST_DATABASE_URL: 'sqlite::memory:' }).database).toEqual({ engine: 'sqlite', path: ':memory:' });
  });

  it('always returns an absolute path for files', () => {
    for (const url of ['sqlite:a.db', 'sqlite:./a/b.db', 'sqlite:../a.db', 'sqlite:/a.db']) {
      expect(sqlitePath(loadConfig({ ROOST_DATABASE_URL: url })).startsWith('/'), url).toBe(true);
    }
  });

  it('refuses sqlite: without a path', () => {
    expectOnlyProblemAbout({ ROOST_DATABASE_URL: 'sqlite:' }, 'ROOST_DATABASE_URL');
  });

  it.each([['postgres://u:p@db:5432/roost'], ['postgresql://u:p@db/roost']])('selects the PostgreSQL engine for %s', (url) => {
    expect(loadConfig({ ROOST_DATABASE_URL: url }).database).toEqual({ engine: 'postgres', url, poolSize: 10 });
    expect(loadConfig({ ROOST_DATABASE_URL: url, ROOST_DATABASE_POOL_SIZE: '32' }).database).toEqual({ engine: 'postgres', url, poolSize: 32 });
  });

  it('refuses a bad pool size and does not echo the database password', () => {
    const problems = problemsOf({ ROOST_DATABASE_URL: 'postgres://u:secretpw@db/roost', ROOST_DATABASE_POOL_SIZE: '1' });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toContain('ROOST_DATABASE_POOL_SIZE');
    expect(problems.join()).not.toContain('secretpw');
  });

  it.each([['mysql://db/roost'], ['/var/lib/roost.db'], ['./roost.db'], ['SQLITE:x.db']])('refuses %s', (url) => {
    expectOnlyProblemAbout({ ROOST_DATABASE_URL: url }, 'ROOST_DATABASE_URL');
  });
});

describe('loadConfig: public URL', () => {
  it.each([
    ['https://roost.example.com/', 'https://roost.example.com'],
    ['https://roost.example.com', 'https://roost.example.com'],
    ['https://roost.example.com///', 'https://roost.example.com'],
    ['https://example.com/roost/', 'https://example.com/roost'],
    ['http://localhost:8080/', 'http://localhost:8080'],
  ])('normalises %s to %s', (raw, expected) => {
    expect(loadConfig({ ROOST_PUBLIC_URL: raw }).publicUrl).toBe(expected);
  });

  it.each([['roost.example.com'], ['ftp://roost.example.com'], ['https://roost.example.com/?a=1'], ['https://roost.example.com/#x'], ['/relative']])(
    'refuses %s',
    (raw) => {
      expectOnlyProblemAbout({ ROOST_PUBLIC_URL: raw }, 'ROOST_PUBLIC_URL');
    },
  );

  it('never yields a public URL that ends in a slash, query or fragment marker', () => {
    for (const raw of ['https://roost.example.com/?', 'https://roost.example.com/#', 'https://roost.example.com/a/']) {
      let url: string | null = null;
      try {
        url = loadConfig({ ROOST_PUBLIC_URL: raw }).publicUrl;
      } catch (e) {
        expect(e).toBeInstanceOf(ConfigError);
        continue;
      }
      expect(url, raw).not.toMatch(/[/?#]$/);
    }
  });
});

describe('loadConfig: invalid values each name their variable', () => {
  it.each([
    ['ROOST_PORT', 'abc'], ['ROOST_PORT', '-1'], ['ROOST_PORT', '65536'], ['ROOST_PORT', '80.5'], ['ROOST_PORT', ' 80'],
    ['ROOST_BODY_LIMIT_BYTES', '1023'], ['ROOST_BODY_LIMIT_BYTES', String(64 * 1_048_576 + 1)], ['ROOST_BODY_LIMIT_BYTES', '1mb'],
    ['ROOST_SEND_CONCURRENCY', '0'], ['ROOST_SEND_CONCURRENCY', '1025'],
    ['ROOST_POLL_INTERVAL_MS', '9'], ['ROOST_POLL_INTERVAL_MS', '60001'],
    ['ROOST_SIMULATED_STEP_MS', '60001'], ['ROOST_SIMULATED_STEP_MS', '-5'],
    ['ROOST_WEBHOOK_RETRY_SCHEDULE', '5,abc'], ['ROOST_WEBHOOK_RETRY_SCHEDULE', '-1'], ['ROOST_WEBHOOK_TIMEOUT_MS', '10'],
    ['ROOST_WEBHOOK_DISABLE_AFTER_SECONDS', '0'], ['ROOST_DELIVERY_CONCURRENCY', '0'],
    ['ROOST_OUTBOUND_TIMEOUT_MS', '99'], ['ROOST_OUTBOUND_TIMEOUT_MS', '120001'],
    ['ROOST_ALLOW_PRIVATE_URLS', 'yes'], ['ROOST_ALLOW_PRIVATE_URLS', 'TRUE'], ['ROOST_ALLOW_PRIVATE_URLS', '2'],
    ['ROOST_LOG_LEVEL', 'verbose'], ['ROOST_LOG_LEVEL', 'INFO'],
    ['ROOST_SIGNING_KEY', 'short'], ['ROOST_SIGNING_KEY', '0123456789abcde'],
    ['ROOST_ACCESS_KEY', 'live_short'], ['ROOST_ACCESS_KEY', 'live_0123456789 abcdef'], ['ROOST_ACCESS_KEY', TEST],
    ['ROOST_TEST_ACCESS_KEY', 'test_short'], ['ROOST_TEST_ACCESS_KEY', LIVE], ['ROOST_TEST_ACCESS_KEY', 'test_0123456789\tabcdef'],
  ])('%s=%j', (variable, value) => {
    expectOnlyProblemAbout({ [variable]: value }, variable);
  });

  it('lists every problem at once', () => {
    const problems = problemsOf({
      ROOST_PORT: 'x',
      ROOST_LOG_LEVEL: 'loud',
      ROOST_ALLOW_PRIVATE_URLS: 'maybe',
      ROOST_DATABASE_URL: 'mysql://db/x',
      ROOST_PUBLIC_URL: 'nope',
      ROOST_SEND_CONCURRENCY: '0',
    });
    expect(problems).toHaveLength(6);
    for (const v of ['ROOST_PORT', 'ROOST_LOG_LEVEL', 'ROOST_ALLOW_PRIVATE_URLS', 'ROOST_DATABASE_URL', 'ROOST_PUBLIC_URL', 'ROOST_SEND_CONCURRENCY']) {
      expect(problems.some((p) => p.includes(v)), v).toBe(true);
    }
  });

  it('puts every problem in the error message', () => {
    try {
      loadConfig({ ROOST_PORT: 'x', ROOST_LOG_LEVEL: 'loud' });
      expect.unreachable();
    } catch (e) {
      expect((e as Error).name).toBe('ConfigError');
      expect((e as Error).message).toContain('ROOST_PORT');
      expect((e as Error).message).toContain('ROOST_LOG_LEVEL');
    }
  });

  it('never echoes access key values into problems (they end up in logs)', () => {
    const secret = 'live_0123456789 abcdefSECRET';
    const problems = problemsOf({ ROOST_ACCESS_KEY: secret, ROOST_TEST_ACCESS_KEY: LIVE });
    for (const p of problems) {
      expect(p).not.toContain('SECRET');
      expect(p).not.toContain(LIVE);
    }
  });
});
