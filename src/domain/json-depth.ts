/**
 * The most levels of objects and arrays a JSON value Roost accepts may nest (a message's
 * content, a webhook's settings, a provider's webhook body). Real ones nest a handful;
 * a body nested thousands deep is an attack: it parses, but copying it to the SQLite
 * writer thread (a structured clone) or serialising it again recurses once per level and
 * overflows the stack. It is refused as bad input instead.
 */
export const MAX_JSON_DEPTH = 64;

/** Whether `value` nests objects or arrays more than `max` levels deep (`{}` is one level). */
export function nestsDeeperThan(value: unknown, max: number): boolean {
  if (typeof value !== 'object' || value === null) return false;
  if (max === 0) return true;
  if (Array.isArray(value)) {
    for (const item of value) if (nestsDeeperThan(item, max - 1)) return true;
    return false;
  }
  // for...in: parsed JSON has no inherited enumerable keys, and no array of values is made.
  for (const key in value) if (nestsDeeperThan((value as Record<string, unknown>)[key], max - 1)) return true;
  return false;
}
