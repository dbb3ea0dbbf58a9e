/**
 * Run the real CLI (`node bin/tandem.js …`, which runs dist/) as a child process, with stdout and
 * stderr piped: that is the non-TTY mode a deploy pipeline sees.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BIN = fileURLToPath(new URL('../../bin/tandem.js', import.meta.url));
const MAIN_JS = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));
/** Rewritten by every build (tsconfig.json is incremental: files that did not change are not emitted again). */
const BUILD_INFO = fileURLToPath(new URL('../../dist/.tsbuildinfo', import.meta.url));

/**
 * Compile src/ to dist/ so the CLI under test is the current source. tsc emits even when some file
 * has a type error (the type-check is its own CI step): then warn, and go on if dist/ was written.
 */
export function buildDist(): void {
  const started = Date.now();
  try {
    execFileSync('npx', ['tsc', '-p', 'tsconfig.json'], { cwd: REPO_ROOT, stdio: 'pipe' });
  } catch (error) {
    const output = String((error as { stdout?: Buffer }).stdout ?? '').split('\n').slice(0, 5).join('\n');
    const emitted = existsSync(MAIN_JS) && existsSync(BUILD_INFO) && statSync(BUILD_INFO).mtimeMs >= started - 1000;
    if (!emitted) throw new Error(`npx tsc -p tsconfig.json wrote no dist/:\n${output}`);
    process.stderr.write(`warning: tsc reported type errors (dist/ was still written):\n${output}\n`);
  }
}

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface RunningCli {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves when the process has exited (for any reason). */
  exited: Promise<CliResult>;
}

/** Start the CLI; `cwd` should be a scratch directory so no tandem.config.json of the repo is picked up. */
export function spawnCli(args: string[], options: { cwd: string; env?: NodeJS.ProcessEnv }): RunningCli {
  const env: NodeJS.ProcessEnv = { ...process.env, FORCE_COLOR: '0', ...options.env };
  delete env.DATABASE_URL; // tests always pass --url
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd: options.cwd,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (err += chunk));
  const exited = new Promise<CliResult>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout: out, stderr: err }));
  });
  return { child, stdout: () => out, stderr: () => err, exited };
}

/** Run the CLI to completion. */
export function runCli(args: string[], options: { cwd: string; env?: NodeJS.ProcessEnv }): Promise<CliResult> {
  return spawnCli(args, options).exited;
}

/** The JSON objects among the output's lines (the CLI writes one per line when piped). */
export function jsonLines(output: string): Array<Record<string, unknown>> {
  return output
    .split('\n')
    .filter((line) => line.startsWith('{') && line.endsWith('}'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}
