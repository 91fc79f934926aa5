import assert from 'node:assert/strict';
import net from 'node:net';
import { countResources, leakedResources, settleLeaks } from './leak-check.ts';

describe('leak check', () => {
  it('counts only the watched kinds, and reports what is open beyond the snapshot', () => {
    const before = countResources(['TTYWrap', 'TCPServerWrap', 'Timeout', 'FSReqCallback']);
    const after = countResources(['TTYWrap', 'TCPServerWrap', 'TCPServerWrap', 'Timeout', 'TCPSocketWrap', 'FSReqCallback', 'FSReqCallback']);
    assert.deepEqual(leakedResources(before, after), ['TCPServerWrap ×1', 'TCPSocketWrap ×1']);
    assert.deepEqual(leakedResources(after, before), []);
  });

  it('waits out the grace period for handles that are closing', async () => {
    const states = [['Timeout', 'Timeout'], ['Timeout']];
    const leaks = await settleLeaks(countResources(['Timeout']), 1000, () => countResources(states.shift() ?? ['Timeout']));
    assert.deepEqual(leaks, []);
  });

  it('finds a server left listening, and nothing once it is closed', async () => {
    // Within a test mocha's own timers come and go: look at servers only.
    const servers = (leaks: string[]) => leaks.filter((leak) => leak.startsWith('TCPServerWrap'));
    const before = countResources(process.getActiveResourcesInfo());
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      assert.deepEqual(servers(await settleLeaks(before, 100)), ['TCPServerWrap ×1']);
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
    assert.deepEqual(servers(await settleLeaks(before, 1000)), []);
  });
});
