import fs from 'node:fs';
import path from 'node:path';

/** Whether `.js` files in `dir` are ES modules: the nearest package.json decides, as in Node. */
export function jsIsEsm(dir: string): boolean {
  let current = path.resolve(dir);
  for (;;) {
    const pkg = path.join(current, 'package.json');
    if (fs.existsSync(pkg)) {
      try {
        return (JSON.parse(fs.readFileSync(pkg, 'utf8')) as { type?: string }).type === 'module';
      } catch {
        return false;
      }
    }
    const parent = path.dirname(current);
    if (parent === current) return false;
    current = parent;
  }
}
