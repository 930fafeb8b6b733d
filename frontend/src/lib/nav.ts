// Hash-router helpers: the page's own query string lives after the `?` inside the hash.
import { goto } from '$app/navigation';

export function hashParams(url: URL): URLSearchParams {
	const query = url.hash.split('?')[1] ?? '';
	return new URLSearchParams(query);
}

/** Go to an app page, e.g. go('/login', { next: '/account' }). */
export function go(path: string, params: Record<string, string> = {}, replace = false) {
	const query = new URLSearchParams(params).toString();
	return goto(`#${path}${query ? `?${query}` : ''}`, { replaceState: replace });
}

/** The app page currently shown (path and query inside the hash). */
export function currentPage(url: URL): string {
	return url.hash.replace(/^#/, '') || '/';
}

/** Only an app-internal page is an acceptable place to return to after signing in. */
export function safeNext(value: string | null): string {
	return value && value.startsWith('/') && !value.startsWith('//') ? value : '/';
}
