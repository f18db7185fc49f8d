/**
 * Set by a command that serves until its client goes (the language server): an unhandled rejection
 * is then logged by that command instead of ending the process as a failed run.
 */
export const serving = { active: false };
