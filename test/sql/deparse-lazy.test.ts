import { createRequire } from 'node:module';
import { beforeAll, describe, expect, it } from 'vitest';
import { expressionText } from '../../src/sql/expr.js';
import { ensureParser, parseSqlSync } from '../../src/sql/parse.js';

const require = createRequire(import.meta.url);

describe('expressionText', () => {
  beforeAll(() => ensureParser());

  it('prints an integer constant as pgsql-deparser does, without it', () => {
    const { deparseSync } = require('pgsql-deparser') as typeof import('pgsql-deparser');
    for (const value of ['0', '1', '-5', '42', '2147483647', '-2147483648', '2147483648', '1.5', "'x'", 'NULL', 'now()', '(1 + 2)']) {
      const [stmt] = parseSqlSync(`ALTER TABLE t ALTER COLUMN c SET DEFAULT ${value}`);
      const def = (stmt!.ast as { AlterTableStmt: { cmds: { AlterTableCmd: { def: never } }[] } }).AlterTableStmt.cmds[0]!.AlterTableCmd.def;
      expect(expressionText(def), value).toBe(deparseSync(def, { pretty: false }).trim());
    }
  });
});
