import type { Logger } from 'pino';
import type { WebhookId } from '../domain/ids.js';
import type { Clock } from '../domain/time.js';
import type { Metrics } from '../metrics.js';
import type { HttpClient } from '../net/http-client.js';
import type { ClaimedDelivery, Store } from '../store/store.js';
import { attemptDelivery } from './attempt.js';
import type { AttemptResult } from './attempt.js';
import { PollingWorker } from '../workers/polling-worker.js';
import { describe } from './outcome.js';
import { claimDeliveries } from './claim.js';
import { recordDeliveryAttempt } from './record.js';
import type { DeliveryPolicy } from './outcome.js';

export interface DispatcherDeps {
  store: Store;
  http: HttpClient;
  clock: Clock;
  log: Logger;
  metrics: Metrics;
  policy: DeliveryPolicy;
  /** Requests in flight across all webhooks: bounds memory and sockets under any backlog. */
  concurrency: number;
  /** Requests in flight to one webhook, so a slow endpoint cannot take every slot. */
  perWebhook: number;
  timeoutMs: number;
  pollIntervalMs: number;
  leaseMs: number;
}

/**
 * Delivers the outbox: claim due deliveries (attempt counted at claim time, with a lease
 * so a dead node's claims return), POST them outside any transaction, then record the
 * attempt, the delivery's fate and the webhook's health in one transaction. Ordering is
 * the Store's job: only the oldest unfinished delivery of a webhook and conversation is
 * ever claimable. Polling is the correctness path; `notify()` only wakes an idle loop.
 */
const SATURATED_RECHECK_MS = 50;

export class Dispatcher extends PollingWorker {
  readonly #d: DispatcherDeps;
  /** Attempts in flight per webhook (for the per-webhook cap); `inFlight` counts them all. */
  readonly #perWebhook = new Map<WebhookId, number>();
  #lastSaturatedClaim = 0;

  constructor(deps: DispatcherDeps) {
    super();
    this.#d = deps;
  }

  protected async turn(): Promise<void> {
    const room = this.#d.concurrency - this.inFlight.count;
    let claimed: ClaimedDelivery[] = [];
    const now = this.#d.clock.now();
    const due = room > 0 ? await this.#d.store.nextDeliveryDue().catch(() => now) : null;
    const saturated = [...this.#perWebhook].filter(([, n]) => n >= this.#d.perWebhook).map(([id]) => id);
    // When every webhook in flight is at its cap, a claim would walk the whole backlog to
    // find another webhook's work; look for that at most every SATURATED_RECHECK_MS.
    const allSaturated = saturated.length > 0 && saturated.length === this.#perWebhook.size;
    const recheck = !allSaturated || now - this.#lastSaturatedClaim >= SATURATED_RECHECK_MS;
    const args = { now, leaseMs: this.#d.leaseMs, room, perWebhook: this.#d.perWebhook, inFlight: [...this.#perWebhook], saturated };
    const store = this.#d.store;
    if (due !== null && due <= now && recheck) {
      if (allSaturated) this.#lastSaturatedClaim = now;
      try {
        claimed = await store.run(claimDeliveries, args);
      } catch (err) {
        this.#d.log.error({ err }, 'delivery: claiming failed');
      }
    } else if (room > 0 && !allSaturated) {
      // Nothing due: the claim waits in the store and runs at the end of the group commit
      // that creates work (an inbound message's delivery, a chain's next), in that very
      // transaction, until the next retry is due or the poll interval ends (then the loop
      // looks again, as it would have after a sleep). Its room and shares may be stale by
      // then, but only ever smaller than what is free.
      const held = this.claimWhenFound(store, this.#d.clock, claimDeliveries, args, due, this.#d.pollIntervalMs);
      try {
        if (held) {
          for (const c of await held) this.#launch(c);
          return;
        }
      } catch (err) {
        this.#d.log.error({ err }, 'delivery: claiming failed');
      }
    }
    for (const c of claimed) this.#launch(c);
    if (claimed.length === 0 || this.inFlight.count >= this.#d.concurrency) {
      // Sleep until the next retry is due, the poll interval, or a notify, whichever comes first.
      const untilDue = allSaturated ? SATURATED_RECHECK_MS : due !== null && due > now ? due - now : this.#d.pollIntervalMs;
      await this.wakeup.sleep(Math.max(1, Math.min(this.#d.pollIntervalMs, untilDue)));
    }
  }

  #launch(claim: ClaimedDelivery): void {
    const hook = claim.delivery.webhookId;
    this.#perWebhook.set(hook, (this.#perWebhook.get(hook) ?? 0) + 1);
    // The webhook's slot is its request's: free once the answer is in, while the attempt is
    // recorded (a durable commit). `inFlight` (the overall cap) holds until it is recorded.
    let requesting = true;
    const answered = () => {
      if (!requesting) return;
      requesting = false;
      const left = (this.#perWebhook.get(hook) ?? 1) - 1;
      if (left === 0) this.#perWebhook.delete(hook);
      else this.#perWebhook.set(hook, left);
      this.notify();
    };
    this.inFlight.track(this.#deliver(claim, answered), () => {
      answered();
      this.notify();
    });
  }

  async #deliver(claim: ClaimedDelivery, answered: () => void): Promise<void> {
    const { clock, http, timeoutMs } = this.#d;
    const started = clock.now();
    const t0 = performance.now();
    const result = await attemptDelivery(http, claim, started, timeoutMs);
    const durationMs = Math.round(performance.now() - t0);
    answered();
    try {
      await this.#record(claim, result, started, durationMs);
    } catch (err) {
      // Not recorded: the lease expires and the delivery is attempted again (at least once).
      this.#d.log.error({ err, deliveryId: claim.delivery.id }, 'delivery: could not record an attempt');
    }
  }

  async #record(claim: ClaimedDelivery, result: AttemptResult, attemptedAt: number, durationMs: number): Promise<void> {
    const { store, clock, policy, metrics, log } = this.#d;
    const d = claim.delivery;
    // Keyed by the delivery: its row and its attempt are its own. What it shares with
    // other callbacks (the chain's next delivery, the webhook's health) changes in single
    // statements, as it does between concurrent batches and nodes anyway.
    const outcome = await store.run(recordDeliveryAttempt, {
      delivery: d, url: claim.url, result, attemptedAt, durationMs, now: clock.now(), policy,
    }, { key: `delivery\u0000${d.id}` });
    metrics.deliveryAttempts.inc({ result: result.kind, trigger: 'scheduled' });
    if (!outcome) return;
    const { decision, disabledNow } = outcome;
    if (decision.delivery.kind === 'failed') {
      metrics.deliveriesFailed.inc();
      log.warn({ deliveryId: d.id, webhookId: d.webhookId, attempts: d.attempts, error: describe(result).error }, 'webhook delivery failed for good');
    }
    if (disabledNow) {
      metrics.webhooksDisabled.inc({ reason: decision.webhook.disable });
      log.warn({ webhookId: d.webhookId, reason: decision.webhook.disable }, 'webhook disabled automatically');
    }
    if (decision.delivery.kind !== 'retry') this.notify(); // the next delivery of the chain may be due now
  }
}
