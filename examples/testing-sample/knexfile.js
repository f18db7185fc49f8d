// checkMigrations() and verifyMigrations() run on an embedded shadow database: no connection needed.
module.exports = {
  client: 'pg',
  connection: process.env.DATABASE_URL,
  migrations: { directory: './migrations' },
};
