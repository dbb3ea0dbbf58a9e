import { describe, expect, it } from 'vitest';
import { nextBatchSize } from '../../src/backfill/batched-update.js';
import { configSchema } from '../../src/config/schema.js';

const defaults = configSchema.parse({}).backfill;

describe('backfill batch size', () => {
  it('moves toward the target by at most 2× per batch, within minBatchSize…maxBatchSize', () => {
    expect(nextBatchSize(1_000, 60, 30, defaults)).toBe(500);
    expect(nextBatchSize(1_000, 40, 30, defaults)).toBe(750);
    expect(nextBatchSize(1_000, 5, 30, defaults)).toBe(2_000);
    expect(nextBatchSize(150, 1_000, 30, defaults)).toBe(defaults.minBatchSize);
    expect(nextBatchSize(defaults.maxBatchSize, 1, 30, defaults)).toBe(defaults.maxBatchSize);
  });
});
