// The bench's project: the same for `knex migrate:latest` (one database per DATABASE_URL) and for
// `knexsafe latest --targets` (the targets file lists the databases).
module.exports = {
  client: 'pg',
  connection: process.env.DATABASE_URL,
  migrations: { directory: './migrations' },
};
