import { parseConnectionUrl, type ConnectionTarget } from '../db/url.js';
import { UsageError } from '../errors/tandem-error.js';

/**
 * `--scratch-url`: a server where tandem may create and drop throw-away databases to compile
 * declarative migrations (lint, plan). Of the dialect the migrations are for.
 */
export function scratchTarget(url: string, dialect: ConnectionTarget['dialect'], mismatch: { why: string; fix: string }): ConnectionTarget {
  let scratch: ConnectionTarget;
  try {
    scratch = parseConnectionUrl(url);
  } catch (error) {
    throw new UsageError(`--scratch-url: ${(error as Error).message}`, {}, 'give a postgres:// or mysql:// URL of a server where tandem may create databases');
  }
  if (scratch.dialect !== dialect) throw new UsageError(`--scratch-url is a ${scratch.dialect} server, but ${mismatch.why}`, {}, mismatch.fix);
  return scratch;
}
