import type { Intent } from './grammar.js';
import { INTENT_GENERATORS, type IntentGenerator } from './intents/index.js';
import { Writer, type GenerateOptions, type Generated } from './intents/writer.js';
import type { SchemaView } from './schema-lookup.js';

// make: each intent writes its files in make/intents/<intent>.ts; this module picks the generator.

export type { GenerateOptions, Generated, PlannedFile } from './intents/writer.js';

/** The migration files for an intent. */
export function generate(intent: Intent, schema: SchemaView, options: GenerateOptions = {}): Generated {
  const w = new Writer(schema, options);
  // The registry's type ties each kind to its generator; indexing it by a union loses that tie.
  const files = (INTENT_GENERATORS[intent.kind] as IntentGenerator)(w, intent as never);
  return { files, warnings: w.warnings, details: w.details };
}
