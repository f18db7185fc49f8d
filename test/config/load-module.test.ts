import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { importUserModule } from '../../src/config/load-module.js';
import { makeProject } from '../helpers/cli.js';

const load = async (file: string) => (await importUserModule(file, 'migration')).exports;

describe('importUserModule', () => {
  it('loads CommonJS with Node and evaluates the file afresh on every load', async () => {
    const dir = makeProject({ 'm.js': `exports.value = 1;\nexports.where = new Error().stack.split('\\n')[1];` });
    const file = path.join(dir, 'm.js');
    const first = await load(file);
    expect(first.value).toBe(1);
    // Node's own loader: the stack names the file itself, line 2.
    expect(first.where).toContain(`${file}:2:`);
    fs.writeFileSync(file, `exports.value = 2;`);
    expect((await load(file)).value).toBe(2);
  });

  it('falls back to jiti for a .js file Node cannot load as CommonJS: ESM syntax, or a require of a .ts file', async () => {
    const dir = makeProject({
      'esm-syntax.js': `export const up = 'esm';`,
      'helper.ts': `export const shout = (s: string): string => s.toUpperCase();`,
      'uses-ts.js': `const { shout } = require('./helper');\nexports.value = shout('ts');`,
    });
    expect((await load(path.join(dir, 'esm-syntax.js'))).up).toBe('esm');
    expect((await load(path.join(dir, 'uses-ts.js'))).value).toBe('TS');
  });

  it('loads .js in a "type": "module" package, .mjs and .ts as ES modules', async () => {
    const dir = makeProject({
      'package.json': `{ "type": "module" }`,
      'a.js': `export const kind = 'esm-js';`,
      'b.mjs': `export default { kind: 'mjs' };`,
      'c.ts': `export const kind: string = 'ts';`,
    });
    expect((await load(path.join(dir, 'a.js'))).kind).toBe('esm-js');
    expect((await load(path.join(dir, 'b.mjs'))).default).toEqual({ kind: 'mjs' });
    expect((await load(path.join(dir, 'c.ts'))).kind).toBe('ts');
  });

  it('reports a runtime failure of a CommonJS file as it is, without loading it twice', async () => {
    const dir = makeProject({ 'boom.js': `globalThis.__knexsafeLoads = (globalThis.__knexsafeLoads ?? 0) + 1;\nthrow new Error('boom at load');` });
    await expect(load(path.join(dir, 'boom.js'))).rejects.toThrow(/boom at load/);
    expect((globalThis as { __knexsafeLoads?: number }).__knexsafeLoads).toBe(1);
  });
});
