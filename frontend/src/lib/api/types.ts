// Shapes of the server's answers, taken from the generated OpenAPI schema.
import type { components } from './schema';

type Schemas = components['schemas'];
export type Me = Schemas['UserOut'];
export type TosDocument = Schemas['TermsOut'];
export type Session = Schemas['SessionOut'];
export type ApiToken = Schemas['TokenOut'];
export type NewApiToken = Schemas['TokenCreated'];
export type AdminUser = Schemas['AdminUserOut'];
export type Job = Schemas['JobView'];
export type JobStatus = Job['status'];
export type JobPage = Schemas['JobPage'];
export type BulkOutcome = Schemas['BulkOutcome'];
export type Runner = Schemas['RunnerInfo'];
export type RunnerList = Schemas['RunnerList'];
export type QueueOverview = Schemas['QueueOverviewOut'];
export type Transcript = Schemas['Transcript'];
export type Segment = Schemas['Segment'];

/** The job settings as the form edits them (the server's JobSettings, every field present). */
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
