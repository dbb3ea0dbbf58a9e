/**
 * Which MariaDB statements run NOWAIT (`SET STATEMENT lock_wait_timeout = 0 FOR …`): those that hold
 * the metadata lock only for a moment. A rebuild or an index build keeps the session's timeout.
 */
import { describe, expect, it } from 'vitest';
import { mariadbNowait } from '../../src/db/dialects/mysql.js';

const nowait = (sql: string) => mariadbNowait(sql).startsWith('SET STATEMENT lock_wait_timeout = 0 FOR ');

describe('mariadbNowait', () => {
  it('takes triggers, INSTANT changes and plain renames', () => {
    expect(nowait('CREATE TRIGGER x BEFORE INSERT ON t FOR EACH ROW SET NEW.a = 1')).toBe(true);
    expect(nowait('DROP TRIGGER IF EXISTS x')).toBe(true);
    expect(nowait('ALTER TABLE t ADD COLUMN c int, ALGORITHM=INSTANT')).toBe(true);
    expect(nowait('ALTER TABLE t RENAME COLUMN a TO b')).toBe(true);
    // A table copy's swap.
    expect(nowait('RENAME TABLE `t` TO `t_old`, `t_copy` TO `t`')).toBe(true);
  });

  it('takes a NOCOPY change that adds only foreign keys (metadata, with the checks off), within tandem\'s own SET STATEMENT', () => {
    const rename = 'SET STATEMENT foreign_key_checks = 0 FOR ALTER TABLE `t` DROP FOREIGN KEY `tmp`, ADD CONSTRAINT `t_fk` FOREIGN KEY (`a`) REFERENCES `p` (`id`), ALGORITHM=NOCOPY';
    expect(mariadbNowait(rename)).toBe('SET STATEMENT lock_wait_timeout = 0, foreign_key_checks = 0 FOR ALTER TABLE `t` DROP FOREIGN KEY `tmp`, ADD CONSTRAINT `t_fk` FOREIGN KEY (`a`) REFERENCES `p` (`id`), ALGORITHM=NOCOPY');
    expect(nowait('ALTER TABLE t ADD CONSTRAINT t_fk FOREIGN KEY (a) REFERENCES p (id), ALGORITHM=NOCOPY')).toBe(true);
    // Anything else added is a build.
    expect(nowait('ALTER TABLE t ADD CONSTRAINT t_fk FOREIGN KEY (a) REFERENCES p (id), ADD INDEX i (b), ALGORITHM=NOCOPY')).toBe(false);
    expect(nowait('SET STATEMENT foreign_key_checks = 0 FOR ALTER TABLE t ADD INDEX i (b), ALGORITHM=INPLACE')).toBe(false);
  });

  it('takes NOCOPY changes that add nothing (dropping and renaming indexes with the old column), not NOCOPY index builds', () => {
    expect(nowait('ALTER TABLE `t` DROP INDEX `a`, RENAME INDEX `b` TO `a`, DROP COLUMN `c`, ALGORITHM=NOCOPY')).toBe(true);
    expect(nowait('ALTER TABLE `t` ADD INDEX `a` (`c`), ALGORITHM=NOCOPY')).toBe(false);
    // A name that spells ADD is not a clause.
    expect(nowait('ALTER TABLE `t` DROP INDEX `ADD`, ALGORITHM=NOCOPY')).toBe(true);
  });

  it('leaves rebuilds and index builds with the session timeout', () => {
    expect(nowait('ALTER TABLE t MODIFY c int NOT NULL, ALGORITHM=INPLACE, LOCK=NONE')).toBe(false);
    expect(nowait('ALTER TABLE t ADD INDEX i (c), ALGORITHM=INPLACE, LOCK=NONE')).toBe(false);
    expect(nowait('ALTER TABLE t DROP COLUMN c')).toBe(false);
    expect(nowait('UPDATE t SET c = 1')).toBe(false);
  });
});
