import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { verify, type VerifyCommandResult } from '../../src/verify/run.js';
import { REPO_ROOT } from '../helpers/cli.js';
import { describeServer, SERVER_URL } from '../helpers/pg.js';

const BROKEN = path.join(REPO_ROOT, 'test/fixtures/verify-broken');
const SHOP = path.join(REPO_ROOT, 'examples/shop');

function verdict(report: VerifyCommandResult, name: string) {
  const v = report.verdicts.find((x) => x.name.includes(name));
  if (!v) throw new Error(`no verdict for ${name}`);
  return {
    status: v.status,
    rules: v.findings.map((f) => f.rule),
    diff: v.diff.map((c) => c.message),
    loss: v.dataLoss.map((l) => l.message),
  };
}

function verifySuite(label: string, describeFn: typeof describe, shadowUrl: string | undefined) {
  describeFn(`verify on the ${label} shadow`, () => {
    let broken: VerifyCommandResult;
    let shop: VerifyCommandResult;
    beforeAll(async () => {
      broken = await verify({ cwd: BROKEN, ...(shadowUrl ? { shadowUrl } : {}) });
      shop = await verify({ cwd: SHOP, ...(shadowUrl ? { shadowUrl } : {}) });
    });

    it('passes on examples/shop', () => {
      expect(shop.verdicts.map((v) => [v.name, v.status])).toEqual(shop.verdicts.map((v) => [v.name, 'reversible']));
      expect(shop.verdicts).toHaveLength(9);
      expect(shop.ok).toBe(true);
      expect(shop.probe.filled).toEqual(expect.arrayContaining(['public.users', 'public.products', 'public.orders', 'public.order_items']));
    });

    it('a down that forgets an index', () => {
      expect(verdict(broken, 'down_forgets_index')).toMatchObject({ status: 'not-reversible', rules: ['down-missing', 'up-not-rerunnable'], diff: ['index a_index_email_index: left behind'] });
    });

    it('a down that forgets a column', () => {
      expect(verdict(broken, 'down_forgets_column')).toMatchObject({ rules: ['down-not-inverse', 'up-not-rerunnable'], diff: ['column b_column.fax: left behind'] });
    });

    it('a down that reverts to the wrong type', () => {
      expect(verdict(broken, 'down_wrong_type')).toMatchObject({ rules: ['down-not-inverse'], diff: ['c_type.price: type integer → bigint'] });
    });

    it('a native enum left behind by dropTable', () => {
      expect(verdict(broken, 'enum_left_behind')).toMatchObject({ rules: ['down-not-inverse', 'up-not-rerunnable'], diff: ['type shipment_state: left behind'] });
    });

    it('an empty down is down-missing; a missing down is refused as knex refuses it', () => {
      expect(verdict(broken, 'empty_down')).toMatchObject({ rules: ['down-missing', 'up-not-rerunnable'], diff: ['column e_empty.vip: left behind'] });
      // knex: "Invalid migration: … must have both an up and down function", and nothing of the batch runs.
      expect(verdict(broken, 'no_down')).toMatchObject({ status: 'failed', rules: ['up-failed'], diff: [] });
      const refused = broken.verdicts.find((v) => v.name.includes('no_down'))!.findings[0]!;
      expect(refused.message).toContain('Invalid migration: 20240109000000_no_down.js must have both an up and down function');
    });

    it('a down that drops and re-creates a table holding data', () => {
      expect(verdict(broken, 'down_recreates_table')).toEqual({ status: 'not-reversible', rules: ['down-destroys-data'], diff: [], loss: ['f_recreate: 3 of 3 row(s) gone'] });
    });

    it('an up that rewrites values its down does not restore', () => {
      expect(verdict(broken, 'down_loses_values')).toMatchObject({ rules: ['down-destroys-data'], loss: ['g_values: values changed in price'] });
    });

    it('keeps going after failures and still proves the good ones', () => {
      expect(verdict(broken, 'create_tables').status).toBe('reversible');
      expect(verdict(broken, '20240110000000_reversible').status).toBe('reversible');
      expect(broken.ok).toBe(false);
    });
  });
}

verifySuite('embedded', describe, undefined);
verifySuite('server', describeServer, SERVER_URL);

describe('verify selection', () => {
  it('--from/--to verify a range after replaying what comes before', async () => {
    const report = await verify({ cwd: BROKEN, from: '20240104000000_down_wrong_type', to: '20240104000000_down_wrong_type.js' });
    expect(report.verdicts.map((v) => v.name)).toEqual(['20240104000000_down_wrong_type.js']);
    expect(report.verdicts[0]?.diff.map((c) => c.message)).toEqual(['c_type.price: type integer → bigint']);
  });
});
