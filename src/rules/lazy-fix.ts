/**
 * A fix whose code is written when something reads it: `check` on a long SQL file reports hundreds
 * of findings whose fix code only `--json`, `--verbose` and `fix` show, and writing it was most of
 * what a finding cost. The code is an ordinary enumerable property as soon as it is read
 * (JSON.stringify, spreading, structuredClone all see it, after the fields, as an eager fix's
 * `{ ...fields, code }` would have it). `write` must depend only on what it closes over, never on
 * a rule context's state at report time.
 */
export function lazyFix<T extends object>(fields: T, write: () => string): T & { code: string } {
  const fix = { ...fields } as T & { code: string };
  let code: string | undefined;
  const settle = (target: object, value: string) => Object.defineProperty(target, 'code', { value, enumerable: true, configurable: true, writable: true });
  Object.defineProperty(fix, 'code', {
    enumerable: true,
    configurable: true,
    // `this`: a copy made with the getter (Object.getOwnPropertyDescriptors) settles on itself too.
    get(this: object) {
      code ??= write();
      settle(this, code);
      return code;
    },
    set(this: object, value: string) {
      settle(this, value);
    },
  });
  return fix;
}
