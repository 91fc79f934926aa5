import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort, requireEngine, type Engine } from '@triggers/testkit';

/** promtool and prometheus come from Debian's `prometheus` package: scripts/engines/prometheus.sh install. */
export const PROMTOOL_VARIABLE = 'TRIGGERS_TEST_PROMTOOL';
export const PROMETHEUS_VARIABLE = 'TRIGGERS_TEST_PROMETHEUS';

function probeBinary(file: string): Promise<void> {
  if (!fs.existsSync(file)) return Promise.reject(new Error(`${file} does not exist`));
  const result = spawnSync(file, ['--version'], { encoding: 'utf8' });
  return result.status === 0 ? Promise.resolve() : Promise.reject(new Error((result.stderr || result.stdout).trim()));
}

export function requirePromtool(): Engine {
  return requireEngine({
    name: 'promtool',
    variable: PROMTOOL_VARIABLE,
    probe: probeBinary,
    hint: 'scripts/engines/prometheus.sh install; TRIGGERS_TEST_PROMTOOL=$(scripts/engines/prometheus.sh bin)/promtool',
  });
}

export function requirePrometheus(): Engine {
  return requireEngine({
    name: 'Prometheus',
    variable: PROMETHEUS_VARIABLE,
    probe: probeBinary,
    hint: 'scripts/engines/prometheus.sh install; TRIGGERS_TEST_PROMETHEUS=$(scripts/engines/prometheus.sh bin)/prometheus',
  });
}

export function promtool(binary: string, args: string[]): { status: number | null; output: string } {
  const result = spawnSync(binary, args, { encoding: 'utf8', timeout: 60_000 });
  if (result.error) throw result.error;
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

export interface RunningPrometheus {
  url: string;
  /** An instant query now; the result vector (or scalar as one sample). */
  query(expr: string): Promise<{ metric: Record<string, string>; value: [number, string] }[]>;
  stop(): Promise<void>;
}

/**
 * A throwaway Prometheus on a free loopback port with a temp TSDB, scraping `targets` every
 * second and loading `ruleFiles`; stopped (and its folder removed) by `stop`.
 */
export async function startPrometheus(binary: string, options: { targets: string[]; ruleFiles?: string[] }): Promise<RunningPrometheus> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'triggers-prometheus-'));
  const port = await freePort();
  const config = {
    global: { scrape_interval: '1s', evaluation_interval: '1s' },
    rule_files: options.ruleFiles ?? [],
    scrape_configs: [{ job_name: 'triggers', static_configs: [{ targets: options.targets }] }],
  };
  fs.writeFileSync(path.join(dir, 'prometheus.yml'), JSON.stringify(config));
  const log = fs.openSync(path.join(dir, 'prometheus.log'), 'w');
  const child: ChildProcess = spawn(
    binary,
    [`--config.file=${path.join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${path.join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`],
    { stdio: ['ignore', log, log] },
  );
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (child.exitCode === null) {
      child.kill('SIGTERM');
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([exited, new Promise((r) => (timer = setTimeout(r, 5000)))]);
      clearTimeout(timer);
      if (child.exitCode === null) {
        child.kill('SIGKILL');
        await exited;
      }
    }
    fs.closeSync(log);
    fs.rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (child.exitCode !== null) {
      const text = fs.readFileSync(path.join(dir, 'prometheus.log'), 'utf8');
      await stop();
      throw new Error(`prometheus exited during start-up: ${text.slice(-2000)}`);
    }
    const ready = await fetch(`${url}/-/ready`).then((r) => r.ok, () => false);
    if (ready) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error('prometheus did not get ready within 20 s');
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    url,
    async query(expr) {
      const response = await fetch(`${url}/api/v1/query?${new URLSearchParams({ query: expr })}`);
      const body = (await response.json()) as any;
      if (body.status !== 'success') throw new Error(`${expr}: ${body.error ?? response.status}`);
      if (body.data.resultType === 'scalar') return [{ metric: {}, value: body.data.result }];
      return body.data.result;
    },
    stop,
  };
}
