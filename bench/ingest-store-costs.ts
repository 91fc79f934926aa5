/**
 * The embedded ingest store's work per event, without HTTP and without the matcher:
 * `npx tsx bench/ingest-store-costs.ts [--events N] [--per-call C] [--calls-per-group G] [--drop-indexes]`.
 *
 * Accepts N events through the SQLite event acceptor (the outbox: event rows, `events` queue
 * messages, group commit with its WAL fdatasync), C events per call and G calls at once (so one
 * group commit holds G × C events), and prints the CPU time (process.cpuUsage: this process only,
 * which other load on the machine disturbs far less than a throughput figure) and wall time per
 * event. `--drop-indexes` drops the events table's four secondary indexes first (inbox filters,
 * pending sweeper) to show what they cost per insert; the server never runs without them.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { JsonText, systemClock, uuidv7, type NewEvent } from '@triggers/core/domain';
import { createBackends, createLogger, loadConfig } from '@triggers/core/runtime';
import { temporaryDatabases } from '@triggers/core/testing';

const { values } = parseArgs({
  options: {
    events: { type: 'string', default: '100000' },
    'per-call': { type: 'string', default: '100' },
    'calls-per-group': { type: 'string', default: '1' },
    'drop-indexes': { type: 'boolean', default: false },
  },
});
const total = Number(values.events);
const perCall = Number(values['per-call']);
const callsPerGroup = Number(values['calls-per-group']);
const customerId = '0190f5c8-0000-7000-8000-000000000001';
const payload = { event_type: 'order.created', order_id: '12345', amount: 99.99, customer: { id: 'cus_1', tier: 'pro' } };

const dir = mkdtempSync(path.join(os.tmpdir(), 'triggers-ingest-store-costs-'));
// The embedded defaults (synchronous=full), as `npm start` runs them.
const config = loadConfig({ TRIGGERS_DATA_DIR: dir, TRIGGERS_ENV: 'dev' });
const backends = await createBackends(config, { clock: systemClock, log: createLogger({ level: 'silent', service: 'ingest-store-costs' }) });
if (values['drop-indexes']) {
  // Through a second connection, after the backends prepared their statements (the inbox's pin
  // these indexes by name; they are not run here).
  const databases = temporaryDatabases();
  const db = await databases.open(dir, 'full');
  for (const index of ['events_customer_event_idx', 'events_customer_status_event_idx', 'events_customer_type_event_idx', 'events_status_timestamp_idx']) {
    db.exec(`DROP INDEX ${index}`);
  }
  db.close();
}
try {
  const newEvents = (count: number): NewEvent[] =>
    Array.from({ length: count }, () => {
      const eventId = uuidv7();
      return { eventId, customerId, eventType: 'order.created', payload: JsonText.of(payload), timestamp: Date.now() };
    });
  // Warm-up: statements prepared, pages cached.
  await backends.eventAcceptor.accept({ events: newEvents(perCall) });
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  for (let done = 0; done < total; done += perCall * callsPerGroup) {
    await Promise.all(Array.from({ length: callsPerGroup }, () => backends.eventAcceptor.accept({ events: newEvents(perCall) })));
  }
  const wallMs = performance.now() - started;
  const cpu = process.cpuUsage(cpuBefore);
  const events = Math.ceil(total / (perCall * callsPerGroup)) * perCall * callsPerGroup;
  process.stdout.write(
    `${events} events, ${perCall} per call, ${callsPerGroup} calls per group commit${values['drop-indexes'] ? ', WITHOUT the 4 secondary indexes' : ''}: ` +
      `CPU ${((cpu.user + cpu.system) / events).toFixed(1)} µs/event, wall ${((wallMs * 1000) / events).toFixed(1)} µs/event (${Math.round(events / (wallMs / 1000))} events/s)\n`,
  );
} finally {
  await backends.close();
  rmSync(dir, { recursive: true, force: true });
}
