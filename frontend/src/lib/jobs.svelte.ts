// The signed-in user's jobs: one page from the server, kept live by server-sent events.
import { request } from '$lib/api/client';
import type { Job, JobPage, JobStatus } from '$lib/api/types';

export type StatusFilter = 'all' | 'active' | 'succeeded' | 'failed' | 'aborted';
export type SortKey = 'newest' | 'oldest' | 'name';

const ACTIVE: JobStatus[] = ['queued', 'assigned', 'running'];
export const FINISHED: JobStatus[] = ['succeeded', 'failed', 'aborted'];

export const jobs = $state({
	items: [] as Job[],
	total: 0,
	loading: false,
	live: false,
	/** The latest finished job, in words, for screen readers. */
	announcement: '',
	status: 'all' as StatusFilter,
	search: '',
	sort: 'newest' as SortKey,
	pageSize: 25,
	/** Cursors of the pages before the current one; the last is the current page's. */
	cursors: [] as (string | null)[],
	nextCursor: null as string | null
});

function query(cursor: string | null): string {
	const params = new URLSearchParams();
	if (jobs.status === 'active') for (const s of ACTIVE) params.append('status', s);
	else if (jobs.status !== 'all') params.append('status', jobs.status);
	if (jobs.search.trim()) params.set('q', jobs.search.trim());
	params.set('sort', jobs.sort === 'name' ? 'name' : 'created');
	params.set('order', jobs.sort === 'oldest' || jobs.sort === 'name' ? 'asc' : 'desc');
	params.set('limit', String(jobs.pageSize));
	if (cursor) params.set('cursor', cursor);
	return params.toString();
}

let generation = 0;

async function fetchPage(cursor: string | null): Promise<void> {
	const mine = ++generation;
	jobs.loading = true;
	try {
		// A repeated `status` parameter is built by hand: the list is an OR of states.
		const page = await request<JobPage>('GET', `/api/jobs?${query(cursor)}`);
		if (mine !== generation) return;
		jobs.items = page.items;
		jobs.total = page.total;
		jobs.nextCursor = page.next_cursor;
	} finally {
		if (mine === generation) jobs.loading = false;
	}
}

/** Reload from the first page (after the filter, search, sort or page size changed). */
export function reload(): Promise<void> {
	jobs.cursors = [null];
	return fetchPage(null);
}

export function refreshCurrent(): Promise<void> {
	return fetchPage(jobs.cursors.at(-1) ?? null);
}

export function nextPage(): Promise<void> {
	if (!jobs.nextCursor) return Promise.resolve();
	jobs.cursors.push(jobs.nextCursor);
	return fetchPage(jobs.nextCursor);
}

export function previousPage(): Promise<void> {
	if (jobs.cursors.length <= 1) return Promise.resolve();
	jobs.cursors.pop();
	return fetchPage(jobs.cursors.at(-1) ?? null);
}

export const pageNumber = () => Math.max(1, jobs.cursors.length);

function matchesFilter(job: Job): boolean {
	if (jobs.status === 'active' && !ACTIVE.includes(job.status)) return false;
	if (['succeeded', 'failed', 'aborted'].includes(jobs.status) && job.status !== jobs.status) return false;
	const term = jobs.search.trim().toLowerCase();
	return !term || job.file_name.toLowerCase().includes(term);
}

/** A job the user just created (upload finished): show it at once when it belongs on this page. */
export function addJob(job: Job): void {
	if (jobs.items.some((j) => j.id === job.id)) return;
	if (jobs.cursors.length <= 1 && jobs.sort === 'newest' && matchesFilter(job)) {
		jobs.items.unshift(job);
		if (jobs.items.length > jobs.pageSize) jobs.items.pop();
	}
	jobs.total += 1;
}

function applyUpdate(data: Partial<Job> & { job_id?: number; id?: number }): void {
	const id = data.job_id ?? data.id;
	const job = jobs.items.find((j) => j.id === id);
	if (!job) return;
	const before = job.status;
	for (const [key, value] of Object.entries(data)) {
		if (key !== 'job_id') (job as unknown as Record<string, unknown>)[key] = value;
	}
	if (job.status !== before && FINISHED.includes(job.status)) {
		const outcome = { succeeded: 'is done', failed: 'failed', aborted: 'was aborted' }[job.status as 'succeeded'];
		jobs.announcement = `${job.file_name} ${outcome}.`;
	}
}

let source: EventSource | null = null;
let reloadTimer: ReturnType<typeof setTimeout> | null = null;

function scheduleRefresh(): void {
	// A burst of new jobs (many uploads at once) refreshes the page once.
	if (reloadTimer) return;
	reloadTimer = setTimeout(() => {
		reloadTimer = null;
		refreshCurrent();
	}, 300);
}

/** Follow the server's event stream; the browser reconnects (with Last-Event-ID) by itself. */
export function connectEvents(): () => void {
	source?.close();
	source = new EventSource('/api/events');
	source.onopen = () => (jobs.live = true);
	source.onerror = () => (jobs.live = false);
	source.addEventListener('job_created', (event) => {
		const data = JSON.parse((event as MessageEvent).data);
		if (data.file_name && data.status) addJob({ ...data, id: data.job_id ?? data.id } as Job);
		else scheduleRefresh();
	});
	source.addEventListener('job_updated', (event) => applyUpdate(JSON.parse((event as MessageEvent).data)));
	source.addEventListener('job_deleted', (event) => {
		const data = JSON.parse((event as MessageEvent).data);
		const id = data.job_id ?? data.id;
		const index = jobs.items.findIndex((j) => j.id === id);
		if (index >= 0) {
			jobs.items.splice(index, 1);
			jobs.total = Math.max(0, jobs.total - 1);
		}
	});
	const current = source;
	return () => {
		current.close();
		if (source === current) source = null;
		jobs.live = false;
	};
}
