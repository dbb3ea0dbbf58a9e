import { describe, expect, it } from 'vitest';
import { foreignScript } from '../../src/migrations/foreign-scripts.js';
import { compareMigrationIds, idParts, versionKey } from '../../src/migrations/migration-order.js';

const sorted = (ids: string[]) => [...ids].sort(compareMigrationIds);

describe('migration order', () => {
  it('compares versions as numbers, so 2 runs before 10 however the file is named', () => {
    expect(sorted(['10_c', '2_b', '1_a'])).toEqual(['1_a', '2_b', '10_c']);
    expect(sorted(['V10__c', 'V2__b', 'V1__a'])).toEqual(['V1__a', 'V2__b', 'V10__c']);
    expect(sorted(['20261205120000_later', '20261127120000_earlier'])).toEqual(['20261127120000_earlier', '20261205120000_later']);
  });

  it('Flyway versions compare part by part: 1 < 1.1 < 1.2 < 1.10 < 2', () => {
    expect(sorted(['V2__e', 'V1_10__d', 'V1.2__c', 'V1_1__b', 'V1__a'])).toEqual(['V1__a', 'V1_1__b', 'V1.2__c', 'V1_10__d', 'V2__e']);
  });

  it('orders naming styles by their numbers, and names without a version last, as text', () => {
    expect(sorted(['seed_data', '20260101000000_t', 'V3__flyway', '10_ten', 'README_notes', '2-two'])).toEqual(['2-two', 'V3__flyway', '10_ten', '20260101000000_t', 'README_notes', 'seed_data']);
  });

  it('the same version written two ways falls back to the text, so the order is still total', () => {
    expect(compareMigrationIds('0007_a', '7_b')).toBeLessThan(0);
    expect(compareMigrationIds('7_b', '0007_a')).toBeGreaterThan(0);
    expect(compareMigrationIds('7_b', '7_b')).toBe(0);
  });

  it('splits ids into version and name', () => {
    expect(idParts('20261127120000_rename_user')).toEqual({ version: '20261127120000', name: 'rename_user' });
    expect(idParts('V1_2__add_email')).toEqual({ version: '1.2', name: 'add_email' });
    expect(idParts('V1.2__add_email')).toEqual({ version: '1.2', name: 'add_email' });
    expect(idParts('seed')).toEqual({ version: 'seed', name: 'seed' });
    // A single underscore after V is not Flyway's separator: no version.
    expect(versionKey('V1_add')).toBeNull();
  });

  it('versionKey is shared by equal versions however written', () => {
    expect(versionKey('0007_a')).toBe(versionKey('7_b'));
    expect(versionKey('V1_1__a')).toBe(versionKey('V1.1__b'));
    expect(versionKey('V1_1__a')).not.toBe(versionKey('V1_10__a'));
    expect(versionKey('init')).toBeNull();
  });

  it('names other tools\' undo and repeatable scripts, and nothing else', () => {
    expect(foreignScript('U3__drop_email')?.what).toMatch(/Flyway undo script/);
    expect(foreignScript('R__refresh_views')?.what).toMatch(/Flyway repeatable/);
    expect(foreignScript('000007_tidy.down')?.what).toMatch(/golang-migrate down migration/);
    for (const id of ['V3__x', '20260101000000_undo', 'U_turn', 'Rates', 'update_users', '000007_tidy.up', '20260101000000_slow_down']) expect(foreignScript(id)).toBeNull();
  });
});
