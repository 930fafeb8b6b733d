// Shapes of the server's answers the screens rely on.
export interface Me {
	id: number;
	email: string;
	display_name: string | null;
	is_admin: boolean;
	is_active?: boolean;
	email_verified: boolean;
	/** ToS documents the user still has to accept before submitting work. */
	pending_tos?: TosDocument[];
	created_at?: string;
}

export interface TosDocument {
	id: string;
	name: string;
	version: number;
	text: string;
	accepted?: boolean;
}

export interface LoginAnswer {
	token: string;
	expires_at: string;
}

export interface Session {
	id: number;
	current: boolean;
	created_at: string;
	last_used_at: string | null;
	expires_at: string | null;
	user_agent?: string | null;
	ip_address?: string | null;
}

export interface ApiToken {
	id: number;
	name: string;
	is_admin?: boolean;
	created_at: string;
	last_used_at: string | null;
	expires_at: string | null;
}

export interface NewApiToken extends ApiToken {
	token: string;
}

export interface AdminUser {
	id: number;
	email: string;
	display_name: string | null;
	is_admin: boolean;
	is_active: boolean;
	email_verified: boolean;
	created_at: string;
}

export interface Page<T> {
	items: T[];
	count?: number;
	total?: number;
	next_cursor?: string | null;
}
