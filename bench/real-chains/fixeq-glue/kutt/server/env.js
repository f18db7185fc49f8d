// Stub of kutt's server/env.js for the migrations: PostgreSQL.
module.exports = { DB_CLIENT: 'pg', ADMIN_EMAILS: undefined };
