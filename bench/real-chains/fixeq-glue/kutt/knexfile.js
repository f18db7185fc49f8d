// kutt's knexfile, minus its env loading: PostgreSQL, migrations in server/migrations.
module.exports = {
  client: 'pg',
  connection: process.env.DATABASE_URL,
  useNullAsDefault: true,
  migrations: { tableName: 'knex_migrations', directory: 'server/migrations', disableMigrationsListValidation: true },
};
