// knex ships no types for its dialect classes; these are the parts knexsafe extends.
declare module 'knex/lib/dialects/postgres/index.js' {
  import type { Knex } from 'knex';
  class Client_PG {
    constructor(config: Knex.Config);
    config: Knex.Config & Record<string, unknown>;
    dialect: string;
    driverName: string;
    _query(connection: unknown, obj: KnexQueryObject): Promise<KnexQueryObject>;
    processResponse(obj: KnexQueryObject, runner: unknown): unknown;
    queryBuilder(): unknown;
    schemaBuilder(): unknown;
    raw(...args: unknown[]): unknown;
    runner(builder: unknown): { query(obj: KnexQueryObject): Promise<unknown> };
    customWrapIdentifier(value: string, origImpl: (value: string) => string, queryContext: unknown): string;
    postProcessResponse(response: unknown, queryContext: unknown): unknown;
    _acquireOnlyConnection(): Promise<unknown>;
    acquireRawConnection(): Promise<unknown>;
  }
  export interface KnexQueryObject {
    sql: string;
    bindings?: unknown[];
    method?: string;
    options?: Record<string, unknown>;
    response?: unknown;
    [key: string]: unknown;
  }
  export default Client_PG;
}

declare module 'knex-pglite' {
  import Client_PG from 'knex/lib/dialects/postgres/index.js';
  export default class ClientPGLite extends Client_PG {}
}
