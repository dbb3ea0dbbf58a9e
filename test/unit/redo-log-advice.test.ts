import { describe, expect, it } from 'vitest';
import { ioCapacityAdvice, redoLogAdvice } from '../../src/backfill/redo-throttle.js';

// When the MariaDB redo-log throttle starts pausing, its notice says how big the log is and how to
// give the backfill room: online on 10.11 and later, with a restart before.
describe('the redo log advice of the throttle notice', () => {
  const stock = 96 * 1024 ** 2;

  it('names the size and the online resize on MariaDB 10.11 and later', () => {
    const advice = redoLogAdvice(stock, '10.11.19-MariaDB-0+deb12u1');
    expect(advice).toContain('The redo log is 96 MB (innodb_log_file_size)');
    expect(advice).toContain('SET GLOBAL innodb_log_file_size = 2147483648 resizes it online');
    expect(redoLogAdvice(stock, '11.4.2-MariaDB')).toContain('resizes it online');
  });

  it('asks for the setting and a restart on older servers', () => {
    const advice = redoLogAdvice(stock, '10.6.18-MariaDB-log');
    expect(advice).toContain('restart');
    expect(advice).not.toContain('SET GLOBAL');
  });

  it('says nothing when the log is already large or its size is unknown', () => {
    expect(redoLogAdvice(2 * 1024 ** 3, '10.11.19-MariaDB')).toBeNull();
    expect(redoLogAdvice(null, '10.11.19-MariaDB')).toBeNull();
  });
});

// …and, while innodb_io_capacity is low, that the page cleaner's pace (about that many pages a
// second) sets the backfill's, and how to raise it.
describe('the page-flushing advice of the throttle notice', () => {
  it('names a low innodb_io_capacity and the dynamic SET GLOBAL', () => {
    const advice = ioCapacityAdvice(200);
    expect(advice).toContain('flushes about innodb_io_capacity pages a second (200; the default 200 is meant for spinning disks)');
    expect(advice).toContain('SET GLOBAL innodb_io_capacity = 2000 (dynamic)');
    expect(ioCapacityAdvice(999)).toContain('(999;');
  });

  it('says nothing when it is already high or unknown', () => {
    expect(ioCapacityAdvice(1000)).toBeNull();
    expect(ioCapacityAdvice(20000)).toBeNull();
    expect(ioCapacityAdvice(null)).toBeNull();
  });
});
