/** Removes ANSI color sequences from text. */
const ANSI = new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, "g");

/** `text` without color codes. */
export function stripAnsi(text: string): string {
  return text.replace(ANSI, "");
}
