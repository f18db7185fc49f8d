import { openEmbedded } from '../../src/db/embedded.js';

/** Builds the cached PGlite template once, so parallel test files do not all pay for initdb. */
export default async function setup(): Promise<void> {
  const db = await openEmbedded();
  await db.close();
}
