import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadKubeConfig } from './kube-client.ts';

describe('loadKubeConfig', () => {
  it('says what to set when there is neither a kubeconfig nor a pod service account', () => {
    assert.throws(() => loadKubeConfig(undefined, '/nonexistent/token'), /Not running in a pod .*set TRIGGERS_CONTROLLER_KUBECONFIG/);
    assert.throws(() => loadKubeConfig('/nonexistent/kubeconfig'), /No kubeconfig at \/nonexistent\/kubeconfig \(TRIGGERS_CONTROLLER_KUBECONFIG\)/);
  });

  it('reads a kubeconfig file: server, CA and token', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kubeconfig-'));
    const file = path.join(dir, 'kubeconfig');
    fs.writeFileSync(
      file,
      ['apiVersion: v1', 'kind: Config', 'clusters: [{name: c, cluster: {server: "https://127.0.0.1:6443"}}]', 'users: [{name: u, user: {token: abc}}]', 'contexts: [{name: x, context: {cluster: c, user: u}}]', 'current-context: x'].join('\n'),
    );
    try {
      const kc = loadKubeConfig(file);
      assert.equal(kc.getCurrentCluster()?.server, 'https://127.0.0.1:6443');
      assert.equal(kc.getCurrentUser()?.token, 'abc');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
