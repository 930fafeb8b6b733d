// Fails the build when the JavaScript loaded by the first page view passes the budget (gzipped).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

const BUDGET = 250 * 1024;
const dist = new URL('../../frontend_dist/', import.meta.url).pathname;
const html = readFileSync(join(dist, 'index.html'), 'utf8');
const entries = [...html.matchAll(/(?:href=|import\()\s*"?(?:\.\/|\/)?(_app\/immutable\/[^"')]+\.js)/g)].map((m) => m[1]);
const seen = new Set();
const queue = [...entries];
let total = 0;
while (queue.length) {
	const file = queue.shift();
	if (seen.has(file)) continue;
	seen.add(file);
	const code = readFileSync(join(dist, file));
	total += gzipSync(code, { level: 9 }).length;
	// Static imports are loaded before the page runs; dynamic import() chunks are not counted.
	for (const m of code.toString().matchAll(/(?:^|[;\s}])import\s*(?:[\w*{}\s,$]+from\s*)?"(\.\.?\/[^"]+\.js)"/g)) {
		const next = join(file, '..', m[1]);
		if (!seen.has(next)) queue.push(next);
	}
}
const kb = (total / 1024).toFixed(1);
if (total > BUDGET) {
	console.error(`initial JavaScript is ${kb} KiB gzipped, over the ${BUDGET / 1024} KiB budget`);
	process.exit(1);
}
console.log(`initial JavaScript: ${kb} KiB gzipped in ${seen.size} files (budget ${BUDGET / 1024} KiB)`);
