// Tokens are shown only masked: at most the first 4 and last 4 characters, never more.

export function maskToken(token: string): string {
  // Short tokens would reveal too much of themselves with 4+4: show less.
  if (token.length >= 16) return `${token.slice(0, 4)}…${token.slice(-4)}`;
  if (token.length >= 8) return `${token.slice(0, 2)}…${token.slice(-2)}`;
  return "…";
}
