import { notFound } from '../../../domain/errors.js';
import { parseId } from '../../../domain/ids.js';
import type { Id } from '../../../domain/ids.js';

/** A path id that is not even well-formed names nothing: 404, as for an unknown id. */
export function pathId<K extends string>(raw: string, what: string): Id<K> {
  const id = parseId<K>(raw);
  if (!id) throw notFound(what);
  return id;
}
