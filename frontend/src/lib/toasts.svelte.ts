// Short messages in a corner; errors carry the server's own sentence.
export type ToastKind = 'error' | 'success' | 'info';
export interface Toast {
	id: number;
	kind: ToastKind;
	text: string;
}

let next = 1;
export const toasts = $state<Toast[]>([]);

function push(kind: ToastKind, text: string, ms: number): void {
	const id = next++;
	// The same sentence twice in a row (a burst of failing requests) is shown once.
	if (toasts.some((t) => t.text === text && t.kind === kind)) return;
	toasts.push({ id, kind, text });
	setTimeout(() => dismiss(id), ms);
}

export function dismiss(id: number): void {
	const index = toasts.findIndex((t) => t.id === id);
	if (index >= 0) toasts.splice(index, 1);
}

export const toast = {
	error: (text: string) => push('error', text, 8000),
	success: (text: string) => push('success', text, 4000),
	info: (text: string) => push('info', text, 5000)
};
