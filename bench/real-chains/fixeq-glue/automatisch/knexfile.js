// automatisch's packages/backend/knexfile.js reduced to what changes SQL: pg, searchPath public, .js migrations.
import path, { join } from 'node:path';
import { fileURLToPath } from 'node:url';
const __dirname = path.dirname(fileURLToPath(import.meta.url));
export default {
  client: 'pg',
  connection: process.env.DATABASE_URL,
  searchPath: ['public'],
  migrations: { directory: join(__dirname, '/src/db/migrations'), extension: 'js', loadExtensions: ['.js'] },
};
