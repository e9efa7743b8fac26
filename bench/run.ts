/**
 * `npm run bench -- NAME [args]` (node --import tsx bench/run.ts NAME [args]): imports
 * ./NAME.ts and calls its default export with the remaining arguments. Benchmarks print
 * figures; they assert nothing.
 */
import { readdirSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { join } from 'node:path';

const here = fileURLToPath(new URL('.', import.meta.url));
const names = readdirSync(here)
  .filter((f) => f.endsWith('.ts') && f !== 'run.ts' && f !== 'util.ts' && !f.endsWith('.d.ts'))
  .map((f) => f.slice(0, -3))
  .sort();

const [name, ...args] = process.argv.slice(2);
if (!name || !names.includes(name)) {
  console.error(`${name ? `unknown benchmark "${name}"` : 'no benchmark named'}; available: ${names.join(', ') || '(none)'}`);
  console.error('usage: npm run bench -- NAME [args]');
  process.exit(2);
}
const mod = (await import(pathToFileURL(join(here, `${name}.ts`)).href)) as { default?: (args: string[]) => Promise<void> };
if (typeof mod.default !== 'function') {
  console.error(`bench/${name}.ts has no default export function`);
  process.exit(2);
}
await mod.default(args);
