#!/usr/bin/env node
// Renders the example shop's HTML report (check --format html) to docs/images/report.png with
// headless Chromium (Debian: apt-get install chromium), for the README.
//
// The picture shows what a reviewer sees on a pull request: a target database with the shop's
// first three migrations applied and the rest pending, which knex runs as one batch transaction.
// The CONCURRENTLY migration (20240108…) is left out of the copy: a migration without a
// transaction makes knex give every migration its own, and the batch is what the picture is about.
//
//   node scripts/render-report-png.mjs [--keep] [--dark]
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const cli = path.join(root, 'dist/cli/main.js');
const keep = process.argv.includes('--keep');
const dark = process.argv.includes('--dark');
const chromium = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'].find((p) => fs.existsSync(p));
if (!chromium) {
  console.error('No Chromium found: apt-get install -y chromium (Debian), then run this again.');
  process.exit(2);
}
if (!fs.existsSync(cli)) {
  console.error(`${cli} is missing: npm run build first.`);
  process.exit(2);
}

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ks-report-png-'));
try {
  fs.cpSync(path.join(root, 'examples/shop'), dir, { recursive: true });
  fs.rmSync(path.join(dir, 'migrations/20240108090000_add_index_on_orders_user_id.js'));
  const env = { ...process.env, NO_COLOR: '1', DATABASE_URL: '' };
  const run = (args) => execFileSync(process.execPath, [cli, '--db', 'embedded:./target', ...args], { cwd: dir, env, stdio: ['ignore', 'pipe', 'inherit'] });
  for (let i = 0; i < 3; i++) run(['up', '--no-check']);
  const html = path.join(dir, 'report.html');
  run(['check', '--max-severity', 'none', '--format', 'html', '--output', html]);
  const out = path.join(root, 'docs/images', dark ? 'report-dark.png' : 'report.png');
  fs.mkdirSync(path.dirname(out), { recursive: true });
  execFileSync(
    chromium,
    [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--hide-scrollbars',
      '--force-device-scale-factor=1',
      ...(dark ? ['--force-dark-mode', '--blink-settings=preferredColorScheme=0'] : []),
      '--window-size=1080,1560',
      `--screenshot=${out}`,
      `file://${html}`,
    ],
    { stdio: ['ignore', 'ignore', 'ignore'] },
  );
  console.log(`${path.relative(root, out)} (${Math.round(fs.statSync(out).size / 1024)} kB)${keep ? `; report: ${html}` : ''}`);
} finally {
  if (!keep) fs.rmSync(dir, { recursive: true, force: true });
}
