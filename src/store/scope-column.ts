/**
 * How a scope (a set of scope tokens) is kept in a column: space-separated, as RFC 6749 writes
 * it. Only the store reads and writes this form; everything above it handles string arrays.
 */
export const encodeScope = (scope: readonly string[]): string => scope.join(' ');

export const decodeScope = (column: string): string[] => column.split(' ').filter((s) => s !== '');
