/**
 * A preload for measuring one service process of the `scale-out` scenario: a V8 CPU profile and
 * counts of the SQL statements (pg) and Kafka requests (kafkajs, by API) it made, from its start to
 * its exit, written to $BENCH_PROBE_DIR as <service>-<pid>.cpuprofile and <service>-<pid>.counts.json.
 * Counts divided by the count of `INSERT INTO delivery_attempts` statements give them per webhook.
 * Node 20 refuses --cpu-prof in NODE_OPTIONS, hence the inspector session:
 *
 *   npm run bench -- --scenarios scale-out --backends postgres-redis-kafka --duration 10 \
 *     --server-env "NODE_OPTIONS=--import $PWD/bench/lib/service-probe.mjs" --server-env BENCH_PROBE_DIR=/tmp/probe
 *
 * BENCH_PROBE_SERVICE picks the service (default deliverer); other processes are left alone.
 */
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { createRequire } from 'node:module';

const service = process.env.BENCH_PROBE_SERVICE ?? 'deliverer';
const dir = process.env.BENCH_PROBE_DIR;
if (dir && process.argv.some((arg) => arg.includes(`services/${service}/`))) {
  const require = createRequire(`${process.cwd()}/package.json`);
  const sql = new Map();
  const kafka = new Map();
  const count = (map, key) => map.set(key, (map.get(key) ?? 0) + 1);
  const pg = require('pg');
  const query = pg.Client.prototype.query;
  pg.Client.prototype.query = function (config, ...rest) {
    const text = typeof config === 'string' ? config : (config?.text ?? '?');
    count(sql, text.replace(/\s+/g, ' ').trim().slice(0, 100));
    return query.call(this, config, ...rest);
  };
  const Connection = require('kafkajs/src/network/connection.js');
  const send = Connection.prototype.send;
  Connection.prototype.send = function (request) {
    count(kafka, request.request.apiName);
    return send.call(this, request);
  };
  const session = new Session();
  session.connect();
  session.post('Profiler.enable', () => session.post('Profiler.start'));
  const sorted = (map) => Object.fromEntries([...map].sort((a, b) => b[1] - a[1]));
  process.on('exit', () => {
    // The main thread's inspector session answers synchronously, so this works in 'exit'.
    session.post('Profiler.stop', (error, result) => {
      if (result?.profile) writeFileSync(`${dir}/${service}-${process.pid}.cpuprofile`, JSON.stringify(result.profile));
    });
    writeFileSync(`${dir}/${service}-${process.pid}.counts.json`, JSON.stringify({ sql: sorted(sql), kafka: sorted(kafka) }, null, 1));
  });
}
