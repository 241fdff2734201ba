/**
 * Crash injection for the restartability tests: `SHOPLAKE_FAULT_POINT=<name>` makes the process
 * SIGKILL itself when it reaches the named point (a real crash: no cleanup, no finally blocks,
 * no flushed buffers). Unset (always, outside those tests) it is a no-op string compare.
 *
 * Points: `iceberg:before-link:<ns.table>` (data and manifest files written, metadata not yet
 * published), `iceberg:after-link:<ns.table>` (published, version hint not yet updated),
 * `landing:moved` (landing files moved to _processing, not loaded), `landing:bronze-committed`
 * (bronze committed, rejected records and the final move not done), `landing:rejected-committed`
 * (the rejected records committed, the files not moved to _loaded yet).
 */
export const FAULT_POINT_ENV = 'SHOPLAKE_FAULT_POINT';

export function faultPoint(name: string): void {
  const wanted = process.env[FAULT_POINT_ENV];
  if (wanted !== undefined && wanted === name) process.kill(process.pid, 'SIGKILL');
}
