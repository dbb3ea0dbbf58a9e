// The app: a load generator in its own process (so the migration's CPU use in the parent cannot
// delay requests). Open-loop: request i is due at start + i / rate whether or not earlier requests
// finished, and its latency is measured from when it was due, so a stall shows as latency, never as
// silently lower load. A fixed set of connections (the app's pool) takes due requests in order.
//
// Started by run.mjs with one JSON argument (see `config` below); messages over IPC:
//   parent → child  {type:'app', version:'old'|'new', setup?}  switch app version (the deploy);
//                   `setup` (PostgreSQL: SET search_path to tandem's version schema) runs first
//                   on every connection, as a new app's connection setup would
//                   {type:'stop'}                      stop, write samples, exit
//   child → parent  {type:'ready'} once connected; {type:'done', file} at the end.
import fs from 'node:fs';
import pg from 'pg';
import mysql from 'mysql2/promise';

const config = JSON.parse(process.argv[2]);
// { kind: 'postgres'|'mysql', url, rate, connections, rows, apps: {old:{…}, new:{…}}, named: bool, out }
// The system's monotonic clock (CLOCK_MONOTONIC), the same in the benchmark and the app's process:
// each process's performance.timeOrigin is the wall clock when it started, so a clock step between
// two starts (a VM's time sync) shifted every later app sample against the phase marks.
const now = () => Number(process.hrtime.bigint()) / 1e6;

/** SQL of one app version; placeholders `$n` (PostgreSQL) or `?` (MySQL). */
function statements(app) {
  const ph = (i) => (config.kind === 'postgres' ? `$${i}` : '?');
  const cols = ['id', 'account_id', 'amount', app.note, ...(app.extra ? [app.extra.column] : [])];
  const insertCols = ['account_id', 'amount', app.note, ...(app.extra ? [app.extra.column] : [])];
  return {
    read: `SELECT ${cols.join(', ')} FROM items WHERE id = ${ph(1)}`,
    update: `UPDATE items SET amount = ${ph(1)}, ${app.note} = ${ph(2)} WHERE id = ${ph(3)}`,
    insert: `INSERT INTO items (${insertCols.join(', ')}) VALUES (${insertCols.map((_, i) => ph(i + 1)).join(', ')})`,
  };
}

let version = 'old';
const sql = { old: statements(config.apps.old), new: statements(config.apps.new) };

async function openConnection() {
  if (config.kind === 'postgres') {
    const client = new pg.Client({ connectionString: config.url });
    await client.connect();
    client.on('error', () => undefined);
    return {
      run: (key, text, values) => client.query(config.named ? { name: key, text, values } : { text, values }),
      exec: (text) => client.query(text),
      close: () => client.end(),
    };
  }
  const connection = await mysql.createConnection({ uri: config.url });
  return { run: (_key, text, values) => connection.query(text, values), exec: (text) => connection.query(text), close: () => connection.end() };
}

function request(kind) {
  const app = config.apps[version];
  const id = 1 + Math.floor(Math.random() * config.rows);
  const amount = Math.floor(Math.random() * 1_000_000);
  const s = sql[version];
  if (kind === 0) return { key: `read_${version}`, text: s.read, values: [id] };
  if (kind === 1) return { key: `update_${version}`, text: s.update, values: [amount, `n${amount}`, id] };
  const account = 1 + Math.floor(Math.random() * 1000);
  const values = [account, amount, `n${amount}`];
  if (app.extra) values.push(app.extra.value(account));
  return { key: `insert_${version}`, text: s.insert, values };
}
// The extra column's value is given as a formula name (functions do not cross IPC).
for (const app of Object.values(config.apps)) if (app.extra) app.extra.value = app.extra.formula === 'mod10' ? (account) => account % 10 : () => null;

const connections = await Promise.all(Array.from({ length: config.connections }, openConnection));
// The benchmark went away (killed, or interrupted without its process group): stop the load too.
process.on('disconnect', () => process.exit(0));
process.on('message', (message) => {
  if (message.type === 'app') {
    version = message.version;
    if (message.setup) for (const connection of connections) connection.setup = message.setup;
  }
  if (message.type === 'stop') stopping = true;
});

// Samples: due time (epoch ms), latency (ms), kind, error index (-1 = ok).
const due = [];
const latency = [];
const kinds = [];
const errorAt = [];
const errors = [];
let stopping = false;
let sent = 0;
const queue = [];
let waiting = [];

const started = now();
process.send({ type: 'ready', at: started });
const interval = 1000 / config.rate;
const ticker = setInterval(() => {
  if (stopping) return;
  const t = now();
  while (started + sent * interval <= t) {
    const r = Math.random();
    queue.push({ due: started + sent * interval, kind: r < 0.7 ? 0 : r < 0.9 ? 1 : 2 });
    sent++;
  }
  const idle = waiting;
  waiting = [];
  for (const wake of idle) wake();
}, 1);

async function worker(connection) {
  for (;;) {
    const job = queue.shift();
    if (!job) {
      if (stopping) return;
      await new Promise((resolve) => waiting.push(resolve));
      continue;
    }
    const { key, text, values } = request(job.kind);
    let error = -1;
    try {
      if (connection.setup) {
        const setup = connection.setup;
        connection.setup = null;
        await connection.exec(setup);
      }
      await connection.run(key, text, values);
    } catch (e) {
      error = errors.length;
      errors.push(`${e.code ?? ''} ${e.message}`.trim().slice(0, 200));
    }
    due.push(job.due);
    latency.push(now() - job.due);
    kinds.push(job.kind);
    errorAt.push(error);
  }
}

const workers = connections.map(worker);
await new Promise((resolve) => {
  const check = setInterval(() => {
    if (stopping) {
      clearInterval(check);
      resolve();
    }
  }, 5);
});
clearInterval(ticker);
for (const wake of waiting) wake();
waiting = [];
await Promise.all(workers);
await Promise.all(connections.map((c) => c.close().catch(() => undefined)));
fs.writeFileSync(config.out, JSON.stringify({ started, due, latency, kinds, errorAt, errors }));
process.send({ type: 'done', file: config.out });
process.disconnect();
