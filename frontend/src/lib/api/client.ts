// The one way the app talks to the server: same-origin fetches carrying the session cookie.
// The session token never reaches JavaScript (the cookie is HttpOnly).
import createClient, { type Middleware } from 'openapi-fetch';
import type { paths } from './schema';
import { toast } from '$lib/toasts.svelte';

/** Sent on every state-changing request: the server's CSRF check requires a custom header. */
export const CSRF_HEADERS = { 'X-Requested-With': 'projectw-web', 'X-Project-W': '1' };

/** An error answer of the server: `detail` is one sentence for people, `code` is for programs. */
export class ApiError extends Error {
	constructor(
		readonly status: number,
		readonly detail: string,
		readonly code: string
	) {
		super(detail);
	}
}

type ExpiredHandler = () => void;
let onExpired: ExpiredHandler = () => {};

/** Called when a request that needed a session got 401: the layout sends the user to sign in. */
export function onSessionExpired(handler: ExpiredHandler): void {
	onExpired = handler;
}

/** Report an expired session seen outside this module (an upload's 401). */
export function onSessionExpiredNow(): void {
	onExpired();
}

async function toError(response: Response): Promise<ApiError> {
	let detail = `The server answered ${response.status} ${response.statusText}.`;
	let code = 'error';
	try {
		const body = await response.clone().json();
		if (typeof body?.detail === 'string') detail = body.detail;
		if (typeof body?.code === 'string') code = body.code;
	} catch {
		// Not JSON (a proxy's error page, say): keep the generic sentence.
	}
	if (response.status === 0 || response.type === 'error') {
		detail = 'The server cannot be reached.';
	}
	return new ApiError(response.status, detail, code);
}

function needsCsrf(method: string): boolean {
	return !['GET', 'HEAD', 'OPTIONS'].includes(method.toUpperCase());
}

const csrf: Middleware = {
	onRequest({ request }) {
		if (needsCsrf(request.method)) {
			for (const [name, value] of Object.entries(CSRF_HEADERS)) request.headers.set(name, value);
		}
		return request;
	}
};

/** The typed client generated from the server's OpenAPI schema. */
export const api = createClient<paths>({ baseUrl: '', credentials: 'same-origin' });
api.use(csrf);

export interface CallOptions {
	/** Show the server's sentence in a toast when the call fails (default true). */
	toast?: boolean;
	/** A 401 is an expected answer here (sign-in forms): do not treat it as an expired session. */
	anonymous?: boolean;
}

/** Unwrap an openapi-fetch answer: the data, or an ApiError (toasted) for any failure. */
export async function unwrap<T>(
	pending: Promise<{ data?: T; error?: unknown; response: Response }>,
	options: CallOptions = {}
): Promise<T> {
	let result: { data?: T; error?: unknown; response: Response };
	try {
		result = await pending;
	} catch {
		const error = new ApiError(0, 'The server cannot be reached.', 'network_error');
		if (options.toast !== false) toast.error(error.detail);
		throw error;
	}
	if (result.response.ok) return result.data as T;
	const error = await toError(result.response);
	if (error.status === 401 && !options.anonymous) {
		onExpired();
	} else if (options.toast !== false) {
		toast.error(error.detail);
	}
	throw error;
}

/** A plain request for answers that are not JSON (downloads, previews, uploads use XHR). */
export async function fetchText(path: string, options: CallOptions = {}): Promise<string> {
	let response: Response;
	try {
		response = await fetch(path, { credentials: 'same-origin' });
	} catch {
		const error = new ApiError(0, 'The server cannot be reached.', 'network_error');
		if (options.toast !== false) toast.error(error.detail);
		throw error;
	}
	if (response.ok) return response.text();
	const error = await toError(response);
	if (error.status === 401 && !options.anonymous) onExpired();
	else if (options.toast !== false) toast.error(error.detail);
	throw error;
}

/** Parse the JSON error body of an XHR (uploads) into an ApiError. */
export function xhrError(xhr: XMLHttpRequest): ApiError {
	if (xhr.status === 0) return new ApiError(0, 'The server cannot be reached.', 'network_error');
	try {
		const body = JSON.parse(xhr.responseText);
		return new ApiError(xhr.status, String(body.detail), String(body.code));
	} catch {
		return new ApiError(xhr.status, `The server answered ${xhr.status}.`, 'error');
	}
}

/** A JSON request by path, for calls whose types come from `./types`. */
export async function request<T>(
	method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE',
	path: string,
	body?: unknown,
	options: CallOptions = {}
): Promise<T> {
	const headers: Record<string, string> = { Accept: 'application/json' };
	if (body !== undefined) headers['Content-Type'] = 'application/json';
	if (needsCsrf(method)) Object.assign(headers, CSRF_HEADERS);
	const pending = fetch(path, {
		method,
		headers,
		credentials: 'same-origin',
		body: body === undefined ? undefined : JSON.stringify(body)
	}).then(async (response) => ({
		response,
		data: response.ok && response.status !== 204 ? ((await response.json()) as T) : undefined
	}));
	return unwrap<T>(pending, options);
}
