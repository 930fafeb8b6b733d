// Light, dark, or whatever the system says; the choice is remembered in this browser.
export type ThemeChoice = 'system' | 'light' | 'dark';
const KEY = 'projectw-theme';

function stored(): ThemeChoice {
	const value = typeof localStorage === 'undefined' ? null : localStorage.getItem(KEY);
	return value === 'light' || value === 'dark' ? value : 'system';
}

export const theme = $state({ choice: stored() as ThemeChoice, dark: false });

const media = typeof matchMedia === 'undefined' ? null : matchMedia('(prefers-color-scheme: dark)');

function apply(): void {
	theme.dark = theme.choice === 'dark' || (theme.choice === 'system' && !!media?.matches);
	document.documentElement.classList.toggle('dark', theme.dark);
}

export function initTheme(): void {
	media?.addEventListener('change', apply);
	apply();
}

export function setTheme(choice: ThemeChoice): void {
	theme.choice = choice;
	if (choice === 'system') localStorage.removeItem(KEY);
	else localStorage.setItem(KEY, choice);
	apply();
}
