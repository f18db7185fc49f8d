import { usage, type Writer } from './writer.js';

// The values of a new enum, from --values.

export function enumValues(w: Writer, what: string): string[] {
  const values = w.options.values;
  if (!values || values.length === 0) throw usage(`${what} needs its values: pass --values a,b,c.`);
  if (new Set(values).size !== values.length) throw usage(`--values repeats a value: ${values.join(', ')}.`);
  return values;
}
