import { describe, expect, it } from 'vitest';
import { connectionSettings, parseStartupOptions, shadowSessionOf } from '../../src/shadow/session-settings.js';

describe("the target connection's session settings, for shadows", () => {
  it('reads -c and -- switches as PostgreSQL does: escaped spaces, dashes in names', () => {
    expect(parseStartupOptions('-c search_path=app,public  -cstatement_timeout=5s --lock-timeout=2s -c application_name=my\\ app -B 100')).toEqual([
      { name: 'search_path', value: 'app,public' },
      { name: 'statement_timeout', value: '5s' },
      { name: 'lock_timeout', value: '2s' },
      { name: 'application_name', value: 'my app' },
    ]);
  });

  it('takes them from a URL, a node-pg object and its connectionString; never host, user or password', () => {
    expect(connectionSettings('postgres://u:secret@db.example.com/app?options=-c%20search_path%3Dapp&statement_timeout=3000')).toEqual([
      { name: 'search_path', value: 'app', from: 'connection.options' },
      { name: 'statement_timeout', value: '3000', from: 'connection.statement_timeout' },
    ]);
    expect(connectionSettings({ host: 'db', password: 'secret', options: '-c work_mem=64MB', lock_timeout: 1500, idle_in_transaction_session_timeout: 60000 })).toEqual([
      { name: 'work_mem', value: '64MB', from: 'connection.options' },
      { name: 'lock_timeout', value: '1500', from: 'connection.lock_timeout' },
      { name: 'idle_in_transaction_session_timeout', value: '60000', from: 'connection.idle_in_transaction_session_timeout' },
    ]);
    expect(connectionSettings(() => ({ options: '-c work_mem=1MB' }))).toEqual([]);
  });

  it('takes no PG* variable: PGOPTIONS is for the target session, not for the shadow', () => {
    const saved = process.env.PGOPTIONS;
    process.env.PGOPTIONS = '-c search_path=nowhere';
    try {
      expect(connectionSettings('postgres://localhost/app')).toEqual([]);
    } finally {
      if (saved === undefined) delete process.env.PGOPTIONS;
      else process.env.PGOPTIONS = saved;
    }
  });

  it('carries the knex options that shape SQL and results, not those about connecting or logging', () => {
    const wrapIdentifier = (v: string, orig: (v: string) => string) => orig(v);
    const afterCreate = (c: unknown, done: (e: Error | null, c: unknown) => void) => done(null, c);
    const spec = shadowSessionOf({
      knexOptions: { wrapIdentifier, useNullAsDefault: true, debug: true, log: {}, pool: { max: 20, afterCreate }, acquireConnectionTimeout: 1, searchPath: ['app'] },
      target: { kind: 'none' },
    });
    expect(spec.knexOptions).toEqual({ wrapIdentifier, useNullAsDefault: true });
    expect(spec.afterCreate).toBe(afterCreate);
    expect(spec.settings).toEqual([]);
  });
});
