import { loadConfigOrExit, onShutdown, createLogger } from '@triggers/core/runtime';
import { startAllInOne } from './server.ts';
import { ensureConsoleBuilt } from './console-build.ts';

/** `npm start`: every service in this one process, on the embedded SQLite default. */
async function main(): Promise<void> {
  const config = loadConfigOrExit(process.env);
  const log = createLogger({ level: config.logLevel, service: 'all-in-one' });
  if (config.demoEnabled) await ensureConsoleBuilt((line) => process.stdout.write(`${line}\n`));
  const server = await startAllInOne(config, { log });
  const token = server.adminToken ?? '(admin endpoints disabled)';
  process.stdout.write(
    [
      '',
      `  Triggers is running — embedded mode, data in ${config.dataDir}`,
      '',
      config.demoEnabled ? `  Console      ${server.url}/` : '  Console      off (TRIGGERS_DEMO=0)',
      `  API          ${server.url}/api/v1`,
      `  OpenAPI      ${server.url}/openapi.json`,
      `  Health       ${server.url}/health   Metrics ${server.url}/metrics`,
      `  Admin token  ${token}   (${server.adminTokenSource})`,
      '',
      '  Create a customer and an API key:',
      `    curl -s -X POST ${server.url}/admin/test-customer -H "Authorization: Bearer ${token}" \\`,
      `         -H 'Content-Type: application/json' -d '{"name":"Acme","email":"ops@acme.test"}'`,
      '',
      '',
    ].join('\n'),
  );
  onShutdown(log, () => server.close());
}

main().catch((error) => {
  process.stderr.write(`Triggers failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
