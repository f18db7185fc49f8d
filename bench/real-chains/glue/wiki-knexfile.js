// Wiki.js has no knexfile: server/core/db.js calls knex.migrate.latest({ tableName: 'migrations', migrationSource })
// with server/db/migrator-source.js (files sorted by semver) and a WIKI global. This knexfile does the same
// for the knex CLI (copied into the extracted chain by compare.mjs).
global.WIKI = { SERVERPATH: `${__dirname}/server`, ROOTPATH: __dirname, config: { db: { type: 'postgres' } } };
module.exports = {
  client: 'pg',
  connection: process.env.DATABASE_URL,
  migrations: { tableName: 'migrations', migrationSource: require('./server/db/migrator-source') },
};
