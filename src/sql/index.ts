export { parseSql, parseSqlSync, ensureParser, statementKind, SqlParseError, type ParsedStatement } from './parse.js';
export { splitStatements } from './split.js';
export { formatName, sameName, type QualifiedName } from './ast.js';
export { parseTypeText, typeChange, typeRefFromTypeName, sameType, isBuiltinType, type TypeRef, type TypeChange } from './datatypes.js';
export { expressionFacts, expressionVolatility, expressionText, functionVolatility, type ExpressionFacts, type Volatility, type FunctionVolatilityLookup } from './expr.js';
export * from './facts.js';
export * from './locks.js';
export * from './rewrite.js';
