// Who is signed in, and what this server is. Loaded once at start and after sign-in.
import { api, unwrap, ApiError } from '$lib/api/client';
import type { Me } from '$lib/api/types';
import type { components } from '$lib/api/schema';

export type About = components['schemas']['About'];

export const session = $state({
	loaded: false,
	me: null as Me | null,
	about: null as About | null,
	unreachable: false
});

export async function loadAbout(): Promise<void> {
	try {
		session.about = await unwrap(api.GET('/api/about'), { toast: false });
		session.unreachable = false;
	} catch {
		session.unreachable = true;
	}
}

/** Refresh the signed-in user; null when there is no (valid) session. */
export async function loadMe(): Promise<Me | null> {
	try {
		session.me = await unwrap<Me>(api.GET('/api/users/me'), { anonymous: true, toast: false });
	} catch (error) {
		if (!(error instanceof ApiError) || error.status !== 401) {
			session.unreachable = error instanceof ApiError && error.status === 0;
		}
		session.me = null;
	}
	session.loaded = true;
	return session.me;
}

export async function signOut(all = false): Promise<void> {
	try {
		await unwrap(api.POST(all ? '/api/auth/logout-all' : '/api/auth/logout'));
	} finally {
		session.me = null;
	}
}
