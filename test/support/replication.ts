/**
 * Real replication for the replica-lag tests: a throwaway primary and streaming standby
 * (PostgreSQL), or a source and replica (MariaDB), started from the server binaries installed on
 * this machine in a temporary directory, on free ports, and removed afterwards. The shared test
 * servers cannot serve here: replication needs a primary that accepts replication connections
 * (PostgreSQL's pg_hba.conf) or writes a binary log (MariaDB's log_bin is fixed at start), and a
 * second server, and tests must not reconfigure the machine's servers.
 *
 * Returns null, with the reason, where the binaries are missing; with CI=true that is an error.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, appendFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import mysql from 'mysql2/promise';

export interface ReplicationPair {
  /** PostgreSQL: the server binaries' directory (pg_recvlogical and friends). */
  bin?: string;
  primaryUrl: string;
  replicaUrl: string;
  /** Run SQL on the replica (as its superuser). */
  onReplica(sql: string): Promise<void>;
  stop(): Promise<void>;
}

const inCi = (): boolean => process.env.CI === 'true' || process.env.CI === '1';

function unavailable(reason: string): { pair: null; reason: string } {
  if (inCi()) throw new Error(`replication test servers unavailable with CI set: ${reason}`);
  return { pair: null, reason };
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

const isRoot = (): boolean => userInfo().uid === 0;

function run(command: string, args: string[], asUser?: string): void {
  const [cmd, argv] = asUser && isRoot() ? ['runuser', ['-u', asUser, '--', command, ...args]] : [command, args];
  const result = spawnSync(cmd, argv, { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} failed: ${result.stderr || result.stdout || result.error}`);
}

async function until(what: string, check: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check().catch(() => false)) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

function postgresBinDir(): string | null {
  if (process.env.TANDEM_TEST_PG_BIN) return process.env.TANDEM_TEST_PG_BIN;
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return null;
  const versions = readdirSync(root).filter((v) => existsSync(join(root, v, 'bin', 'initdb'))).sort((a, b) => Number(b) - Number(a));
  return versions[0] ? join(root, versions[0], 'bin') : null;
}

/** A PostgreSQL primary and a streaming standby named `standbyName` (its application_name). */
export async function startPostgresPair(standbyName: string): Promise<{ pair: ReplicationPair | null; reason: string }> {
  const bin = postgresBinDir();
  if (!bin) return unavailable('no PostgreSQL server binaries (/usr/lib/postgresql/*/bin; set TANDEM_TEST_PG_BIN)');
  // initdb refuses to run as root: as root, the servers run as the postgres user.
  const user = isRoot() ? 'postgres' : undefined;
  const dir = mkdtempSync(join(tmpdir(), 'tandem-pgpair-'));
  if (user) chownSync(dir, Number(spawnSync('id', ['-u', user], { encoding: 'utf8' }).stdout.trim()), Number(spawnSync('id', ['-g', user], { encoding: 'utf8' }).stdout.trim()));
  const [primaryPort, standbyPort] = [await freePort(), await freePort()];
  const primary = join(dir, 'primary');
  const standby = join(dir, 'standby');
  const stop = async (): Promise<void> => {
    for (const data of [standby, primary]) if (existsSync(join(data, 'postmaster.pid'))) spawnSync(...pgCtl(bin, user, ['-D', data, '-m', 'immediate', 'stop']));
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    run(join(bin, 'initdb'), ['-D', primary, '-A', 'trust', '-U', 'postgres', '--no-sync'], user);
    const common = `listen_addresses = '127.0.0.1'\nunix_socket_directories = '${dir}'\nfsync = off\nshared_buffers = 16MB\nmax_connections = 30\n`;
    // wal_level logical: a test runs a logical decoding consumer next to the standby.
    appendFileSync(join(primary, 'postgresql.conf'), `${common}port = ${primaryPort}\nwal_level = logical\n`);
    run(join(bin, 'pg_ctl'), ['-D', primary, '-l', join(dir, 'primary.log'), '-w', 'start'], user);
    run(join(bin, 'pg_basebackup'), ['-d', `host=127.0.0.1 port=${primaryPort} user=postgres application_name=${standbyName}`, '-D', standby, '-R', '-X', 'stream', '-c', 'fast'], user);
    // The standby reports its progress every second (default 10 s), so a test's pause ends soon after it catches up.
    appendFileSync(join(standby, 'postgresql.conf'), `port = ${standbyPort}\nwal_receiver_status_interval = 1s\n`);
    run(join(bin, 'pg_ctl'), ['-D', standby, '-l', join(dir, 'standby.log'), '-w', 'start'], user);
  } catch (error) {
    await stop();
    return unavailable(String((error as Error).message).slice(0, 500));
  }
  const primaryUrl = `postgres://postgres@127.0.0.1:${primaryPort}/postgres`;
  const replicaUrl = `postgres://postgres@127.0.0.1:${standbyPort}/postgres`;
  const onReplica = async (sql: string): Promise<void> => {
    const client = new pg.Client({ connectionString: replicaUrl });
    await client.connect();
    try {
      await client.query(sql);
    } finally {
      await client.end();
    }
  };
  await until('the standby to stream', async () => {
    const client = new pg.Client({ connectionString: primaryUrl });
    await client.connect();
    try {
      return (await client.query(`SELECT 1 FROM pg_stat_replication WHERE application_name = $1 AND state = 'streaming'`, [standbyName])).rowCount === 1;
    } finally {
      await client.end();
    }
  });
  return { pair: { bin, primaryUrl, replicaUrl, onReplica, stop }, reason: '' };
}

function pgCtl(bin: string, user: string | undefined, args: string[]): [string, string[]] {
  return user ? ['runuser', ['-u', user, '--', join(bin, 'pg_ctl'), ...args]] : [join(bin, 'pg_ctl'), args];
}

/** A MariaDB source (binary log on) and a replica of it; root without a password on both. */
export async function startMariadbPair(): Promise<{ pair: ReplicationPair | null; reason: string }> {
  const server = ['/usr/sbin/mariadbd', '/usr/bin/mariadbd'].find((path) => existsSync(path));
  const install = spawnSync('sh', ['-c', 'command -v mariadb-install-db'], { encoding: 'utf8' }).stdout.trim();
  if (!server || !install) return unavailable('no MariaDB server binaries (mariadbd, mariadb-install-db)');
  const dir = mkdtempSync(join(tmpdir(), 'tandem-mypair-'));
  const processes: ChildProcess[] = [];
  const stop = async (): Promise<void> => {
    await Promise.all(
      processes.map(
        (child) =>
          new Promise<void>((resolve) => {
            if (child.exitCode !== null || child.signalCode !== null) return resolve();
            child.once('exit', () => resolve());
            child.kill('SIGTERM');
            setTimeout(() => child.kill('SIGKILL'), 10_000).unref();
          }),
      ),
    );
    rmSync(dir, { recursive: true, force: true });
  };
  const ports = { source: await freePort(), replica: await freePort() };
  try {
    for (const [name, port] of Object.entries(ports)) {
      const data = join(dir, name);
      // A private tmpdir: a starting mariadbd deletes every #sql* file in its tmpdir, and in /tmp those
      // would be the test server's own temporary tables in use by other test files.
      const tmp = join(dir, `${name}-tmp`);
      mkdirSync(tmp);
      run(install, ['--no-defaults', `--datadir=${data}`, `--tmpdir=${tmp}`, ...(isRoot() ? ['--user=root'] : []), '--auth-root-authentication-method=normal', '--skip-test-db']);
      const args = [
        '--no-defaults',
        ...(isRoot() ? ['--user=root'] : []),
        `--datadir=${data}`,
        `--tmpdir=${tmp}`,
        `--port=${port}`,
        '--bind-address=127.0.0.1',
        `--socket=${join(dir, `${name}.sock`)}`,
        `--pid-file=${join(dir, `${name}.pid`)}`,
        `--log-error=${join(dir, `${name}.err`)}`,
        `--server-id=${name === 'source' ? 1 : 2}`,
        '--innodb-buffer-pool-size=32M',
        '--innodb-log-file-size=16M',
        ...(name === 'source' ? [`--log-bin=${join(data, 'binlog')}`, '--binlog-format=ROW'] : []),
      ];
      const child = spawn(server, args, { stdio: 'ignore' });
      processes.push(child);
      process.once('exit', () => child.kill('SIGKILL'));
    }
    // install-db makes root@localhost; the tests (and the replica's replication connection) come over TCP.
    for (const name of Object.keys(ports)) {
      const socketPath = join(dir, `${name}.sock`);
      await until(`MariaDB ${name} to start`, async () => {
        const connection = await mysql.createConnection({ socketPath, user: 'root' });
        await connection.end();
        return true;
      });
      const connection = await mysql.createConnection({ socketPath, user: 'root', multipleStatements: true });
      await connection.query(`SET sql_log_bin = 0; CREATE USER IF NOT EXISTS 'root'@'127.0.0.1'; GRANT ALL ON *.* TO 'root'@'127.0.0.1' WITH GRANT OPTION`);
      await connection.end();
    }
  } catch (error) {
    await stop();
    return unavailable(String((error as Error).message).slice(0, 500));
  }
  const onServer = (port: number) => async (sql: string): Promise<void> => {
    const connection = await mysql.createConnection({ host: '127.0.0.1', port, user: 'root', multipleStatements: true });
    try {
      await connection.query(sql);
    } finally {
      await connection.end();
    }
  };
  await onServer(ports.replica)(`CHANGE MASTER TO MASTER_HOST = '127.0.0.1', MASTER_PORT = ${ports.source}, MASTER_USER = 'root', MASTER_USE_GTID = slave_pos; START SLAVE`);
  return { pair: { primaryUrl: `mysql://root@127.0.0.1:${ports.source}/mysql`, replicaUrl: `mysql://root@127.0.0.1:${ports.replica}/mysql`, onReplica: onServer(ports.replica), stop }, reason: '' };
}
