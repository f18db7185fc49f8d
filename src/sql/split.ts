import { parseSql } from './parse.js';

/** Splits a SQL text into its statements with the real parser (strings, dollar quotes and comments included). */
export async function splitStatements(sql: string): Promise<string[]> {
  try {
    return (await parseSql(sql)).map((s) => s.sql);
  } catch {
    // Unparseable text goes to the server whole: its error message is the one the user needs.
    return [sql];
  }
}
