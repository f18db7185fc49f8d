// Requarks/wiki's server/db/migrator-source.js for PostgreSQL: files of server/db/migrations sorted by
// version (semver.compare, here numeric x.y.z); a fix's extra part "<version>_fixN.js" sorts right after
// its version (tie broken by name).
const path = require('node:path');
const fs = require('node:fs');
global.WIKI = { config: { db: { type: 'postgres' } }, SERVERPATH: path.join(__dirname, 'server') };
const base = path.join(__dirname, 'server/db/migrations');
const version = (f) => f.replace(/\.js$/, '').split('_')[0].split('.').map(Number);
const compare = (a, b) => {
  const x = version(a),
    y = version(b);
  for (let i = 0; i < 3; i++) if (x[i] !== y[i]) return x[i] - y[i];
  return a < b ? -1 : a > b ? 1 : 0;
};
module.exports = {
  client: 'pg',
  connection: process.env.DATABASE_URL,
  migrations: {
    migrationSource: {
      async getMigrations() {
        return fs
          .readdirSync(base)
          .filter((f) => f.endsWith('.js'))
          .sort(compare)
          .map((f) => ({ file: f.replace('.js', ''), directory: base }));
      },
      getMigrationName(m) {
        return m.file.indexOf('.js') >= 0 ? m.file : `${m.file}.js`;
      },
      getMigration(m) {
        return require(path.join(base, m.file));
      },
    },
  },
};
