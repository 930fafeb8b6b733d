import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import adapter from '@sveltejs/adapter-static';
import { vitePreprocess } from '@sveltejs/vite-plugin-svelte';

/** A version derived from the sources, so that two builds of the same tree are byte-identical. */
function sourceHash() {
	const hash = createHash('sha256');
	const walk = (dir) => {
		for (const name of readdirSync(dir).sort()) {
			const path = join(dir, name);
			if (statSync(path).isDirectory()) walk(path);
			else hash.update(path).update(readFileSync(path));
		}
	};
	walk('src');
	walk('static');
	hash.update(readFileSync('package-lock.json'));
	return hash.digest('hex').slice(0, 12);
}

/** @type {import('@sveltejs/kit').Config} */
const config = {
	preprocess: vitePreprocess(),
	kit: {
		adapter: adapter({
			pages: '../frontend_dist',
			assets: '../frontend_dist',
			fallback: 'index.html',
			precompress: false,
			strict: true
		}),
		router: { type: 'hash' },
		version: { name: sourceHash() },
		output: { preloadStrategy: 'modulepreload' }
	}
};

export default config;
