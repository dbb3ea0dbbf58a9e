import fs from 'node:fs';
import path from 'node:path';
import { CONFIG_FILE, configSchema } from '../../config/schema.js';

export function runInit(options: { dir: string; url?: string }): void {
  const configPath = path.resolve(CONFIG_FILE);
  if (fs.existsSync(configPath)) {
    process.stdout.write(`${CONFIG_FILE} exists already; left as it is\n`);
  } else {
    const config: Record<string, unknown> = { dir: options.dir };
    if (options.url) {
      if (/:\/\/[^/@]*:[^@/]*@/.test(options.url)) {
        process.stderr.write('warning: the URL holds a password, which does not belong in a committed file; give it through DATABASE_URL instead (not written)\n');
      } else config.url = options.url;
    }
    // The defaults, written out so they are visible and easy to change; taken from the schema so they never drift.
    const defaults = configSchema.parse({});
    config.lockTimeoutMs = defaults.lockTimeoutMs;
    config.blockingLockTimeoutMs = defaults.blockingLockTimeoutMs;
    config.mysqlLockWaitTimeoutSeconds = defaults.mysqlLockWaitTimeoutSeconds;
    config.retries = defaults.retries;
    config.backfill = defaults.backfill;
    fs.writeFileSync(configPath, `${JSON.stringify(config, null, 2)}\n`);
    process.stdout.write(`wrote ${CONFIG_FILE}\n`);
  }
  const dir = path.resolve(options.dir);
  if (fs.existsSync(dir)) process.stdout.write(`${options.dir}/ exists already\n`);
  else {
    fs.mkdirSync(dir, { recursive: true });
    process.stdout.write(`created ${options.dir}/\n`);
  }
  process.stdout.write('next: tandem new NAME, then tandem plan, then tandem expand\n');
}
