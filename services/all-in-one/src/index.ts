/**
 * The embedded mode: every service on one port (`startAllInOne`), and the console's build check.
 * Nothing imports the all-in-one but tests; `@triggers/all-in-one/test-server` starts it for one.
 */
export { startAllInOne, type RunningServer } from './server.ts';
export { buildConsole, consoleBuildState, ensureConsoleBuilt, type ConsoleBuildResult, type ConsoleBuildState } from './console-build.ts';
