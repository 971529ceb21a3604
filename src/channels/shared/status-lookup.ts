import type { OutboundStatus } from '../../domain/status.js';

/**
 * A provider's status word in Roost's terms, after `normalise` (providers differ in case
 * and spacing). Unknown words give undefined: ignored rather than guessed, since a status
 * a provider adds later must not move a message anywhere.
 */
export function lookupStatus(
  map: Readonly<Record<string, OutboundStatus>>, status: unknown, normalise: (status: string) => string,
): OutboundStatus | undefined {
  if (typeof status !== 'string') return undefined;
  const key = normalise(status);
  return Object.hasOwn(map, key) ? map[key] : undefined;
}
