import { ConfigError, loadConfig } from '../config.js';
import { systemClock } from '../domain/time.js';
import { dashed } from '../domain/views-bird.js';
import { createWorkspace } from '../management/workspaces.js';
import { createLogger, startRoost } from '../server.js';
import { openStore } from '../store/open-store.js';
import { limitHeapGrowth } from './heap-growth.js';

const USAGE = `Usage: roost <command>

Commands:
  serve                      start the API and the workers (configured by ROOST_* variables)
  workspace create [--name N] create another workspace and print its keys once
  help                       show this help

Environment: ROOST_PORT (8080), ROOST_HOST (127.0.0.1), ROOST_DATABASE_URL (sqlite:./data/roost.db),
ROOST_PUBLIC_URL, ROOST_ACCESS_KEY, ROOST_TEST_ACCESS_KEY, ROOST_SIGNING_KEY, ROOST_ALLOW_PRIVATE_URLS (0).
See README.md for the full list.`;

/** Entry point of the `roost` command. Returns the exit code. */
export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'serve':
      return serve();
    case 'workspace':
      return workspace(rest);
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      console.log(USAGE);
      return command === undefined ? 2 : 0;
    default:
      console.error(`roost: unknown command ${JSON.stringify(command)}\n\n${USAGE}`);
      return 2;
  }
}

function configOrExit() {
  try {
    return loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(`roost: ${err.message}`);
      return undefined;
    }
    throw err;
  }
}

async function serve(): Promise<number> {
  const config = configOrExit();
  if (!config) return 2;
  limitHeapGrowth();
  const log = createLogger(config);
  let roost;
  try {
    roost = await startRoost(config, { log });
  } catch (err) {
    log.fatal({ err }, 'roost could not start');
    return 1;
  }
  // Signal handlers go in before the ready line, so a supervisor that reacts to that
  // line with SIGTERM always gets a graceful stop.
  const stopped = new Promise<number>((resolve) => {
    let signals = 0;
    const shutdown = (signal: string, code = 0) => {
      if (++signals > 1) {
        log.warn({ signal }, 'second signal: exiting now');
        process.exit(1);
      }
      log.info({ signal }, 'shutting down');
      roost.stop().then(() => resolve(code), (err) => {
        log.error({ err }, 'shutdown failed');
        resolve(1);
      });
    };
    process.once('SIGTERM', () => shutdown('SIGTERM'));
    process.once('SIGINT', () => shutdown('SIGINT'));
    // Every state change is in the database, so a stray rejection is logged and serving
    // goes on; an uncaught exception leaves the process in an unknown state: drain and exit.
    process.on('unhandledRejection', (err) => log.error({ err }, 'unhandled promise rejection'));
    process.once('uncaughtException', (err) => {
      log.fatal({ err }, 'uncaught exception: shutting down');
      shutdown('uncaughtException', 1);
    });
  });

  const { secrets } = roost;
  if (secrets.liveKey || secrets.signingKey) {
    // Shown once, on the start that created them; Roost stores only hashes of access keys.
    const lines = ['', 'Roost created the default workspace. Keep these; they are not shown again:'];
    if (secrets.liveKey) lines.push(`  live access key: ${secrets.liveKey}`);
    if (secrets.testKey) lines.push(`  test access key: ${secrets.testKey}`);
    if (secrets.signingKey) lines.push(`  signing key:     ${secrets.signingKey}`);
    lines.push('');
    process.stdout.write(lines.join('\n') + '\n');
  }
  // Bird's API names the workspace in its paths (/workspaces/{workspaceId}/...).
  process.stdout.write(`default workspace: ${dashed(roost.workspaceId)}\n`);
  process.stdout.write(`roost listening on ${roost.url}\n`);
  return stopped;
}

async function workspace(args: string[]): Promise<number> {
  if (args[0] !== 'create') {
    console.error('Usage: roost workspace create [--name NAME]');
    return 2;
  }
  const nameAt = args.indexOf('--name');
  const name = nameAt >= 0 ? args[nameAt + 1] : 'workspace';
  if (!name) {
    console.error('roost: --name needs a value');
    return 2;
  }
  const config = configOrExit();
  if (!config) return 2;
  const store = await openStore(config.database);
  try {
    const { workspace: ws, secrets } = await createWorkspace(store, systemClock, name);
    process.stdout.write(JSON.stringify({ id: ws.id, name: ws.name, ...secrets }, null, 2) + '\n');
    return 0;
  } finally {
    await store.close();
  }
}
