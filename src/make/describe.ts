/** One line saying what `knexsafe make` understood from a name, for people. */
export function describeIntent(intent: { kind: string; [key: string]: unknown }): string {
  const s = (key: string) => String(intent[key] ?? '');
  const list = (key: string) =>
    ((intent[key] as unknown[] | undefined) ?? [])
      .map((v) => (typeof v === 'object' && v !== null && 'name' in v ? `${(v as { name: string }).name}${'type' in v ? ` ${(v as { type: string }).type}` : ''}` : String(v)))
      .join(', ');
  const simple = intent.simple === true ? ' (simple form)' : '';
  switch (intent.kind) {
    case 'create-table':
      return `create ${list('tables')}`;
    case 'add-columns':
      return `add ${list('columns')} to ${s('table')}`;
    case 'drop-columns':
      return `drop ${list('columns')} from ${s('table')}${intent.backupTable ? `, values kept in ${s('backupTable')} for down` : ''}`;
    case 'add-index':
      return `index ${s('index')} on ${s('table')} (${list('columns')})${simple || ', built concurrently'}`;
    case 'add-unique':
      return `unique constraint ${s('constraint')} on ${s('table')} (${list('columns')})${simple || ', index built concurrently first'}`;
    case 'add-foreign-key': {
      const ref = intent.references as { table: string; columns: string[] } | undefined;
      return `foreign key ${s('constraint')}: ${s('table')} (${list('columns')}) → ${ref?.table} (${ref?.columns.join(', ')})${simple || ', NOT VALID then validated'}`;
    }
    case 'rename-column':
      return `rename ${s('table')}.${s('from')} to ${s('to')}`;
    case 'rename-table':
      return `rename table ${s('from')} to ${s('to')}`;
    case 'change-type':
      return `change ${s('table')}.${s('column')} from ${s('from')} to ${s('to')}${intent.rewrites ? ' (rewrites the table)' : ''}`;
    case 'set-not-null':
      return `set ${s('table')}.${s('column')} NOT NULL${simple || ' via a CHECK NOT VALID, then VALIDATE'}`;
    case 'drop-not-null':
      return `make ${s('table')}.${s('column')} nullable`;
    case 'backfill':
      return `backfill ${s('table')}.${s('column')}${simple || ' in batches'}`;
    case 'create-enum':
      return `create enum type ${s('type')} (${list('values')})`;
    case 'add-enum-column':
      return `add ${s('table')}.${s('column')} of a new enum type ${s('type')} (${list('values')})`;
    case 'add-enum-value':
      return `add the value ${s('value')} to the enum ${s('type')}`;
    default:
      return intent.kind;
  }
}
