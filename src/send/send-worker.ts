import type { Logger } from 'pino';
import type { Channel, Message } from '../domain/records.js';
import { SEND_RETRY_POLICY } from '../domain/retry.js';
import type { RetryPolicy } from '../domain/retry.js';
import type { OutboundStatus } from '../domain/status.js';
import type { Clock } from '../domain/time.js';
import type { ChannelContext, Connector, SendOutcome } from '../channels/connector.js';
import type { HttpClient } from '../net/http-client.js';
import type { SendJob, Store } from '../store/store.js';
import { PollingWorker } from '../workers/polling-worker.js';
import { advanceSimulated, claimSendJobs, dropSendJob, recordSendOutcome } from './send-records.js';

export interface SendWorkerDeps {
  store: Store;
  http: HttpClient;
  clock: Clock;
  log: Logger;
  connectorFor(platformId: string): Connector | undefined;
  contextFor(channel: Channel): ChannelContext;
  concurrency: number;
  pollIntervalMs: number;
  /** How long a claimed job stays ours; a node that dies mid-send loses its claim after this. */
  leaseMs: number;
  /** Pause between the steps of a simulated (sandbox or test-key) message's progress. */
  simulatedStepMs: number;
  retryPolicy?: RetryPolicy;
  /** Called after a commit that wrote events (status changes), to wake the delivery dispatcher. */
  onCommitted?: () => void;
}

/** Statuses a test-key message moves through without ever reaching a provider. */
const TEST_MODE_PROGRESS: readonly OutboundStatus[] = ['sent', 'delivered'];

/**
 * Hands durable send jobs to channel connectors: claim due jobs (the attempt counts at
 * claim time), call the provider outside any transaction, then record the outcome and
 * the job's fate in one transaction. Polling is the correctness path; `notify()` only
 * makes an idle worker look sooner.
 */
export class SendWorker extends PollingWorker {
  readonly #d: SendWorkerDeps;

  constructor(deps: SendWorkerDeps) {
    super();
    this.#d = deps;
  }

  protected async turn(): Promise<void> {
    const room = this.#d.concurrency - this.inFlight.count;
    let jobs: SendJob[] = [];
    const now = this.#d.clock.now();
    const due = room > 0 ? await this.#d.store.nextSendJobDue().catch(() => now) : null;
    const store = this.#d.store;
    const args = { now, leaseMs: this.#d.leaseMs, limit: room };
    if (due !== null && due <= now) {
      try {
        jobs = await store.run(claimSendJobs, args);
      } catch (err) {
        this.#d.log.error({ err }, 'send worker: claiming jobs failed');
      }
    } else if (room > 0) {
      // Nothing due: as the dispatcher's (see there), the claim waits in the store and
      // runs inside the group commit that adds a job (a reply's), until the next job is
      // due or the poll interval ends (then it looks again).
      const held = this.claimWhenFound(store, this.#d.clock, claimSendJobs, args, due, this.#d.pollIntervalMs);
      try {
        if (held) {
          for (const job of await held) this.inFlight.track(this.#process(job), () => this.notify());
          return;
        }
      } catch (err) {
        this.#d.log.error({ err }, 'send worker: claiming jobs failed');
      }
    }
    for (const job of jobs) this.inFlight.track(this.#process(job), () => this.notify());
    if (jobs.length === 0 || this.inFlight.count >= this.#d.concurrency) await this.wakeup.sleep(this.#d.pollIntervalMs);
  }

  async #process(job: SendJob): Promise<void> {
    const { store, log } = this.#d;
    try {
      const message = await store.getMessage(job.workspaceId, job.messageId);
      if (!message || message.direction !== 'sent') {
        await store.run(dropSendJob, job.messageId);
        return;
      }
      const channel = await store.getChannel(job.workspaceId, message.channelId);
      const connector = channel ? this.#d.connectorFor(channel.platformId) : undefined;
      if (!channel || !connector) {
        await this.#record(job, message, { kind: 'failed', error: { code: 0, description: 'channel no longer exists' } }, []);
        return;
      }
      const progress = message.mode === 'test' ? TEST_MODE_PROGRESS : (connector.simulatedProgress ?? []);
      // Already handed off (a provider id is recorded): only simulated progress remains.
      if (message.status !== 'accepted' || message.providerMessageId !== null) {
        await this.#advanceSimulated(job, message, progress);
        return;
      }
      const outcome: SendOutcome = message.mode === 'test'
        ? { kind: 'accepted', providerMessageId: `test-${message.id}`, status: 'accepted' }
        : await connector.send({ message, channel, ctx: this.#d.contextFor(channel) }, this.#d.http);
      await this.#record(job, message, outcome, progress);
    } catch (err) {
      // Recording failed (database trouble): leave the job claimed; its lease expires and it is retried.
      log.error({ err, messageId: job.messageId }, 'send worker: could not record a send outcome');
    }
  }

  async #record(job: SendJob, message: Message, outcome: SendOutcome, progress: readonly OutboundStatus[]) {
    const { store, clock, log } = this.#d;
    await store.run(recordSendOutcome, {
      job, message, outcome, simulated: progress.length > 0, now: clock.now(), simulatedStepMs: this.#d.simulatedStepMs,
      retryPolicy: this.#d.retryPolicy ?? SEND_RETRY_POLICY,
    });
    this.#d.onCommitted?.();
    if (outcome.kind !== 'accepted') {
      log.warn({ messageId: message.id, outcome: outcome.kind, error: outcome.error }, 'send attempt did not succeed');
    }
  }

  /** One step of a simulated message's progress per claim, so the steps survive a restart. */
  async #advanceSimulated(job: SendJob, message: Message, progress: readonly OutboundStatus[]) {
    await this.#d.store.run(advanceSimulated, {
      job, message, progress, now: this.#d.clock.now(), simulatedStepMs: this.#d.simulatedStepMs,
    });
    this.#d.onCommitted?.();
  }
}
