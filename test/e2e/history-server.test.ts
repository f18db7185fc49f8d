import { createTempDatabase, describeServer, sqlOn, type TempDatabase } from '../helpers/pg.js';
import { historySuite } from './history-suite.js';

let serverDb: TempDatabase | undefined;
historySuite('the PostgreSQL server', describeServer, async () => {
  serverDb = await createTempDatabase();
  const url = serverDb.url;
  return { args: ['--connection', url], query: (sql) => sqlOn(url, sql), cleanup: () => serverDb!.drop() };
});
