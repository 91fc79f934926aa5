import assert from 'node:assert/strict';
import { KubeError, type WatchEvent, type WatchStream } from './kube-client.ts';
import { Informer, type KubeObject, type ListWatchSource } from './informer.ts';
import { ManualScheduler, flushPromises } from '../scheduler.testing.ts';

type Obj = KubeObject & { metadata: { name: string; namespace: string; resourceVersion: string }; value?: number };
const obj = (name: string, resourceVersion: string, value = 0): Obj => ({ metadata: { name, namespace: 'ns', resourceVersion }, value });

/** A scripted API: each list answers from `lists`, each watch is a stream the test drives. */
class ScriptedSource implements ListWatchSource<Obj> {
  lists: (Obj[] | Error)[] = [];
  listCalls = 0;
  watches: { resourceVersion: string; emit: (e: WatchEvent<Obj>) => void; end: (error?: Error) => void; aborted: boolean }[] = [];
  watchFailures: Error[] = [];
  async list() {
    this.listCalls++;
    const next = this.lists.shift();
    if (!next) throw new Error('no list scripted');
    if (next instanceof Error) throw next;
    const rv = String(Math.max(0, ...next.map((o) => Number(o.metadata.resourceVersion))));
    return { items: next, resourceVersion: rv };
  }
  watch(resourceVersion: string, onEvent: (e: WatchEvent<Obj>) => void): WatchStream {
    const failure = this.watchFailures.shift();
    if (failure) return { done: Promise.reject(failure), abort() {} };
    let settle!: (error?: Error) => void;
    const done = new Promise<void>((resolve, reject) => (settle = (error) => (error ? reject(error) : resolve())));
    const entry = { resourceVersion, emit: onEvent, end: settle, aborted: false };
    this.watches.push(entry);
    return {
      done,
      abort() {
        entry.aborted = true;
        settle();
      },
    };
  }
  get current() {
    return this.watches[this.watches.length - 1];
  }
}

