/**
 * Files of other migration tools that are not a migration to run once, forward: Flyway's undo
 * scripts (`U1__…`) and repeatable migrations (`R__…`, run again whenever they change), and
 * golang-migrate's down files (`000007_x.down.sql`, the undo of `000007_x.up.sql`). Run as
 * migrations they would undo a change, or run once and then be refused as edited, so a directory
 * brought over from those tools is refused by name, with what to do instead. Returns null for any
 * other migration id.
 */
export function foreignScript(id: string): { what: string; fix: string } | null {
  if (/^U\d+(?:[._]\d+)*__/.test(id)) {
    return { what: 'a Flyway undo script', fix: 'move its SQL into the `-- tandem:rollback` section of the migration with the same version, then delete this file' };
  }
  if (/^R__/.test(id)) {
    return { what: 'a Flyway repeatable migration, which Flyway runs again whenever it changes; tandem runs each migration once', fix: 'give it a version (a timestamp, or V<version>__) so it runs once, and make later changes new migrations' };
  }
  if (/^\d+_.*\.down$/.test(id)) {
    return { what: 'a golang-migrate down migration (the undo of its .up file)', fix: 'put the .up file\'s SQL under `-- tandem:expand` and this file\'s under `-- tandem:rollback` in one file, then delete this one' };
  }
  return null;
}
