import { severityForTable } from '../engine.js';
import { shortName, tableName } from '../helpers.js';
import { boundCheck, defaultPartitionOf, hasValidatedKeyCheck, partitionKeyColumns } from '../partitions.js';
import type { AnalyzedStatement, Rule } from '../types.js';
import { ident, migrationFile, migrations, sqlName, transactionLines } from '../../codegen/index.js';

/** A constraint name cut to PostgreSQL's 63 bytes. */
function constraintName(text: string): string {
  let name = text;
  while (Buffer.byteLength(name) > 63) name = name.slice(0, -1);
  return name;
}

/**
 * ALTER TABLE … ATTACH PARTITION checks every row of the table being attached against its bound
 * under ACCESS EXCLUSIVE on it, and every row of the parent's DEFAULT partition (ACCESS EXCLUSIVE
 * there too), unless validated CHECK constraints already prove it. Checked on PostgreSQL 15:
 * with `client_min_messages = debug1` it logs `verifying table "…"` for each scan, and “partition
 * constraint … is implied by existing constraints” once a validated CHECK matching the bound exists.
 * The parent itself only takes SHARE UPDATE EXCLUSIVE (PostgreSQL 12+).
 */
export const attachPartitionScan: Rule = {
  meta: {
    id: 'attach-partition-scan',
    category: 'lock',
    severity: 'warning',
    summary: 'ATTACH PARTITION without a validated CHECK matching the bound scans the new partition (and the DEFAULT partition) under ACCESS EXCLUSIVE',
  },
  statement(statement, context) {
    const f = statement.facts;
    if (f.kind !== 'alter-table' || f.objectType !== 'table') return;
    const before = context.migration.schemaBefore;
    const after = context.migration.schemaAfter;
    for (const c of f.commands) {
      if (c.action !== 'attach-partition') continue;
      const parent = tableName(context, f.table);
      const partition = tableName(context, c.partition);
      // The common way to partition a live table renames it and attaches it to a new parent in one
      // migration: what counts is the table under its name before the migration.
      const parentBefore = nameBeforeRenames(statement, context.migration.statements, parent);
      const partitionBefore = nameBeforeRenames(statement, context.migration.statements, partition);
      const key = partitionKeyColumns(after?.tables[parent]?.partitionKey ?? before?.tables[parentBefore]?.partitionKey);
      // A CHECK added and validated earlier in the same migration shows in the schema after it.
      const proven = (now: string, then: string) => hasValidatedKeyCheck(before, then, key) || hasValidatedKeyCheck(after, now, key);
      const scanPartition = context.tableAge(partitionBefore) === 'existing' && !proven(partition, partitionBefore);
      const defaultPartition = c.isDefault || context.tableAge(parentBefore) === 'new' ? undefined : defaultPartitionOf(before, parentBefore);
      const scanDefault = defaultPartition !== undefined && context.tableAge(defaultPartition) === 'existing' && !proven(defaultPartition, defaultPartition);
      if (!scanPartition && !scanDefault) continue;

      const scanned = [...(scanPartition ? [partition] : []), ...(defaultPartition && scanDefault ? [defaultPartition] : [])];
      const bound = after?.tables[partition]?.partitionOf?.bound;
      const check = c.isDefault ? undefined : boundCheck(key, c.bound);
      const partitionCheck = constraintName(`${partition.slice(partition.indexOf('.') + 1)}_partition_bound`);
      const defaultCheck = defaultPartition ? constraintName(`${defaultPartition.slice(defaultPartition.indexOf('.') + 1)}_not_${partition.slice(partition.indexOf('.') + 1)}`) : '';
      const checks: { table: string; name: string; expression: string }[] = check
        ? [
            ...(scanPartition ? [{ table: partition, name: partitionCheck, expression: check }] : []),
            ...(defaultPartition && scanDefault ? [{ table: defaultPartition, name: defaultCheck, expression: `NOT (${check})` }] : []),
          ]
        : [];
      const attach = `ALTER TABLE ${sqlName(parent)} ATTACH PARTITION ${sqlName(partition)} ${bound ?? 'FOR VALUES …'}`;
      const fixCode =
        checks.length > 0 && bound
          ? migrations([
              migrationFile({
                comment: [`Step 1 of 3: CHECK constraints that prove the bound, not yet checked (brief ACCESS EXCLUSIVE, no scan).`],
                up: transactionLines(checks.map((k) => `ALTER TABLE ${sqlName(k.table)} ADD CONSTRAINT ${ident(k.name)} CHECK (${k.expression}) NOT VALID`)),
                down: transactionLines(checks.map((k) => `ALTER TABLE ${sqlName(k.table)} DROP CONSTRAINT IF EXISTS ${ident(k.name)}`)),
                noTransaction: 'Its own short transaction with a lock timeout (above), never shared with step 2.',
              }),
              migrationFile({
                comment: [`Step 2 of 3: check the rows under SHARE UPDATE EXCLUSIVE: reads and writes go on.`],
                up: transactionLines(checks.map((k) => `ALTER TABLE ${sqlName(k.table)} VALIDATE CONSTRAINT ${ident(k.name)}`)),
                down: [
                  '  // Back to NOT VALID: drop and re-add the constraints without checking the rows.',
                  ...transactionLines(
                    checks.flatMap((k) => [
                      `ALTER TABLE ${sqlName(k.table)} DROP CONSTRAINT IF EXISTS ${ident(k.name)}`,
                      `ALTER TABLE ${sqlName(k.table)} ADD CONSTRAINT ${ident(k.name)} CHECK (${k.expression}) NOT VALID`,
                    ]),
                  ),
                ],
                noTransaction: 'Its own transaction: never the one that added the constraints.',
              }),
              migrationFile({
                comment: [`Step 3 of 3: attach (the validated CHECKs prove the bound: no scan), then drop the CHECKs the partition constraint now implies.`],
                up: transactionLines([attach, ...checks.map((k) => `ALTER TABLE ${sqlName(k.table)} DROP CONSTRAINT ${ident(k.name)}`)]),
                down: transactionLines([
                  `ALTER TABLE ${sqlName(parent)} DETACH PARTITION ${sqlName(partition)}`,
                  ...checks.map((k) => `ALTER TABLE ${sqlName(k.table)} ADD CONSTRAINT ${ident(k.name)} CHECK (${k.expression})`),
                ]),
                noTransaction: 'Its own short transaction with a lock timeout (above).',
              }),
            ])
          : undefined;
      const renamed = scanPartition && partitionBefore !== partition ? ` (${shortName(partitionBefore)} before this migration renamed it, with its rows)` : '';
      const defaultText =
        defaultPartition && scanDefault
          ? ` It also scans the DEFAULT partition ${shortName(defaultPartition)} under ACCESS EXCLUSIVE, to prove none of its rows belongs in the new partition: queries on ${shortName(parent)} that read or write rows of the default partition wait meanwhile.`
          : '';
      context.report({
        statement,
        table: scanned[0]!,
        message: `ATTACH PARTITION ${shortName(partition)} scans ${scanned.map(shortName).join(' and ')} under ACCESS EXCLUSIVE: no validated CHECK proves the bound`,
        why: `${scanPartition ? `ATTACH PARTITION reads every row of ${shortName(partition)}${renamed} to check it against the bound${bound ? ` (${bound})` : ''}, holding ACCESS EXCLUSIVE on it: its reads and writes wait for the whole scan.` : `${shortName(partition)} is new, but the attach still checks the rows of another partition.`}${defaultText} The parent takes SHARE UPDATE EXCLUSIVE (PostgreSQL 12+). A validated CHECK constraint matching the bound lets PostgreSQL skip the scan.`,
        lock: { mode: 'AccessExclusiveLock', relation: scanned[0]! },
        severity: severityForTable(context, scanned[0] === partition ? partitionBefore : scanned[0]!, 'warning'),
        fix: {
          description: check
            ? `Add a CHECK constraint matching the bound NOT VALID, validate it in a migration of its own (SHARE UPDATE EXCLUSIVE: reads and writes go on)${scanDefault ? ', with the opposite CHECK on the DEFAULT partition' : ''}, then attach — PostgreSQL sees the bound is implied and skips the scan — and drop the CHECKs. Build the parent’s indexes on the partition CONCURRENTLY first too: ATTACH builds missing ones under its lock.`
            : `Add a CHECK constraint on ${shortName(partition)} that implies the partition bound (\`SELECT pg_get_partition_constraintdef('${sqlName(partition)}'::regclass)\` prints it once attached, on a copy), NOT VALID, validate it in a migration of its own, then attach and drop the CHECK.`,
          code:
            fixCode ??
            `// Write the CHECK by hand: knexsafe builds it for single-column RANGE and LIST keys only.\n// 1. ALTER TABLE ${sqlName(partition)} ADD CONSTRAINT ${ident(partitionCheck)} CHECK (…) NOT VALID;\n// 2. ALTER TABLE ${sqlName(partition)} VALIDATE CONSTRAINT ${ident(partitionCheck)};  (its own migration)\n// 3. ${attach}; ALTER TABLE ${sqlName(partition)} DROP CONSTRAINT ${ident(partitionCheck)};`,
        },
      });
    }
  },
};

/** `table` (qualified) under the name it had before the migration's earlier ALTER TABLE … RENAME TO statements. */
function nameBeforeRenames(statement: AnalyzedStatement, statements: readonly AnalyzedStatement[], table: string): string {
  const dot = table.indexOf('.');
  const schema = table.slice(0, dot);
  let name = table.slice(dot + 1);
  for (const s of [...statements].reverse()) {
    if (s.index >= statement.index) continue;
    const f = s.facts;
    if (f.kind === 'rename' && f.objectType === 'table' && f.to === name && (f.target.schema ?? schema) === schema) name = f.from;
  }
  return `${schema}.${name}`;
}
