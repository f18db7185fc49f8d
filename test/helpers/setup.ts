// vitest sets NODE_ENV=test; knexsafe, like knex, reads it to pick the knexfile environment.
// The tests want knex's default ("development") unless they say otherwise.
delete process.env.NODE_ENV;
