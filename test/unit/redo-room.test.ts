import { describe, expect, it } from 'vitest';
import { redoRoomLevel, rewrittenTable } from '../../src/runner/redo-room.js';

describe('redo room before a MariaDB table rewrite', () => {
  it('finds the table an ALTER TABLE rewrites, and none for metadata-only changes', () => {
    expect(rewrittenTable('ALTER TABLE `items` MODIFY `note` varchar(100) NOT NULL, ALGORITHM=INPLACE, LOCK=NONE')).toEqual({ schema: null, name: 'items' });
    expect(rewrittenTable('alter online table shop.`odd``name` add index (a), algorithm=inplace')).toEqual({ schema: 'shop', name: 'odd`name' });
    expect(rewrittenTable('ALTER TABLE items ADD COLUMN flag int, ALGORITHM=COPY')).toEqual({ schema: null, name: 'items' });
    expect(rewrittenTable('ALTER TABLE items ADD COLUMN flag int, ALGORITHM=INSTANT')).toBeNull();
    expect(rewrittenTable('ALTER TABLE items DROP INDEX items_a, ALGORITHM=NOCOPY')).toBeNull();
    expect(rewrittenTable('ALTER TABLE items RENAME COLUMN a TO b')).toBeNull();
    // Without ALGORITHM the server picks INSTANT where it can: adding a column is; a NOT NULL change or an index build is not.
    expect(rewrittenTable('ALTER TABLE pings ADD COLUMN hits int NOT NULL DEFAULT 0')).toBeNull();
    expect(rewrittenTable("ALTER TABLE pings ADD COLUMN `modify` varchar(9) DEFAULT 'change'")).toBeNull();
    expect(rewrittenTable('ALTER TABLE pings MODIFY payload varchar(200) NOT NULL')).toEqual({ schema: null, name: 'pings' });
    expect(rewrittenTable('ALTER TABLE pings ADD INDEX pings_payload (payload)')).toEqual({ schema: null, name: 'pings' });
    expect(rewrittenTable('CREATE TRIGGER t BEFORE INSERT ON items FOR EACH ROW SET NEW.a = 1')).toBeNull();
  });

  it("lets a rewrite start when its table's size fits under the throttle's level, else at a seventh of the level", () => {
    const max = 80 * 1024 ** 2;
    // 70 % of 80 MB is 56 MB: a 16 MB table may start at 40 MB, a 50 MB one only at 8 MB (56 / 7).
    expect(redoRoomLevel(max, 16 * 1024 ** 2, 70)).toBe(40 * 1024 ** 2);
    expect(redoRoomLevel(max, 50 * 1024 ** 2, 70)).toBe(8 * 1024 ** 2);
  });

  it('does not hold back a rewrite of a table under 1/32 of the level, whose redo cannot move the log much', () => {
    const max = 80 * 1024 ** 2;
    // 56 MB / 32 = 1.75 MB.
    expect(redoRoomLevel(max, 1.75 * 1024 ** 2, 70)).toBeNull();
    expect(redoRoomLevel(max, 64 * 1024, 70)).toBeNull();
    expect(redoRoomLevel(max, 1.8 * 1024 ** 2, 70)).toBeCloseTo(56 * 1024 ** 2 - 1.8 * 1024 ** 2);
    // At a 1 % level (0.8 MB) even a 30 KB table counts.
    expect(redoRoomLevel(max, 30 * 1024, 1)).not.toBeNull();
  });
});
