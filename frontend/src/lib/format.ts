// How numbers and times read on screen.
const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
const relative = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' });

export function formatDuration(seconds: number | null | undefined): string {
	if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return '—';
	const total = Math.round(seconds);
	const h = Math.floor(total / 3600);
	const m = Math.floor((total % 3600) / 60);
	const s = total % 60;
	const mm = String(m).padStart(h ? 2 : 1, '0');
	return `${h ? `${h}:` : ''}${mm}:${String(s).padStart(2, '0')}`;
}

export function formatTimestamp(seconds: number): string {
	const ms = Math.floor((seconds % 1) * 1000);
	return `${formatDuration(Math.floor(seconds))}.${String(ms).padStart(3, '0').slice(0, 1)}`;
}

export function formatDate(value: string | null | undefined): string {
	return value ? dateTime.format(new Date(value)) : '—';
}

export function formatAgo(value: string | null | undefined, now = Date.now()): string {
	if (!value) return '—';
	const seconds = (new Date(value).getTime() - now) / 1000;
	const units: [Intl.RelativeTimeFormatUnit, number][] = [
		['day', 86400],
		['hour', 3600],
		['minute', 60]
	];
	for (const [unit, size] of units) {
		if (Math.abs(seconds) >= size) return relative.format(Math.round(seconds / size), unit);
	}
	return relative.format(Math.round(seconds), 'second');
}

/** Progress as a percentage (the server reports 0 to 100). */
export function percent(progress: number | null | undefined): number {
	return Math.max(0, Math.min(100, progress ?? 0));
}

const languageNames =
	typeof Intl.DisplayNames === 'function' ? new Intl.DisplayNames(['en'], { type: 'language' }) : null;

export function languageName(code: string): string {
	try {
		return languageNames?.of(code === 'jw' ? 'jv' : code) ?? code;
	} catch {
		return code;
	}
}

export function formatBytes(bytes: number): string {
	const units = ['B', 'KB', 'MB', 'GB'];
	let value = bytes;
	let unit = 0;
	while (value >= 1024 && unit < units.length - 1) {
		value /= 1024;
		unit++;
	}
	return `${value.toFixed(unit ? 1 : 0)} ${units[unit]}`;
}