describe('Informer (list + watch)', () => {
  let scheduler: ManualScheduler;
  let source: ScriptedSource;
  let changes: string[];
  let errors: number[];
  let informer: Informer<Obj>;
  beforeEach(() => {
    scheduler = new ManualScheduler(0);
    source = new ScriptedSource();
    changes = [];
    errors = [];
    informer = new Informer<Obj>({
      source,
      scheduler,
      onChange: (event, o) => changes.push(`${event}:${o.metadata!.name}@${o.metadata!.resourceVersion}`),
      onError: (_e, delay) => errors.push(delay),
      baseDelayMs: 100,
      maxDelayMs: 1000,
    });
  });
  afterEach(async () => {
    const stopping = informer.stop();
    await scheduler.advance(10_000);
    await stopping;
  });

  it('lists, then watches from the list resourceVersion, applying adds, updates and deletes', async () => {
    source.lists.push([obj('a', '5'), obj('b', '7')]);
    informer.start();
    await flushPromises();
    assert.equal(informer.hasSynced, true);
    assert.equal(source.current.resourceVersion, '7');
    source.current.emit({ type: 'MODIFIED', object: obj('a', '8', 1) });
    source.current.emit({ type: 'ADDED', object: obj('c', '9') });
    source.current.emit({ type: 'DELETED', object: obj('b', '10') });
    assert.deepEqual(changes, ['add:a@5', 'add:b@7', 'update:a@8', 'add:c@9', 'delete:b@7']);
    assert.deepEqual(informer.keys().sort(), ['ns/a', 'ns/c']);
    assert.equal(informer.get('ns/a')?.value, 1);
    assert.equal(informer.lastResourceVersion, '10');
  });

  it('moves its resourceVersion with bookmarks, and resumes from there (not a relist) when the server ends the watch', async () => {
    source.lists.push([obj('a', '5')]);
    informer.start();
    await flushPromises();
    source.current.emit({ type: 'BOOKMARK', object: { metadata: { resourceVersion: '42' } } as Obj });
    assert.deepEqual(changes, ['add:a@5'], 'a bookmark is not a change');
    source.current.end();
    await flushPromises();
    assert.equal(source.current.resourceVersion, '42');
    assert.equal(source.listCalls, 1);
    assert.deepEqual(errors, []);
  });

  it('relists on a 410 ERROR event, reporting objects deleted meanwhile and changes, without backoff', async () => {
    source.lists.push([obj('a', '5'), obj('b', '6')]);
    informer.start();
    await flushPromises();
    source.lists.push([obj('a', '20', 2), obj('c', '21')]);
    source.current.emit({ type: 'ERROR', object: { code: 410, message: 'too old resource version: 6 (15)' } as unknown as Obj });
    await flushPromises();
    assert.equal(source.listCalls, 2);
    assert.equal(source.watches[0].aborted, true);
    assert.equal(source.current.resourceVersion, '21');
    assert.deepEqual(changes.slice(2), ['update:a@20', 'add:c@21', 'delete:b@6']);
    assert.deepEqual(errors, [], 'a 410 is not a failure');
  });

  it('relists when the watch request itself answers 410 Gone', async () => {
    source.lists.push([obj('a', '5')], [obj('a', '9')]);
    source.watchFailures.push(new KubeError(410, 'Gone'));
    informer.start();
    await flushPromises();
    assert.equal(source.listCalls, 2);
    assert.equal(source.current.resourceVersion, '9');
  });

  it('retries a failed watch with exponential backoff from the last resourceVersion, and resets after success', async () => {
    source.lists.push([obj('a', '5')]);
    source.watchFailures.push(new KubeError(0, 'ECONNREFUSED'), new KubeError(0, 'ECONNREFUSED'), new KubeError(503, 'unavailable'));
    informer.start();
    await flushPromises();
    assert.deepEqual(errors.length, 1);
    await scheduler.advance(errors[0]);
    assert.equal(errors.length, 2);
    await scheduler.advance(errors[1]);
    assert.equal(errors.length, 3);
    assert.ok(errors[0] >= 80 && errors[0] <= 120 && errors[1] >= 160 && errors[1] <= 240 && errors[2] >= 320 && errors[2] <= 480, `doubling with ±20 % jitter: ${errors}`);
    await scheduler.advance(errors[2]);
    assert.equal(source.current.resourceVersion, '5', 'resumed, not relisted');
    assert.equal(source.listCalls, 1);
    source.current.emit({ type: 'ADDED', object: obj('b', '6') });
    source.current.end(new KubeError(0, 'the connection was cut'));
    await flushPromises();
    assert.ok(errors[3] <= 120, 'backoff starts over after a watch that worked');
    await scheduler.advance(errors[3]);
    assert.equal(source.current.resourceVersion, '6', 'no change lost: resumes after the last event it saw');
  });

  it('retries a failed first list with backoff and is not synced until it succeeds', async () => {
    source.lists.push(new KubeError(0, 'ECONNREFUSED'), [obj('a', '1')]);
    informer.start();
    await flushPromises();
    assert.equal(informer.hasSynced, false);
    await scheduler.advance(errors[0]);
    assert.equal(informer.hasSynced, true);
    assert.deepEqual(changes, ['add:a@1']);
  });

  it('backs off when the server ends watches at once without any event (no busy loop)', async () => {
    source.lists.push([obj('a', '5')]);
    informer.start();
    await flushPromises();
    source.current.end();
    await flushPromises();
    assert.equal(errors.length, 1);
    assert.equal(source.watches.length, 1, 'no new watch before the backoff delay');
    await scheduler.advance(errors[0]);
    assert.equal(source.watches.length, 2);
    await scheduler.advance(5000); // a watch that stays open is fine
    source.current.end();
    await flushPromises();
    assert.equal(errors.length, 1, 'a watch that lasted is a normal end: resumed at once');
    assert.equal(source.watches.length, 3);
  });

  it('treats any other ERROR event as a failure and resumes with backoff', async () => {
    source.lists.push([obj('a', '5')]);
    informer.start();
    await flushPromises();
    source.current.emit({ type: 'ERROR', object: { code: 500, message: 'internal error' } as unknown as Obj });
    await flushPromises();
    assert.equal(errors.length, 1);
    await scheduler.advance(errors[0]);
    assert.equal(source.current.resourceVersion, '5');
  });
});
