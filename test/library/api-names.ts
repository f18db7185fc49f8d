import path from 'node:path';
import ts from 'typescript';

export interface ApiNames {
  values: string[];
  types: string[];
  /** Exported functions whose declaration has no JSDoc `@example`. */
  withoutExample: string[];
}

/** The names a module exports, as the TypeScript compiler sees them: runtime values and type-only names. */
export function apiNames(entry: string): ApiNames {
  const program = ts.createProgram([entry], {
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    target: ts.ScriptTarget.ES2022,
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    types: [],
  });
  const checker = program.getTypeChecker();
  const source = program.getSourceFile(path.resolve(entry));
  if (!source) throw new Error(`${entry} is not in the program`);
  const values: string[] = [];
  const types: string[] = [];
  const withoutExample: string[] = [];
  for (const symbol of checker.getExportsOfModule(checker.getSymbolAtLocation(source)!)) {
    const target = symbol.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(symbol) : symbol;
    const typeOnly = !(target.flags & ts.SymbolFlags.Value) || (symbol.declarations ?? []).some((d) => ts.isExportSpecifier(d) && (d.isTypeOnly || d.parent.parent.isTypeOnly));
    (typeOnly ? types : values).push(symbol.name);
    if (!typeOnly && target.flags & ts.SymbolFlags.Function && !target.getJsDocTags(checker).some((t) => t.name === 'example')) withoutExample.push(symbol.name);
  }
  return { values: values.sort(), types: types.sort(), withoutExample: withoutExample.sort() };
}
