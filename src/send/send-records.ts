import type { MessageId } from '../domain/ids.js';
import type { Message } from '../domain/records.js';
import { nextRetryDelay } from '../domain/retry.js';
import type { RetryPolicy } from '../domain/retry.js';
import type { OutboundStatus } from '../domain/status.js';
import type { SendOutcome } from '../channels/connector.js';
import { applyStatus } from '../ingest/apply-status.js';
import { procedure } from '../store/procedure.js';
import type { SendJob } from '../store/store.js';

/** The send worker's transactions (send-worker.ts), as procedures: they run where the database is. */

export const claimSendJobs = procedure(import.meta.url, 'claimSendJobs',
  (tx, a: { now: number; leaseMs: number; limit: number }) => tx.claimSendJobs(a.now, a.leaseMs, a.limit));

export const dropSendJob = procedure(import.meta.url, 'dropSendJob', (tx, messageId: MessageId) => tx.deleteSendJob(messageId));

export interface RecordSendArgs {
  job: SendJob;
  message: Message;
  outcome: SendOutcome;
  /** Simulated statuses still to come after `accepted` (the job stays for them). */
  simulated: boolean;
  now: number;
  simulatedStepMs: number;
  retryPolicy: RetryPolicy;
}

/** A provider's answer, its status change (and `message.updated`) and the job's fate, together. */
export const recordSendOutcome = procedure(import.meta.url, 'recordSendOutcome', async (tx, a: RecordSendArgs) => {
  const { job, message, outcome, now } = a;
  switch (outcome.kind) {
    case 'accepted': {
      await applyStatus(tx, message, { status: outcome.status, providerMessageId: outcome.providerMessageId }, now);
      if (a.simulated) await tx.rescheduleSendJob(job.messageId, now + a.simulatedStepMs, '');
      else await tx.deleteSendJob(job.messageId);
      return;
    }
    case 'failed': {
      await applyStatus(tx, message, { status: 'failed', error: outcome.error }, now);
      await tx.deleteSendJob(job.messageId);
      return;
    }
    case 'retry': {
      const delay = nextRetryDelay(a.retryPolicy, job.attempts, outcome.retryAfterMs);
      if (delay === undefined) {
        await applyStatus(tx, message, { status: 'failed', error: outcome.error }, now);
        await tx.deleteSendJob(job.messageId);
      } else {
        await tx.rescheduleSendJob(job.messageId, now + delay, outcome.error.description);
      }
      return;
    }
  }
});

export interface AdvanceArgs {
  job: SendJob;
  message: Message;
  progress: readonly OutboundStatus[];
  now: number;
  simulatedStepMs: number;
}

/** One step of a simulated message's progress; the job goes with the last step. */
export const advanceSimulated = procedure(import.meta.url, 'advanceSimulated', async (tx, a: AdvanceArgs) => {
  const { job, message, progress, now } = a;
  const next = progress[progress.indexOf(message.status as OutboundStatus) + 1];
  if (next === undefined || message.status === 'failed') {
    await tx.deleteSendJob(job.messageId);
    return;
  }
  await applyStatus(tx, message, { status: next }, now);
  if (progress.indexOf(next) === progress.length - 1) await tx.deleteSendJob(job.messageId);
  else await tx.rescheduleSendJob(job.messageId, now + a.simulatedStepMs, '');
});
