import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { expect, it } from 'vitest';

const WATCHDOG = pathToFileURL(path.resolve('dist/shadow/watchdog.js')).href;

/**
 * The watchdog is the only guard against a statement that never ends on the embedded shadow: with
 * the main thread blocked (as PGlite blocks it), its worker — started with bounded heap sizes —
 * must still end the process and remove the shadow's folder. Run in a child process it may kill.
 */
it('ends a process whose main thread never comes back, and removes the shadow folder', () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'knexsafe-watchdog-'));
  fs.writeFileSync(path.join(dataDir, 'PG_VERSION'), '17\n');
  const script = `
    import { startWatchdog } from ${JSON.stringify(WATCHDOG)};
    const watchdog = startWatchdog({ timeoutMs: 100, dataDir: ${JSON.stringify(dataDir)}, names: ['001_forever.js'] });
    watchdog.arm(0);
    const end = Date.now() + 40_000;
    while (Date.now() < end) {}
    console.log('the main thread came back');
  `;
  const file = path.join(os.tmpdir(), `knexsafe-watchdog-${process.pid}.mjs`);
  fs.writeFileSync(file, script);
  const child = spawnSync(process.execPath, [file], { encoding: 'utf8', timeout: 60_000 });
  fs.rmSync(file, { force: true });
  expect(child.stdout).not.toContain('came back');
  expect(child.signal).toBe('SIGKILL');
  expect(child.stderr).toContain('001_forever.js ran longer than --timeout');
  expect(fs.existsSync(dataDir)).toBe(false);
}, 70_000);
