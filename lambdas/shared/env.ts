/**
 * Environment read and checked at init: a missing variable fails fast with its name.
 */
export class MissingEnvironmentError extends Error {
  constructor(readonly variable: string) {
    super(`environment variable ${variable} is required but not set`);
    this.name = 'MissingEnvironmentError';
  }
}

export function requireEnv(name: string, env: NodeJS.ProcessEnv = process.env): string {
  const value = env[name];
  if (value === undefined || value === '') throw new MissingEnvironmentError(name);
  return value;
}

export function optionalEnv(name: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const value = env[name];
  return value === undefined || value === '' ? undefined : value;
}

export function intEnv(name: string, fallback: number, env: NodeJS.ProcessEnv = process.env): number {
  const raw = optionalEnv(name, env);
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n)) throw new Error(`environment variable ${name} must be an integer, got ${raw}`);
  return n;
}
