import { sha256hex } from './messagebird-jwt.js';
import { sortedQueryString } from './messagebird-legacy.js';

/** What the signatures take from a webhook's URL: its hex SHA-256 (JWT) and its sorted query (legacy). */
export interface UrlFacts {
  hash: string;
  sortedQuery: string;
}

// A workspace has a handful of webhook URLs and every delivery to one signs the same
// facts: worked out once per URL, not once per attempt. Bounded: cleared when full.
const LIMIT = 10_000;
const known = new Map<string, UrlFacts>();

export function urlFacts(url: string): UrlFacts {
  let facts = known.get(url);
  if (!facts) {
    facts = { hash: sha256hex(url), sortedQuery: sortedQueryString(Object.fromEntries(new URL(url).searchParams)) };
    if (known.size >= LIMIT) known.clear();
    known.set(url, facts);
  }
  return facts;
}
