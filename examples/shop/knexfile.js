// The example shop's knexfile, in the shape `knexsafe init` writes.
// `knexsafe check` and `knexsafe verify` need no database at all: they run on an embedded one.
module.exports = {
  development: {
    client: 'pg',
    // Unset: check and verify run on an embedded database; history commands need DATABASE_URL
    // (or --db embedded:<dir>).
    connection: process.env.DATABASE_URL,
    migrations: {
      directory: './migrations',
      tableName: 'knex_migrations',
    },
    seeds: {
      directory: './seeds',
    },
  },

  production: {
    client: 'pg',
    connection: process.env.DATABASE_URL,
    migrations: {
      directory: './migrations',
      tableName: 'knex_migrations',
    },
    pool: { min: 2, max: 10 },
  },
};
