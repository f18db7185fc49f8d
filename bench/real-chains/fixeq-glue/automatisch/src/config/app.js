// Stub of automatisch's src/config/app.js for the migrations: self-hosted (not cloud).
export default { isCloud: false, postgresSchema: 'public' };
