// blurts-server's knexfile (src/db/knexfile.ts) reduced to what changes SQL: client postgresql, default migrations dir.
module.exports = { client: 'postgresql', connection: process.env.DATABASE_URL, migrations: { directory: 'migrations' } };
