// Starts a real `redress serve` on a fresh SQLite file in a temporary directory, with staff
// accounts made by `redress user create`, and stops it afterwards.
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createServer } from 'node:net';

const here = new URL('.', import.meta.url).pathname;
// The binary `cargo test` built: in CARGO_TARGET_DIR when that is set (relative to the
// repository), else in the repository's target folder.
const targetDir = resolve(here, '../..', process.env.CARGO_TARGET_DIR || 'target');
export const BIN = process.env.REDRESS_BIN || join(targetDir, 'debug', 'redress');
export const PASSWORD = 'correct horse battery staple';

/** Staff used by the journeys: one per department, and a manager. */
export const STAFF = [
  { email: 'cs@kinex.test', name: 'Casey Services', role: 'handler', department: 'customer_services' },
  { email: 'esc@kinex.test', name: 'Eli Escalation', role: 'handler', department: 'escalation_team' },
  { email: 'crd@kinex.test', name: 'Robin Resolution', role: 'handler', department: 'customer_resolution' },
  { email: 'crm@kinex.test', name: 'Morgan Manager', role: 'customer_resolution_manager', department: 'customer_resolution_manager' },
  { email: 'lead@kinex.test', name: 'Taylor Lead', role: 'team_manager', department: 'customer_services' },
  { email: 'comp@kinex.test', name: 'Charlie Compliance', role: 'compliance' },
];

function freePort() {
  return new Promise((ok, fail) => {
    const server = createServer();
    server.unref();
    server.on('error', fail);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => ok(port));
    });
  });
}

export async function startServer() {
  const dir = mkdtempSync(join(tmpdir(), 'redress-e2e-'));
  const database = join(dir, 'redress.db');
  for (const s of STAFF) {
    const department = s.department ? ['--department', s.department] : [];
    execFileSync(BIN, ['user', 'create', '--database', database, '--email', s.email, '--name', s.name, '--role', s.role, ...department], {
      env: { ...process.env, REDRESS_PASSWORD: PASSWORD },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
  }
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child = spawn(BIN, ['serve', '--database', database, '--listen', `127.0.0.1:${port}`, '--files-dir', join(dir, 'files'), '--mail-dir', join(dir, 'mail'), '--print-dir', join(dir, 'print'), '--public-url', url], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let log = '';
  child.stderr.on('data', (d) => { log += d; });
  for (let i = 0; i < 200; i++) {
    try {
      const r = await fetch(`${url}/readyz`);
      if (r.ok) break;
    } catch { /* not up yet */ }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    database,
    dir,
    log: () => log,
    async stop() {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
