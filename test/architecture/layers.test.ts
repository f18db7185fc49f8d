import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../helpers/cli.js';

/**
 * The layers of src/, lowest first (docs/ARCHITECTURE.md draws them). A module may import its own
 * layer and the layers below it, never one above. An entry is a folder or file under src/; a file
 * belongs to its longest matching entry, so `codegen/sql.ts` (SQL spelling: quoting, literals) sits
 * low while the rest of codegen/ sits above schema/.
 */
const LAYERS: readonly (readonly string[])[] = [
  ['errors.ts', 'util', 'types'],
  ['sql', 'codegen/sql.ts', 'codegen/keywords.ts'],
  ['config'],
  // db opens connections with the shadow's session settings; a shadow is a database db opens.
  ['db', 'shadow'],
  ['migrations', 'seeds'],
  ['capture'],
  ['codegen', 'schema'],
  ['cache', 'rules'],
  ['check'],
  ['verify', 'make', 'doctor', 'backup', 'backfill', 'guard', 'squash', 'fix', 'init'],
  ['report'],
  ['fleet', 'lsp', 'mcp', 'testing'],
  ['cli'],
  ['index.ts'],
];

interface Edge {
  from: string;
  to: string;
  /** `import type` / `export type`: erased at run time. */
  typeOnly: boolean;
}

const IMPORT = /^\s*(?:import|export)\s+(type\s+)?[^'";]*?from\s+['"](\.[^'"]+)['"]|^\s*import\s+['"](\.[^'"]+)['"]|import\s*\(\s*['"](\.[^'"]+)['"]\s*\)/gm;

/** Relative imports between files under `root`, as paths relative to `root`. */
function importEdges(root: string): Edge[] {
  const edges: Edge[] = [];
  const visit = (dir: string): void => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const file = path.join(dir, entry.name);
      if (entry.isDirectory()) visit(file);
      else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) {
        const text = fs.readFileSync(file, 'utf8');
        for (const m of text.matchAll(IMPORT)) {
          const spec = m[2] ?? m[3] ?? m[4]!;
          let target = path.resolve(path.dirname(file), spec).replace(/\.js$/, '.ts');
          if (fs.existsSync(target) && fs.statSync(target).isDirectory()) target = path.join(target, 'index.ts');
          edges.push({ from: path.relative(root, file), to: path.relative(root, target), typeOnly: m[1] !== undefined });
        }
      }
    }
  };
  visit(root);
  return edges;
}

function layerOf(file: string, layers: readonly (readonly string[])[]): number | undefined {
  let best: { layer: number; length: number } | undefined;
  layers.forEach((entries, layer) => {
    for (const entry of entries) {
      if ((file === entry || file.startsWith(`${entry}/`)) && (!best || entry.length > best.length)) best = { layer, length: entry.length };
    }
  });
  return best?.layer;
}

/** Imports that go up the layer list, and files no layer holds. */
function layerViolations(edges: readonly Edge[], layers: readonly (readonly string[])[]): string[] {
  const out: string[] = [];
  for (const { from, to } of edges) {
    const a = layerOf(from, layers);
    const b = layerOf(to, layers);
    if (a === undefined) out.push(`${from}: in no layer`);
    else if (b === undefined) out.push(`${to}: in no layer`);
    else if (b > a) out.push(`${from} imports ${to}, a layer above it`);
  }
  return [...new Set(out)].sort();
}

/** Import cycles between files (type-only imports included: they tie the modules' meaning together). */
function importCycles(edges: readonly Edge[]): string[][] {
  const next = new Map<string, string[]>();
  for (const { from, to } of edges) next.set(from, [...(next.get(from) ?? []), to]);
  // Tarjan's strongly connected components; a component of two or more files is a cycle.
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const cycles: string[][] = [];
  const connect = (v: string): void => {
    index.set(v, index.size);
    low.set(v, index.get(v)!);
    stack.push(v);
    onStack.add(v);
    for (const w of next.get(v) ?? []) {
      if (!index.has(w)) {
        connect(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1) cycles.push(component.sort());
    }
  };
  for (const v of next.keys()) if (!index.has(v)) connect(v);
  return cycles;
}

describe('architecture', () => {
  const edges = importEdges(path.join(REPO_ROOT, 'src'));

  it('reads the imports of src/', () => {
    expect(edges.length).toBeGreaterThan(500);
    expect(edges).toContainEqual({ from: 'check/run.ts', to: 'migrations/selection.ts', typeOnly: false });
  });

  it('no module imports a layer above its own', () => {
    expect(layerViolations(edges, LAYERS)).toEqual([]);
  });

  it('no import cycles between files', () => {
    expect(importCycles(edges)).toEqual([]);
  });

  it('the checks see an upward import and a cycle', () => {
    const upward = [{ from: 'sql/facts.ts', to: 'cli/output.ts', typeOnly: true }];
    expect(layerViolations(upward, LAYERS)).toEqual(['sql/facts.ts imports cli/output.ts, a layer above it']);
    expect(layerViolations([{ from: 'nowhere/x.ts', to: 'util/paths.ts', typeOnly: false }], LAYERS)).toEqual(['nowhere/x.ts: in no layer']);
    const cycle = [
      { from: 'sql/facts.ts', to: 'sql/locks.ts', typeOnly: false },
      { from: 'sql/locks.ts', to: 'sql/facts.ts', typeOnly: true },
    ];
    expect(importCycles(cycle)).toEqual([['sql/facts.ts', 'sql/locks.ts']]);
  });
});
