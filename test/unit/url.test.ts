import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors/tandem-error.js';
import { parseConnectionUrl, redactUrl } from '../../src/db/url.js';

const SECRET = 'Sup3rS3cret';

describe('redactUrl: a password is never shown', () => {
  it.each([
    ['postgres', `postgres://app:${SECRET}@db.internal:5432/app`, 'postgres://app:***@db.internal:5432/app'],
    ['postgresql with query', `postgresql://app:${SECRET}@db/app?sslmode=require`, 'postgresql://app:***@db/app?sslmode=require'],
    ['mysql', `mysql://root:${SECRET}@127.0.0.1:3306/shop`, 'mysql://root:***@127.0.0.1:3306/shop'],
    ['mariadb, upper-case scheme', `MARIADB://root:${SECRET}@h/shop`, 'MARIADB://root:***@h/shop'],
    ['a percent-encoded password', `postgres://u:${SECRET}%40%2F%3A@h/db`, 'postgres://u:***@h/db'],
    ['a raw @ in the password', `postgres://u:${SECRET}@x@127.0.0.1:1/db`, 'postgres://u:***@127.0.0.1:1/db'],
    ['a raw : in the password', `mysql://u:${SECRET}:x@h:3306/db`, 'mysql://u:***@h:3306/db'],
    ['an empty user', `postgres://:${SECRET}@h/db`, 'postgres://:***@h/db'],
  ])('%s', (_label, url, expected) => {
    expect(redactUrl(url)).toBe(expected);
    expect(redactUrl(url)).not.toContain(SECRET);
  });

  it('every URL inside free text (a driver error message)', () => {
    const text = `connect to "postgres://a:${SECRET}@h1/db" failed; fallback mysql://b:${SECRET}x@h2/db\nalso (postgres://c:${SECRET}@h3:1/x).`;
    const redacted = redactUrl(text);
    expect(redacted).not.toContain(SECRET);
    expect(redacted).toContain('"postgres://a:***@h1/db" failed');
    expect(redacted).toContain('mysql://b:***@h2/db\n');
    expect(redacted).toContain('(postgres://c:***@h3:1/x).');
  });

  it('leaves everything else alone', () => {
    for (const text of [
      'postgres://app@db:5432/app',
      'mysql://root@127.0.0.1:3306/mysql',
      'pglite:/tmp/x',
      'pglite:memory',
      "Access denied for user 'root'@'localhost' (using password: YES)",
      'postgres://db:5432/app?application_name=a@b',
      'plain text: with a colon @ and an at',
    ]) {
      expect(redactUrl(text)).toBe(text);
    }
  });
});

describe('parseConnectionUrl', () => {
  it('postgres:// and postgresql://', () => {
    for (const url of ['postgres://u@h:5432/db', 'postgresql://u@h/db']) {
      expect(parseConnectionUrl(url)).toMatchObject({ driver: 'pg', dialect: 'postgres', url, display: url, pgliteDir: null });
    }
  });

  it('mysql:// and mariadb://', () => {
    expect(parseConnectionUrl('mysql://root@h:3306/app')).toMatchObject({ driver: 'mysql', dialect: 'mysql', mariadbScheme: false });
    expect(parseConnectionUrl('mariadb://root@h/app')).toMatchObject({ driver: 'mysql', dialect: 'mysql', mariadbScheme: true });
  });

  it('pglite: memory, relative and absolute directories', () => {
    expect(parseConnectionUrl('pglite:memory')).toMatchObject({ driver: 'pglite', dialect: 'postgres', pgliteDir: null });
    expect(parseConnectionUrl('pglite:.tandem/pglite', '/work/app').pgliteDir).toBe(path.resolve('/work/app', '.tandem/pglite'));
    expect(parseConnectionUrl('pglite:/var/db/x').pgliteDir).toBe('/var/db/x');
    expect(parseConnectionUrl('pglite:///var/db/x').pgliteDir).toBe('/var/db/x');
    expect(() => parseConnectionUrl('pglite:')).toThrow(UsageError);
  });

  it('the display form hides the password; the url keeps it for the driver', () => {
    const target = parseConnectionUrl(`postgres://u:${SECRET}@h/db`);
    expect(target.url).toContain(SECRET);
    expect(target.display).toBe('postgres://u:***@h/db');
  });

  function usageError(url: string): UsageError {
    try {
      parseConnectionUrl(url);
    } catch (error) {
      expect(error).toBeInstanceOf(UsageError);
      return error as UsageError;
    }
    throw new Error('expected parseConnectionUrl to throw');
  }

  it('an unknown scheme is a usage error that names it, without the password', () => {
    const error = usageError(`redis://u:${SECRET}@h/0`);
    expect(error.exitCode).toBe(2);
    expect(error.message).toContain('"redis:"');
    expect(error.message).not.toContain(SECRET);
    expect(error.fix).toContain('postgres://');
  });

  it('a MySQL URL without a database', () => {
    const error = usageError(`mysql://root:${SECRET}@h:3306/`);
    expect(error.message).toContain('names no database');
    expect(error.message).not.toContain(SECRET);
  });

  it('an unparseable URL never echoes its password', () => {
    for (const url of [`postgres://u:${SECRET}/x@h/db`, `postgres://u:${SECRET}#x@h/db`, `postgres://u:${SECRET}`, `not a url ${SECRET}`]) {
      const error = usageError(url);
      expect(error.message).toContain('not a valid URL');
      expect(error.message).not.toContain(SECRET);
    }
  });
});
