import autocannon from 'autocannon';

export interface LoadResult {
  requests: number;
  rps: number;
  errors: number;
  non2xx: number;
  latency: { p50: number; p99: number; p999: number };
}

/**
 * Drives `url` with `connections` keep-alive connections for `seconds`, each request's
 * body made by `body(i)` (so every request can be a new message). Bounded in time.
 */
export async function load(opts: {
  url: string;
  path: string;
  connections: number;
  seconds: number;
  headers?: Record<string, string>;
  body: (i: number) => string;
}): Promise<LoadResult> {
  let i = 0;
  const result = await autocannon({
    url: opts.url,
    connections: opts.connections,
    duration: opts.seconds,
    pipelining: 1,
    requests: [
      {
        method: 'POST',
        path: opts.path,
        headers: { 'content-type': 'application/json', ...opts.headers },
        setupRequest: (req) => ({ ...req, body: opts.body(i++) }),
      },
    ],
  });
  const lat = result.latency as unknown as Record<string, number>;
  return {
    requests: result.requests.total,
    rps: result.requests.total / opts.seconds,
    errors: result.errors + result.timeouts,
    non2xx: result.non2xx,
    latency: { p50: lat.p50!, p99: lat.p99!, p999: lat.p99_9 ?? lat.p99!, },
  };
}
