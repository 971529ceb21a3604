import { resolve } from 'node:path';

/** Every setting Roost reads, validated once at start. A bad value stops Roost with exit code 2. */
export interface Config {
  port: number;
  host: string;
  database: { engine: 'sqlite'; path: string } | { engine: 'postgres'; url: string; poolSize: number };
  /** Base for hrefs and inbound URLs; derived from host and port when unset. */
  publicUrl: string | null;
  accessKey: string | null;
  testAccessKey: string | null;
  signingKey: string | null;
  allowPrivateUrls: boolean;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  bodyLimitBytes: number;
  sendConcurrency: number;
  pollIntervalMs: number;
  simulatedStepMs: number;
  outboundTimeoutMs: number;
  webhook: {
    timeoutMs: number;
    /** Waits before each retry, after the immediate first attempt. */
    retryScheduleMs: number[];
    overloadFloorMs: number;
    disableAfterMs: number;
    concurrency: number;
    perWebhook: number;
  };
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  ${problems.join('\n  ')}`);
    this.name = 'ConfigError';
  }
}

type Env = Record<string, string | undefined>;

export function loadConfig(env: Env = process.env): Config {
  const problems: string[] = [];
  const int = (name: string, fallback: number, min: number, max: number): number => {
    const raw = env[name];
    if (raw === undefined || raw === '') return fallback;
    if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) {
      problems.push(`${name}=${JSON.stringify(raw)}: must be an integer from ${min} to ${max}`);
      return fallback;
    }
    return Number(raw);
  };
  const bool = (name: string): boolean => {
    const raw = env[name];
    if (raw === undefined || raw === '' || raw === '0' || raw === 'false') return false;
    if (raw === '1' || raw === 'true') return true;
    problems.push(`${name}=${JSON.stringify(raw)}: must be 1 or 0`);
    return false;
  };

  const port = int('ROOST_PORT', 8080, 0, 65535);
  const host = env.ROOST_HOST || '127.0.0.1';

  const dbUrl = env.ROOST_DATABASE_URL || 'sqlite:./data/roost.db';
  let database: Config['database'] = { engine: 'sqlite', path: resolve('./data/roost.db') };
  if (dbUrl.startsWith('sqlite:')) {
    const path = dbUrl.slice('sqlite:'.length).replace(/^\/\/(?=\/)/, '');
    if (path === '') problems.push('ROOST_DATABASE_URL: sqlite: needs a file path, e.g. sqlite:./data/roost.db');
    else database = { engine: 'sqlite', path: path === ':memory:' ? path : resolve(path) };
  } else if (/^postgres(ql)?:\/\//.test(dbUrl)) {
    try {
      new URL(dbUrl);
      database = { engine: 'postgres', url: dbUrl, poolSize: int('ROOST_DATABASE_POOL_SIZE', 10, 2, 200) };
    } catch {
      problems.push('ROOST_DATABASE_URL: not a valid postgres:// URL');
    }
  } else {
    problems.push(`ROOST_DATABASE_URL: must start with sqlite: or postgres:// (e.g. sqlite:./data/roost.db)`);
  }

  let publicUrl: string | null = null;
  if (env.ROOST_PUBLIC_URL) {
    try {
      const u = new URL(env.ROOST_PUBLIC_URL);
      if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error();
      if (u.search || u.hash || /[?#]/.test(env.ROOST_PUBLIC_URL) || u.username || u.password) throw new Error();
      publicUrl = `${u.origin}${u.pathname}`.replace(/\/+$/, '');
    } catch {
      problems.push('ROOST_PUBLIC_URL: must be an absolute http(s) URL without query or credentials, e.g. https://roost.example.com');
    }
  }

  const key = (name: string, test: boolean): string | null => {
    const raw = env[name];
    if (raw === undefined || raw === '') return null;
    if (raw.length < 16 || /\s/.test(raw)) problems.push(`${name}: must be at least 16 characters without spaces`);
    else if (test && !raw.startsWith('test_')) problems.push(`${name}: a test key must start with test_`);
    else if (!test && raw.startsWith('test_')) problems.push(`${name}: a live key must not start with test_`);
    return raw;
  };
  const accessKey = key('ROOST_ACCESS_KEY', false);
  const testAccessKey = key('ROOST_TEST_ACCESS_KEY', true);

  const signingKey = env.ROOST_SIGNING_KEY || null;
  if (signingKey !== null && signingKey.length < 16) problems.push('ROOST_SIGNING_KEY: must be at least 16 characters');

  const DEFAULT_SCHEDULE = '5,300,1800,7200,18000,36000,50400,72000,86400';
  const scheduleRaw = env.ROOST_WEBHOOK_RETRY_SCHEDULE || DEFAULT_SCHEDULE;
  const retryScheduleMs = scheduleRaw.split(',').map((s) => Number(s.trim()) * 1000);
  if (retryScheduleMs.length > 50 || retryScheduleMs.some((n) => !Number.isFinite(n) || n < 0 || n > 7 * 86_400_000)) {
    problems.push('ROOST_WEBHOOK_RETRY_SCHEDULE: must be a comma-separated list of at most 50 waits in seconds (each up to 7 days)');
  }

  const levels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
  const logLevel = (env.ROOST_LOG_LEVEL || 'info') as Config['logLevel'];
  if (!levels.includes(logLevel)) problems.push(`ROOST_LOG_LEVEL: must be one of ${levels.join(', ')}`);

  const config: Config = {
    port,
    host,
    database,
    publicUrl,
    accessKey,
    testAccessKey,
    signingKey,
    allowPrivateUrls: bool('ROOST_ALLOW_PRIVATE_URLS'),
    logLevel,
    bodyLimitBytes: int('ROOST_BODY_LIMIT_BYTES', 1_048_576, 1024, 64 * 1_048_576),
    sendConcurrency: int('ROOST_SEND_CONCURRENCY', 32, 1, 1024),
    pollIntervalMs: int('ROOST_POLL_INTERVAL_MS', 500, 10, 60_000),
    simulatedStepMs: int('ROOST_SIMULATED_STEP_MS', 200, 0, 60_000),
    outboundTimeoutMs: int('ROOST_OUTBOUND_TIMEOUT_MS', 10_000, 100, 120_000),
    webhook: {
      timeoutMs: int('ROOST_WEBHOOK_TIMEOUT_MS', 10_000, 100, 120_000),
      retryScheduleMs,
      overloadFloorMs: int('ROOST_WEBHOOK_OVERLOAD_FLOOR_MS', 60_000, 0, 3_600_000),
      disableAfterMs: int('ROOST_WEBHOOK_DISABLE_AFTER_SECONDS', 5 * 86_400, 1, 365 * 86_400) * 1000,
      concurrency: int('ROOST_DELIVERY_CONCURRENCY', 256, 1, 4096),
      perWebhook: int('ROOST_DELIVERY_PER_WEBHOOK', 64, 1, 4096),
    },
  };
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}
