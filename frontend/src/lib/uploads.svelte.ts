// Uploads run in parallel (a few at a time), each with its own progress and cancel button.
// XMLHttpRequest, not fetch: only it reports upload progress.
import { CSRF_HEADERS, xhrError } from '$lib/api/client';
import type { Job, JobSettings } from '$lib/api/types';

export type UploadState = 'waiting' | 'uploading' | 'done' | 'failed' | 'cancelled';

export interface Upload {
	id: number;
	name: string;
	size: number;
	loaded: number;
	state: UploadState;
	error: string | null;
	jobId: number | null;
}

const PARALLEL = 3;
let nextId = 1;
const files = new Map<number, File>();
const running = new Map<number, XMLHttpRequest>();
const pendingSettings = new Map<number, JobSettings>();

export const uploads = $state<Upload[]>([]);

function find(id: number): Upload | undefined {
	return uploads.find((u) => u.id === id);
}

function pump(onCreated: (job: Job) => void, onExpired: () => void): void {
	for (const upload of uploads) {
		if (running.size >= PARALLEL) return;
		if (upload.state === 'waiting') start(upload.id, onCreated, onExpired);
	}
}

function start(id: number, onCreated: (job: Job) => void, onExpired: () => void): void {
	const upload = find(id);
	const file = files.get(id);
	if (!upload || !file) return;
	const body = new FormData();
	body.append('file', file, file.name);
	body.append('settings', JSON.stringify(pendingSettings.get(id)));
	const xhr = new XMLHttpRequest();
	running.set(id, xhr);
	upload.state = 'uploading';
	xhr.open('POST', '/api/jobs');
	for (const [name, value] of Object.entries(CSRF_HEADERS)) xhr.setRequestHeader(name, value);
	xhr.setRequestHeader('Accept', 'application/json');
	xhr.upload.onprogress = (event) => {
		const current = find(id);
		if (current && event.lengthComputable) current.loaded = Math.min(event.loaded, current.size);
	};
	const finish = () => {
		running.delete(id);
		files.delete(id);
		pendingSettings.delete(id);
		pump(onCreated, onExpired);
	};
	xhr.onload = () => {
		const current = find(id);
		if (current) {
			if (xhr.status >= 200 && xhr.status < 300) {
				const job = JSON.parse(xhr.responseText) as Job;
				current.state = 'done';
				current.loaded = current.size;
				current.jobId = job.id;
				onCreated(job);
			} else {
				if (xhr.status === 401) onExpired();
				current.state = 'failed';
				current.error = xhrError(xhr).detail;
			}
		}
		finish();
	};
	xhr.onerror = () => {
		const current = find(id);
		if (current) {
			current.state = 'failed';
			current.error = xhrError(xhr).detail;
		}
		finish();
	};
	xhr.onabort = finish;
	xhr.send(body);
}

/** Queue files for upload with the given settings. */
export function enqueue(
	list: Iterable<File>,
	settings: JobSettings,
	onCreated: (job: Job) => void,
	onExpired: () => void
): void {
	for (const file of list) {
		const id = nextId++;
		files.set(id, file);
		pendingSettings.set(id, $state.snapshot(settings) as JobSettings);
		uploads.push({ id, name: file.name, size: file.size, loaded: 0, state: 'waiting', error: null, jobId: null });
	}
	pump(onCreated, onExpired);
}

export function cancel(id: number): void {
	const upload = find(id);
	if (!upload || (upload.state !== 'waiting' && upload.state !== 'uploading')) return;
	upload.state = 'cancelled';
	running.get(id)?.abort();
	files.delete(id);
}

/** Forget finished, failed and cancelled uploads. */
export function clearFinished(): void {
	for (let i = uploads.length - 1; i >= 0; i--) {
		if (!['waiting', 'uploading'].includes(uploads[i].state)) uploads.splice(i, 1);
	}
}
