#!/usr/bin/env node
// The `triggers` command. Runs the TypeScript sources through tsx (a dependency of the repository),
// so `npx triggers` works from a clone without a build step.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/main.ts');
process.exitCode = await main(process.argv);
