/** Readers for the loosely typed error fields of provider answers and callbacks. */

/** An integer error code, also when the provider sends it as a string (`"30008"`). */
export function numericCode(v: unknown): number | undefined {
  if (typeof v === 'number' && Number.isInteger(v)) return v;
  if (typeof v === 'string' && /^-?\d{1,9}$/.test(v.trim())) return Number(v.trim());
  return undefined;
}

/** The first non-blank string among `values`, cut to 1000 characters (a stored error description). */
export function firstText(...values: unknown[]): string | undefined {
  for (const v of values) {
    if (typeof v === 'string' && v.trim() !== '') return v.slice(0, 1000);
  }
  return undefined;
}
