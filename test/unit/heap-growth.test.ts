import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

// v8.setFlagsFromString ignores a flag it does not know, silently: this guards that the
// heap-growth setting of `roost serve` (cli/heap-growth.ts) still means something on this
// Node's V8. Its effect on memory is measured in bench/, not asserted here.
describe('limitHeapGrowth', () => {
  it('names a flag this Node\'s V8 knows', () => {
    const options = spawnSync(process.execPath, ['--v8-options'], { encoding: 'utf8' }).stdout;
    expect(options).toMatch(/--heap-growing-percent\b/);
  });
});
