import { buildDist } from './spawn-cli.js';

/**
 * Before any test file starts: compile src/ to dist/, which the CLI under test runs. Once, here,
 * and never from a test file: files run in parallel, and a CLI started while another file's tsc
 * was rewriting dist/ loaded half-written modules (`does not provide an export named …`).
 */
export default function setup(): void {
  buildDist();
}
