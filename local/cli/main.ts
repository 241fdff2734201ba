/**
 * The `shoplake` CLI. Each command lives in its own module under `./commands/` and exports
 * `register(program)`; this file only wires them together, so capabilities can be added
 * without touching a shared list. Progress goes to stderr; `--json` summaries to stdout.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Command, CommanderError } from 'commander';
import { EXIT_CODES_HELP } from './args.ts';
import { errorBody, exitCodeOf, jsonRequested } from './errors.ts';

export { exitCodeOf };

export interface CommandModule {
  register(program: Command): void;
}

function isCommandModule(value: unknown): value is CommandModule {
  return (
    typeof value === 'object' && value !== null && typeof (value as CommandModule).register === 'function'
  );
}

function packageVersion(): string {
  const pkg = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'package.json');
  return (JSON.parse(readFileSync(pkg, 'utf8')) as { version: string }).version;
}

export async function buildProgram(): Promise<Command> {
  const program = new Command('shoplake')
    .description('Serverless e-commerce lakehouse: local runtime and operations CLI')
    .option(
      '--state-dir <dir>',
      'directory holding all local state',
      process.env.SHOPLAKE_STATE_DIR ?? '.shoplake',
    )
    .version(packageVersion(), '-V, --version', 'print the shoplake version')
    .addHelpText('after', EXIT_CODES_HELP)
    .showHelpAfterError()
    .exitOverride();
  const dir = join(dirname(fileURLToPath(import.meta.url)), 'commands');
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'))
    .sort();
  for (const file of files) {
    const mod: unknown = await import(pathToFileURL(join(dir, file)).href);
    if (!isCommandModule(mod))
      throw new Error(`CLI command module ${file} does not export register(program)`);
    mod.register(program);
  }
  return program;
}

/** Runs the CLI; returns the process exit code. */
export async function main(argv: string[]): Promise<number> {
  const program = await buildProgram();
  try {
    await program.parseAsync(argv);
    return 0;
  } catch (error: unknown) {
    const code = exitCodeOf(error);
    // Help and --version exit 0; commander already printed every usage error on stderr.
    if (error instanceof CommanderError) {
      if (code !== 0 && jsonRequested(argv.slice(2)))
        process.stdout.write(`${JSON.stringify({ error: errorBody(error) }, null, 2)}\n`);
      return code;
    }
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`shoplake: ${message}\n`);
    if (process.env.SHOPLAKE_DEBUG && error instanceof Error && error.stack)
      process.stderr.write(`${error.stack}\n`);
    if (jsonRequested(argv.slice(2)))
      process.stdout.write(`${JSON.stringify({ error: errorBody(error) }, null, 2)}\n`);
    return code;
  }
}
