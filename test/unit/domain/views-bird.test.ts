import { describe, expect, it } from 'vitest';
import { newId } from '../../../src/domain/ids.js';
import type { Message } from '../../../src/domain/records.js';
import { dashed, messageBird } from '../../../src/domain/views-bird.js';
import * as f from '../../store/factories.js';

const ws = newId<'workspace'>();
const ch = newId<'channel'>();
const person = f.contact(ws, { msisdn: '+31612345678', displayName: null, firstName: 'Ada', lastName: 'Lovelace' });
const conv = f.conversation(ws, person.id, ch);

describe('messageBird', () => {
  it('writes ids as dashed UUIDs and times in ISO 8601 with milliseconds', () => {
    const id = '0190a1b2c3d47e5f8a9b0c1d2e3f4a5b';
    expect(dashed(id)).toBe('0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b');
    const m = f.message(conv, ch, { createdAt: Date.UTC(2024, 10, 25, 20, 12, 10, 514), updatedAt: null });
    const out = messageBird(m, conv, person);
    expect(out).toMatchObject({ id: dashed(m.id), conversationId: dashed(conv.id), channelId: dashed(ch), createdAt: '2024-11-25T20:12:10.514Z', updatedAt: '2024-11-25T20:12:10.514Z' });
  });

  it('maps media, location and templates to Bird bodies, a caption as the body text', () => {
    const shape = (content: Message['content']) =>
      messageBird(f.message(conv, ch, { content }), conv, person);
    expect(shape({ image: { url: 'https://x/i.png', caption: 'look' } })).toMatchObject({ body: { type: 'image', image: { images: [{ mediaUrl: 'https://x/i.png' }], text: 'look' } } });
    expect(shape({ file: { url: 'https://x/f.pdf' } })).toMatchObject({ body: { type: 'file', file: { files: [{ mediaUrl: 'https://x/f.pdf' }] } } });
    expect(shape({ video: { url: 'https://x/v.mp4' } })).toMatchObject({ body: { type: 'file', file: { files: [{ mediaUrl: 'https://x/v.mp4' }] } } });
    expect(shape({ location: { latitude: 52.37, longitude: 4.89 } })).toMatchObject({ body: { type: 'location', location: { coordinates: { latitude: 52.37, longitude: 4.89 } } } });
    const hsm = shape({ hsm: { templateName: 'welcome', language: { code: 'en' } } });
    expect(hsm.template).toEqual({ templateName: 'welcome', language: { code: 'en' } });
    expect(hsm.body).toBeUndefined();
  });

  it('maps Roost statuses onto Bird\'s lifecycle, with a failure\'s description as its reason', () => {
    const status = (s: Message['status']) =>
      messageBird(f.message(conv, ch, { direction: 'sent', status: s }), conv, person).status;
    expect((['accepted', 'pending', 'sent', 'delivered', 'read', 'failed'] as const).map(status))
      .toEqual(['accepted', 'processing', 'sent', 'delivered', 'delivered', 'sending_failed']);
    const failed = messageBird(f.message(conv, ch, { direction: 'sent', status: 'failed', error: { code: 21, description: 'blocked' } }), conv, person);
    expect(failed.reason).toBe('blocked');
  });

  it('names a contact without a phone number by its address on the platform, and by its name when it has one', () => {
    const chat = f.contact(ws, { msisdn: null, displayName: 'Grace' });
    const m = f.message(conv, ch, { direction: 'received', status: 'received', platform: 'telegram', from: '987654', to: 'bot' });
    expect(messageBird(m, conv, chat).sender).toMatchObject({
      type: 'contact', displayName: 'Grace', contact: { identifierKey: 'telegram', identifierValue: '987654', platformAddress: '987654' },
    });
    expect(messageBird({ ...m, platform: 'sms', from: '+31612345678' }, conv, person).sender).toMatchObject({ displayName: 'Ada Lovelace' });
  });
});
