import fs from 'node:fs';
import path from 'node:path';
import { describe } from 'vitest';
import { historySuite } from './history-suite.js';

// The server half is in history-server.test.ts: separate files run in parallel.
historySuite('embedded PostgreSQL', describe, async () => {
  const dataDir = fs.mkdtempSync(path.join(process.env.TMPDIR ?? '/tmp', 'ks-embedded-'));
  return { args: ['--db', `embedded:${dataDir}`], cleanup: async () => fs.rmSync(dataDir, { recursive: true, force: true }) };
});
