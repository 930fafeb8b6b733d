import { sveltekit } from '@sveltejs/kit/vite';
import tailwindcss from '@tailwindcss/vite';
import { defineConfig } from 'vite';

export default defineConfig({
	plugins: [tailwindcss(), sveltekit()],
	server: {
		// `npm run dev` talks to a local `projectw serve` on the default port.
		proxy: { '/api': 'http://127.0.0.1:5000', '/docs': 'http://127.0.0.1:5000' }
	}
});
