import type { MessageError } from '../../domain/records.js';
import { HttpFailure } from '../../net/http-client.js';
import type { HttpResponse } from '../../net/http-client.js';
import type { SendOutcome } from '../connector.js';
import { parseRetryAfter } from '../../net/retry-after.js';

/**
 * How every connector's `send` turns a provider request into a SendOutcome. The policy is
 * Roost's, not the provider's: what can pass (network, timeouts, throttling, 5xx) is
 * retried, what cannot (a refused address, any other answer) fails for good.
 */

/** Outcomes Roost decides by itself carry error code 0 (no provider code to report). */
export const failedOutcome = (description: string): SendOutcome => ({ kind: 'failed', error: { code: 0, description } });
export const retryOutcome = (description: string): SendOutcome => ({ kind: 'retry', error: { code: 0, description } });

export const isSuccessStatus = (status: number): boolean => status >= 200 && status < 300;

/** Request timeout, throttling and server errors: the same request may well succeed later. */
export const isTransientStatus = (status: number): boolean => status === 408 || status === 429 || status >= 500;

export const isRefusedAddress = (err: unknown): boolean => err instanceof HttpFailure && err.reason === 'refused_private_address';

export const errorText = (err: unknown): string => (err instanceof Error ? err.message : String(err));

/**
 * Makes one provider request and reads its answer with `outcomeOf`. A request that got no
 * answer is an outcome too: a refused (private) address is the channel's base URL, which
 * no retry fixes; a network failure or timeout may pass. `describe` words the failure
 * (Telegram's hides the bot token its URLs carry).
 */
export async function sendRequest(
  provider: string,
  request: () => Promise<HttpResponse>,
  outcomeOf: (res: HttpResponse) => SendOutcome,
  describe: (err: unknown) => string = errorText,
): Promise<SendOutcome> {
  let res: HttpResponse;
  try {
    res = await request();
  } catch (err) {
    const why = describe(err);
    return isRefusedAddress(err) ? failedOutcome(`${provider} base URL refused: ${why}`) : retryOutcome(`${provider} unreachable: ${why}`);
  }
  return outcomeOf(res);
}

/**
 * The outcome of an answer that refused the message. Transient ones (408, 429, 5xx unless
 * `transient` says otherwise) are retried after the delay the provider asked for
 * (`retryAfterMs`, else its Retry-After header); the rest fail with `error`.
 */
export function refusedOutcome(
  res: HttpResponse, error: MessageError, o: { transient?: boolean; retryAfterMs?: number | undefined } = {},
): SendOutcome {
  if (!(o.transient ?? isTransientStatus(res.status))) return { kind: 'failed', error };
  const wait = o.retryAfterMs ?? parseRetryAfter(res.headers['retry-after']);
  return wait === undefined ? { kind: 'retry', error } : { kind: 'retry', error, retryAfterMs: wait };
}
