import { describe, expect, it, vi } from 'vitest';
import { newId } from '../../src/domain/ids.js';
import type { ChannelId, WebhookId, WorkspaceId } from '../../src/domain/ids.js';
import { WebhookCache } from '../../src/store/sqlite/webhook-cache.js';
import { webhook } from '../store/factories.js';

describe('WebhookCache', () => {
  const ws = newId() as WorkspaceId;

  it('loads a webhook (or its absence) once until cleared, and hands out frozen entries', () => {
    const cache = new WebhookCache();
    const hook = webhook(ws);
    const load = vi.fn(() => ({ ...hook }));
    expect(cache.webhook(ws, hook.id, load)).toEqual(hook);
    expect(cache.webhook(ws, hook.id, load)).toEqual(hook);
    expect(load).toHaveBeenCalledTimes(1);
    expect(Object.isFrozen(cache.webhook(ws, hook.id, load))).toBe(true);
    const missing = vi.fn(() => undefined);
    const gone = newId() as WebhookId;
    expect(cache.webhook(ws, gone, missing)).toBeUndefined();
    expect(cache.webhook(ws, gone, missing)).toBeUndefined();
    expect(missing).toHaveBeenCalledTimes(1);
    cache.clear();
    cache.webhook(ws, hook.id, load);
    expect(load).toHaveBeenCalledTimes(2);
  });

  it('keeps enabled webhooks per workspace and channel, the generic ones apart', () => {
    const cache = new WebhookCache();
    const ch = newId() as ChannelId;
    const forChannel = vi.fn(() => [webhook(ws, { channelId: ch })]);
    const generic = vi.fn(() => [webhook(ws)]);
    expect(cache.enabled(ws, ch, forChannel)).toHaveLength(1);
    expect(cache.enabled(ws, null, generic)[0]!.channelId).toBeNull();
    expect(cache.enabled(ws, ch, forChannel)[0]!.channelId).toBe(ch);
    expect([forChannel.mock.calls.length, generic.mock.calls.length]).toEqual([1, 1]);
    expect(() => (cache.enabled(ws, ch, forChannel) as unknown[]).push(1)).toThrow(TypeError);
  });

  it('starts empty when the data version moves, not when it stays', () => {
    const cache = new WebhookCache();
    const hook = webhook(ws);
    const load = vi.fn(() => hook);
    cache.sync(7);
    cache.webhook(ws, hook.id, load);
    cache.sync(7);
    cache.webhook(ws, hook.id, load);
    expect(load).toHaveBeenCalledTimes(1);
    cache.sync(8);
    cache.webhook(ws, hook.id, load);
    expect(load).toHaveBeenCalledTimes(2);
  });

  it('stays within its bound: full, it starts over', () => {
    const cache = new WebhookCache(3);
    const ids = Array.from({ length: 4 }, () => newId() as WebhookId);
    const load = vi.fn(() => undefined);
    for (const id of ids) cache.webhook(ws, id, load);
    expect(load).toHaveBeenCalledTimes(4);
    cache.webhook(ws, ids[0]!, load); // dropped when the fourth arrived
    cache.webhook(ws, ids[3]!, load); // kept
    expect(load).toHaveBeenCalledTimes(5);
  });
});
