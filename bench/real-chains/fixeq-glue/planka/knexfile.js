// planka's knexfile is server/db/knexfile.js (DATABASE_URL, tableName 'migration', wrapIdentifier: lodash snakeCase); the project dir is server/.
module.exports = require('./db/knexfile.js');
