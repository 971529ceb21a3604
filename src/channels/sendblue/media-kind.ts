import type { MessageType } from '../../domain/content.js';

type MediaType = Extract<MessageType, 'image' | 'video' | 'audio' | 'file'>;

const BY_EXTENSION: Readonly<Record<string, MediaType>> = {
  jpg: 'image', jpeg: 'image', png: 'image', gif: 'image', heic: 'image', webp: 'image',
  mp4: 'video', mov: 'video',
  mp3: 'audio', m4a: 'audio', caf: 'audio', wav: 'audio', amr: 'audio',
};

/**
 * Sendblue only gives a CDN URL, and its docs say media URLs "must end with the proper
 * file extension", so the extension is the best type hint there is.
 */
export function mediaTypeOf(mediaUrl: string): MediaType {
  let path = mediaUrl;
  try {
    path = new URL(mediaUrl).pathname;
  } catch {
    path = mediaUrl.split(/[?#]/)[0] ?? mediaUrl; // not absolute (the legacy docs example): use it as a path
  }
  const ext = /\.([a-z0-9]+)$/i.exec(path)?.[1]?.toLowerCase();
  return (ext !== undefined && Object.hasOwn(BY_EXTENSION, ext) ? BY_EXTENSION[ext] : undefined) ?? 'file';
}
