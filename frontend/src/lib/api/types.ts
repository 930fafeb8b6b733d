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

export type JobStatus = 'queued' | 'assigned' | 'running' | 'succeeded' | 'failed' | 'aborted';

export interface Job {
	id: number;
	status: JobStatus;
	stage: string | null;
	progress: number;
	file_name: string;
	duration_seconds: number | null;
	queue_position?: number | null;
	waiting_reason?: string | null;
	runner_id?: number | null;
	runner_name?: string | null;
	created_at: string;
	started_at?: string | null;
	finished_at: string | null;
	error_message?: string | null;
	abort_requested?: boolean;
	audio_available?: boolean;
	settings?: JobSettings;
}

export interface JobSettings {
	email_notification: boolean;
	task: 'transcribe' | 'translate';
	model: string;
	language: string | null;
	alignment: {
		processing: {
			highlight_words: boolean;
			max_line_count: number | null;
			max_line_width: number | null;
		};
		return_char_alignments: boolean;
		interpolate_method: 'nearest' | 'linear' | 'ignore';
	} | null;
	diarization: { min_speakers: number | null; max_speakers: number | null } | null;
	vad_settings: { vad_onset: number; vad_offset: number; chunk_size: number };
	asr_settings: {
		beam_size: number;
		patience: number;
		length_penalty: number;
		temperature: number;
		temperature_increment_on_fallback: number;
		compression_ratio_threshold: number;
		log_prob_threshold: number;
		no_speech_threshold: number;
		initial_prompt: string | null;
		suppress_tokens: number[];
		suppress_numerals: boolean;
	};
}
