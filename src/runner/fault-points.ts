import { appendFileSync } from 'node:fs';

/**
 * Fault injection, for tandem's own reliability tests only (test/reliability/, `npm run soak`).
 *
 * TANDEM_FAULT=<point>:<n>[,<point>:<n>…] makes the process SIGKILL itself the n-th time it passes
 * the named point, as a crash or a power cut would stop it: no cleanup, no finally blocks, no
 * goodbye to the database. Unset (every real run), faultPoint() returns at once and costs nothing.
 *
 * Points (where they sit):
 *   step-before            run-phase: before a step's statements are sent
 *   step-in-transaction    run-phase: after a statement inside a step's transaction, before COMMIT
 *   step-after-statement   run-phase: a single-statement step ran (MySQL DDL, CREATE INDEX CONCURRENTLY;
 *                          MySQL DML: before its COMMIT), the ledger does not record it yet
 *   step-after-commit      run-phase: after a step and its ledger record are committed
 *   index-build            run-phase: a concurrent index build has been sent (killed 50 ms into it)
 *   batch-after-update     batched-update: a batch's UPDATE ran, its transaction is still open (node-pg,
 *                          which sends the batch with its commit as one query: killed 2 ms into it)
 *   batch-after-commit     batched-update: a batch and its ledger record are committed
 *   phase-after-complete   runner: a migration's phase is complete, before the next migration
 *
 * TANDEM_FAULT_LOG=<file> appends the name of every point passed to that file, so a test can learn
 * from a clean run how often each point is hit and pick a sample of (point, n) to kill at.
 */
export type FaultPoint =
  | 'step-before'
  | 'step-in-transaction'
  | 'step-after-statement'
  | 'step-after-commit'
  | 'index-build'
  | 'batch-after-update'
  | 'batch-after-commit'
  | 'phase-after-complete';

const armed = parse(process.env.TANDEM_FAULT);
const logFile = process.env.TANDEM_FAULT_LOG || null;
const hits = new Map<string, number>();

function parse(spec: string | undefined): Map<string, number> | null {
  if (!spec) return null;
  const points = new Map<string, number>();
  for (const part of spec.split(',')) {
    const [point, nth] = part.trim().split(':');
    if (point) points.set(point, Math.max(1, Number(nth) || 1));
  }
  return points;
}

/** Kill this process here when TANDEM_FAULT names this point and this is its n-th hit. */
export function faultPoint(point: FaultPoint, delayMs = 0): void {
  if (!armed && !logFile) return;
  if (logFile) appendFileSync(logFile, `${point}\n`);
  if (!armed) return;
  const nth = armed.get(point);
  if (nth === undefined) return;
  const count = (hits.get(point) ?? 0) + 1;
  hits.set(point, count);
  if (count !== nth) return;
  if (delayMs > 0) setTimeout(() => process.kill(process.pid, 'SIGKILL'), delayMs);
  else process.kill(process.pid, 'SIGKILL');
}
