import type { Knex } from 'knex';
import { redactSecrets } from '../../db/url.js';
import { closeReplicas, openReplicas } from './replica-connections.js';
import type { LagSource, Reading } from './types.js';

/** MySQL/MariaDB: each replica's own SHOW REPLICA STATUS (Seconds_Behind_Master: whole seconds). */
export class MysqlReplicas implements LagSource {
  private constructor(private readonly replicas: Array<{ display: string; db: Knex }>) {}

  static async open(urls: string[]): Promise<MysqlReplicas> {
    return new MysqlReplicas(await openReplicas(urls, 'mysql', 'replica', async (db) => ((await replicaStatus(db)).length > 0 ? null : 'is not a replica (SHOW REPLICA STATUS is empty): list the replicas of the server tandem runs on')));
  }

  async read(): Promise<Reading[]> {
    return Promise.all(
      this.replicas.map(async ({ display, db }): Promise<Reading> => {
        try {
          const channels = await replicaStatus(db);
          if (channels.length === 0) return { replica: display, lagMs: null, why: 'is no longer a replica' };
          // Several sources (MariaDB connections, MySQL channels): the worst one counts.
          let worst: Reading = { replica: display, lagMs: 0 };
          for (const status of channels) {
            const reading = channelReading(display, status);
            if (reading.lagMs === null) return reading;
            if (reading.lagMs > worst.lagMs!) worst = reading;
          }
          return worst;
        } catch (error) {
          return { replica: display, lagMs: null, why: `cannot be read (${redactSecrets((error as Error).message).slice(0, 200)})` };
        }
      }),
    );
  }

  async close(): Promise<void> {
    await closeReplicas(this.replicas);
  }
}

type ReplicaStatus = Record<string, string | number | null | undefined>;

/** One replication source's state on a replica. */
function channelReading(display: string, status: ReplicaStatus): Reading {
  const source = status.Connection_name || status.Channel_Name ? ` (source ${String(status.Connection_name || status.Channel_Name)})` : '';
  const seconds = status.Seconds_Behind_Master ?? status.Seconds_Behind_Source;
  if (seconds === null || seconds === undefined) {
    const io = status.Slave_IO_Running ?? status.Replica_IO_Running;
    const sql = status.Slave_SQL_Running ?? status.Replica_SQL_Running;
    const error = status.Last_SQL_Error || status.Last_IO_Error;
    return { replica: display, lagMs: null, why: `is not replicating${source} (IO thread: ${io ?? '?'}, SQL thread: ${sql ?? '?'}${error ? `, ${String(error).slice(0, 200)}` : ''})` };
  }
  return { replica: display, lagMs: Number(seconds) * 1000 };
}

/**
 * A replica's status, one row per replication source (empty on a server that is no replica):
 * MariaDB's SHOW ALL REPLICAS STATUS (10.5+; SHOW ALL SLAVES STATUS before) lists every named
 * connection, where SHOW REPLICA STATUS shows only the default one; MySQL's SHOW REPLICA STATUS
 * (8.0.22+; SHOW SLAVE STATUS before) lists every channel.
 */
async function replicaStatus(db: Knex): Promise<ReplicaStatus[]> {
  const statements = ['SHOW ALL REPLICAS STATUS', 'SHOW ALL SLAVES STATUS', 'SHOW REPLICA STATUS', 'SHOW SLAVE STATUS'];
  for (const [index, statement] of statements.entries()) {
    try {
      return (await db.raw(statement))[0] as ReplicaStatus[];
    } catch (error) {
      // A syntax error: this server spells it differently.
      if ((error as { errno?: number }).errno !== 1064 || index === statements.length - 1) throw error;
    }
  }
  return [];
}

/** Replicas registered with this source (SHOW REPLICA HOSTS; needs a privilege tandem may lack, so failures say nothing). */
export async function registeredReplicas(db: Knex): Promise<string[]> {
  for (const statement of ['SHOW REPLICA HOSTS', 'SHOW SLAVE HOSTS', 'SHOW REPLICAS']) {
    try {
      const rows = (await db.raw(statement))[0] as Array<Record<string, unknown>>;
      return rows.map((row) => `${String(row.Host || '?')}:${String(row.Port ?? '?')}`);
    } catch {
      // try the next spelling
    }
  }
  return [];
}
