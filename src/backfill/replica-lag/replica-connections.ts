import type { Knex } from 'knex';
import { createKnex } from '../../db/connect.js';
import { parseConnectionUrl, redactSecrets } from '../../db/url.js';

/** Where replica URLs come from, for the errors. */
export const WHERE = 'replicas are given by --replica, TANDEM_REPLICA_URLS or backfill.replicas in tandem.config.json';

/**
 * Connections to the replicas named by URL, each read once by `check` (null: fine, else what is
 * wrong): a URL that is wrong, or not a replica, fails here, before any batch, naming it without its password.
 */
export async function openReplicas(urls: string[], dialect: 'postgres' | 'mysql', noun: string, check: (db: Knex) => Promise<string | null>): Promise<Array<{ display: string; db: Knex }>> {
  const replicas: Array<{ display: string; db: Knex }> = [];
  try {
    for (const [index, url] of urls.entries()) {
      const target = parseConnectionUrl(url);
      const name = `${noun} ${index + 1} of ${urls.length} (${target.display})`;
      if (target.dialect !== dialect || target.driver === 'pglite') throw new Error(`${name} is not a ${dialect === 'mysql' ? 'MySQL/MariaDB' : 'PostgreSQL server'} URL, as the database tandem runs on is; ${WHERE}`);
      const replica = { display: `${noun} ${target.display}`, db: createKnex(target, { applicationName: 'tandem replica lag' }) };
      replicas.push(replica);
      const problem = await check(replica.db).catch((error: Error) => {
        throw new Error(`${name} cannot be read: ${redactSecrets(error.message)}; fix its URL${dialect === 'mysql' ? ' (its user needs REPLICATION CLIENT, on MariaDB SLAVE MONITOR)' : ''}, or remove it; ${WHERE}`);
      });
      if (problem) throw new Error(`${name} ${problem}; ${WHERE}`);
    }
  } catch (error) {
    await closeReplicas(replicas);
    throw error;
  }
  return replicas;
}

export async function closeReplicas(replicas: Array<{ db: Knex }>): Promise<void> {
  await Promise.all(replicas.map((replica) => replica.db.destroy().catch(() => undefined)));
}
