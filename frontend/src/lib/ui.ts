// Shared class lists for plain form controls, matching the component library's look.
export const labelClass = 'mb-1 block text-sm font-medium text-gray-900 dark:text-gray-100';
export const inputClass =
	'block w-full rounded-lg border border-gray-300 bg-gray-50 p-2 text-sm text-gray-900 focus:border-blue-500 focus:ring-blue-500 dark:border-gray-600 dark:bg-gray-700 dark:text-white dark:placeholder-gray-400';
export const selectClass =
	'block w-full rounded-lg border border-gray-300 bg-gray-50 py-2 pr-8 pl-2 text-sm text-gray-900 focus:border-blue-500 focus:ring-blue-500 dark:border-gray-600 dark:bg-gray-700 dark:text-white';
export const radioClass =
	'h-4 w-4 border-gray-300 text-blue-600 focus:ring-2 focus:ring-blue-500 dark:border-gray-600 dark:bg-gray-700';
export const checkClass =
	'h-4 w-4 rounded border-gray-300 text-blue-600 focus:ring-2 focus:ring-blue-500 dark:border-gray-600 dark:bg-gray-700';
export const buttonClass =
	'inline-flex items-center justify-center gap-1 rounded-lg px-3 py-2 text-sm font-medium focus:ring-4 focus:outline-none disabled:cursor-not-allowed disabled:opacity-50';
export const primaryButton = `${buttonClass} bg-blue-700 text-white hover:bg-blue-800 focus:ring-blue-300 dark:bg-blue-600 dark:hover:bg-blue-700 dark:focus:ring-blue-800`;
export const secondaryButton = `${buttonClass} border border-gray-300 bg-white text-gray-900 hover:bg-gray-100 focus:ring-gray-200 dark:border-gray-600 dark:bg-gray-800 dark:text-white dark:hover:bg-gray-700 dark:focus:ring-gray-700`;
export const dangerButton = `${buttonClass} bg-red-700 text-white hover:bg-red-800 focus:ring-red-300 dark:bg-red-600 dark:hover:bg-red-700 dark:focus:ring-red-900`;
export const cardClass =
	'rounded-xl border border-gray-200 bg-white p-4 shadow-sm sm:p-5 dark:border-gray-700 dark:bg-gray-800';
