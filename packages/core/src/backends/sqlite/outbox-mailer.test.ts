import assert from 'node:assert/strict';
import { ManualClock } from '../../clock.ts';
import { SqliteOutboxMailer } from './outbox-mailer.ts';
import { SqliteDemoStore } from './demo-store.ts';
import { temporaryDatabases } from './testing.ts';

describe('SQLite outbox mailer and demo store', () => {
  const databases = temporaryDatabases();
  after(() => databases.closeAll());

  it('keeps every sent message and lists them newest first, with the sender', async () => {
    const clock = new ManualClock(Date.parse('2026-01-15T10:30:00.000Z'));
    const outbox = new SqliteOutboxMailer(await databases.open(), 'Demo <demo@triggers.test>', clock);
    const first = await outbox.send({ to: 'a@acme.test', subject: 'First', text: 'one' });
    clock.advance(1000);
    const second = await outbox.send({ to: 'b@acme.test', subject: 'Second', text: 'two', html: '<p>two</p>' });

    assert.equal(first.provider, 'outbox');
    assert.notEqual(first.id, second.id);
    const listed = await outbox.list(10);
    assert.deepEqual(listed, [
      { id: second.id, from: 'Demo <demo@triggers.test>', to: 'b@acme.test', subject: 'Second', text: 'two', html: '<p>two</p>', createdAt: clock.now() },
      { id: first.id, from: 'Demo <demo@triggers.test>', to: 'a@acme.test', subject: 'First', text: 'one', createdAt: clock.now() - 1000 },
    ]);
    assert.equal((await outbox.list(1)).length, 1);
  });

  it('stores demo state: the first setIfAbsent wins across connections, set overwrites', async () => {
    const dir = databases.makeDir();
    const a = new SqliteDemoStore(await databases.open(dir));
    const b = new SqliteDemoStore(await databases.open(dir));
    assert.equal(await a.get('account'), null);
    assert.deepEqual(await a.setIfAbsent('account', { id: 'a' }), { id: 'a' });
    assert.deepEqual(await b.setIfAbsent('account', { id: 'b' }), { id: 'a' });
    await b.set('account', { id: 'c' });
    assert.deepEqual(await a.get('account'), { id: 'c' });
  });
});
