// The job settings the server accepts (same names and rules as the server's JobSettings).
import type { JobSettings } from '$lib/api/types';

export const MODELS = ['tiny', 'tiny.en', 'base', 'base.en', 'small', 'small.en', 'medium', 'medium.en', 'turbo', 'large', 'large-v2', 'large-v3', 'large-v3-turbo'] as const;
export const LANGUAGES = ['af', 'am', 'ar', 'as', 'az', 'ba', 'be', 'bg', 'bn', 'bo', 'br', 'bs', 'ca', 'cs', 'cy', 'da', 'de', 'el', 'en', 'es', 'et', 'eu', 'fa', 'fi', 'fo', 'fr', 'gl', 'gu', 'ha', 'haw', 'he', 'hi', 'hr', 'ht', 'hu', 'hy', 'id', 'is', 'it', 'ja', 'jw', 'ka', 'kk', 'km', 'kn', 'ko', 'la', 'lb', 'ln', 'lo', 'lt', 'lv', 'mg', 'mi', 'mk', 'ml', 'mn', 'mr', 'ms', 'mt', 'my', 'ne', 'nl', 'nn', 'no', 'oc', 'pa', 'pl', 'ps', 'pt', 'ro', 'ru', 'sa', 'sd', 'si', 'sk', 'sl', 'sn', 'so', 'sq', 'sr', 'su', 'sv', 'sw', 'ta', 'te', 'tg', 'th', 'tk', 'tl', 'tr', 'tt', 'uk', 'ur', 'uz', 'vi', 'yi', 'yo', 'yue', 'zh'] as const;
export const ALIGNMENT_LANGUAGES = new Set<string>(['en', 'fr', 'de', 'es', 'it', 'ja', 'zh', 'nl', 'uk', 'pt', 'ar', 'cs', 'ru', 'pl', 'hu', 'fi', 'fa', 'el', 'tr', 'da', 'he', 'vi', 'ko', 'ur', 'te', 'hi', 'ca', 'ml', 'no', 'nn', 'sk', 'sl', 'hr', 'ro', 'eu', 'gl', 'ka', 'lv', 'tl', 'sv']);

export function defaultSettings(model = 'small'): JobSettings {
	return {
		email_notification: false,
		task: 'transcribe',
		model,
		language: null,
		alignment: {
			processing: { highlight_words: false, max_line_count: null, max_line_width: null },
			return_char_alignments: false,
			interpolate_method: 'nearest'
		},
		diarization: null,
		vad_settings: { vad_onset: 0.5, vad_offset: 0.363, chunk_size: 30 },
		asr_settings: {
			beam_size: 5,
			patience: 1.0,
			length_penalty: 1.0,
			temperature: 0.0,
			temperature_increment_on_fallback: 0.2,
			compression_ratio_threshold: 2.4,
			log_prob_threshold: -1.0,
			no_speech_threshold: 0.6,
			initial_prompt: null,
			suppress_tokens: [-1],
			suppress_numerals: false
		}
	};
}

/** The first rule a combination breaks, in the server's words; null when it is consistent. */
export function settingsProblem(s: JobSettings): string | null {
	if (s.model.endsWith('.en') && s.language !== 'en')
		return `The English-only model ${s.model} needs the language English.`;
	if (s.task === 'translate' && s.language === 'en') return 'Translating English into English is not possible.';
	if (s.alignment && s.language && !ALIGNMENT_LANGUAGES.has(s.language))
		return 'Word alignment is not available for this language; turn it off.';
	const d = s.diarization;
	if (d && d.min_speakers !== null && d.max_speakers !== null && d.max_speakers < d.min_speakers)
		return 'The maximum number of speakers must be at least the minimum.';
	const p = s.alignment?.processing;
	if (p && p.max_line_count !== null && p.max_line_width === null)
		return 'A maximum line count needs a maximum line width as well.';
	return null;
}

/** What the server stores: alignment is dropped when translating (the two do not combine). */
export function forSubmission(s: JobSettings): JobSettings {
	return s.task === 'translate' ? { ...s, alignment: null } : s;
}
