import { isObject } from './json.js';

/** A provider's `{latitude, longitude}` object, when both are finite numbers within range; else undefined. */
export function locationOf(v: unknown): { latitude: number; longitude: number } | undefined {
  if (!isObject(v) || !isCoordinate(v.latitude, 90) || !isCoordinate(v.longitude, 180)) return undefined;
  return { latitude: v.latitude, longitude: v.longitude };
}

function isCoordinate(v: unknown, bound: number): v is number {
  return typeof v === 'number' && Number.isFinite(v) && v >= -bound && v <= bound;
}
