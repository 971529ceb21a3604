/** The clock is injected everywhere so that tests drive time instead of sleeping. */
export interface Clock {
  now(): number; // milliseconds since the epoch
}

export const systemClock: Clock = { now: () => Date.now() };

/** RFC 3339 UTC with millisecond precision, e.g. `2019-03-01T10:40:02.880Z`. */
export function rfc3339(ms: number): string {
  return new Date(ms).toISOString();
}
