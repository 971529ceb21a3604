import type { ChannelId } from '../../domain/ids.js';
import type { WireError } from '../thread-error.js';
import type { TxVerb } from '../verbs.js';

/**
 * Messages between the event-loop thread and the SQLite writer thread. Requests and
 * results travel in arrays, one message per turn of the sending loop; the few messages of
 * a transaction proxied from the event loop (`open`, `call`, `called`, `end`) travel alone
 * and at once, because its group commit waits on them.
 */
export type ToWriter =
  /** Run a procedure in the next group commit. */
  | { t: 'run'; id: number; module: string; name: string; args: unknown }
  /** Run a work-finding procedure at the end of each group until it finds some (Store.runWhenFound). */
  | { t: 'hold'; id: number; module: string; name: string; args: { now: number }; ms: number }
  /** End held procedure `id` now, with nothing found. */
  | { t: 'release'; id: number }
  /** Run a callback that lives on the event loop; the writer answers with `open`. */
  | { t: 'tx'; id: number }
  /** A Tx call of such a callback's run number `attempt`. */
  | { t: 'call'; id: number; attempt: number; seq: number; verb: TxVerb; args: unknown[] }
  /** The callback's run ended. */
  | { t: 'end'; id: number; attempt: number; ok: true; value: unknown }
  | { t: 'end'; id: number; attempt: number; ok: false; error: WireError }
  | { t: 'close' };

export type FromWriter =
  | { t: 'ready' }
  | { t: 'failed'; error: WireError }
  /** Transaction `id` is durable (or failed); `forget`: channels it wrote, for the reader's cache. */
  | { t: 'done'; id: number; ok: true; value: unknown; forget: ChannelId[] }
  | { t: 'done'; id: number; ok: false; error: WireError }
  /** Run the callback of transaction `id` (again, when `attempt` > 1: the group was rolled back). */
  | { t: 'open'; id: number; attempt: number }
  | { t: 'called'; seq: number; ok: true; value: unknown }
  | { t: 'called'; seq: number; ok: false; error: WireError }
  | { t: 'closed' };
