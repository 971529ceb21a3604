import { afterEach, describe, expect, it, vi } from 'vitest';
import { newId } from '../../src/domain/ids.js';
import type { ChannelId } from '../../src/domain/ids.js';
import type { Channel } from '../../src/domain/records.js';
import { ChannelCache } from '../../src/store/channel-cache.js';
import { channel } from '../store/factories.js';

describe('ChannelCache', () => {
  afterEach(() => vi.useRealTimers());

  const source = (rows: Map<ChannelId, Channel>) => {
    const load = vi.fn(async (id: ChannelId) => rows.get(id));
    return load;
  };

  it('loads a channel once and serves it from memory until the TTL ends', async () => {
    vi.useFakeTimers({ now: 1_000_000 });
    const ch = channel(newId() as never);
    const rows = new Map([[ch.id, ch]]);
    const load = source(rows);
    const cache = new ChannelCache(1000);
    expect(await cache.get(ch.id, load)).toEqual(ch);
    rows.set(ch.id, { ...ch, name: 'renamed elsewhere' });
    vi.advanceTimersByTime(999);
    expect((await cache.get(ch.id, load))?.name).toBe(ch.name);
    expect(load).toHaveBeenCalledTimes(1);
    vi.advanceTimersByTime(1);
    expect((await cache.get(ch.id, load))?.name).toBe('renamed elsewhere');
    expect(load).toHaveBeenCalledTimes(2);
  });

  it('sees this node\'s own change at once after forget', async () => {
    const ch = channel(newId() as never);
    const rows = new Map([[ch.id, ch]]);
    const load = source(rows);
    const cache = new ChannelCache(60_000);
    await cache.get(ch.id, load);
    rows.delete(ch.id);
    cache.forget(ch.id);
    expect(await cache.get(ch.id, load)).toBeUndefined();
  });

  it('never keeps a miss, so a channel created elsewhere is found at once', async () => {
    const ch = channel(newId() as never);
    const rows = new Map<ChannelId, Channel>();
    const load = source(rows);
    const cache = new ChannelCache(60_000);
    expect(await cache.get(ch.id, load)).toBeUndefined();
    rows.set(ch.id, ch);
    expect(await cache.get(ch.id, load)).toEqual(ch);
  });

  it('stays bounded: past maxEntries it starts over', async () => {
    const channels = Array.from({ length: 5 }, () => channel(newId() as never));
    const load = source(new Map(channels.map((c) => [c.id, c])));
    const cache = new ChannelCache(60_000, 3);
    for (const c of channels) await cache.get(c.id, load);
    load.mockClear();
    await cache.get(channels[4]!.id, load); // kept: added after the reset
    expect(load).not.toHaveBeenCalled();
    await cache.get(channels[0]!.id, load); // dropped by the reset
    expect(load).toHaveBeenCalledTimes(1);
  });
});
