// Runs the built CLI (dist/) with the verify command registered, whether or not program.ts wires it
// yet: the same commander program, error reporting and exit codes as bin/tandem.js.
import { CommanderError } from 'commander';
import { buildProgram, reportError } from '../../../dist/cli/program.js';
import { registerVerifyCommand } from '../../../dist/cli/commands/verify.js';

const program = buildProgram();
if (!program.commands.some((command) => command.name() === 'verify')) registerVerifyCommand(program);
program.exitOverride();
program.configureOutput({ writeErr: (text) => process.stderr.write(text) });
let code = 0;
try {
  await program.parseAsync(process.argv.slice(2), { from: 'user' });
  code = typeof process.exitCode === 'number' ? process.exitCode : 0;
} catch (error) {
  if (error instanceof CommanderError) code = ['commander.helpDisplayed', 'commander.version', 'commander.help'].includes(error.code) ? 0 : 2;
  else code = reportError(error);
}
process.exit(code);
