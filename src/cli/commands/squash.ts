import type { Command } from 'commander';

/** `knexsafe squash`: registered here once it is built. */
export function registerSquashCommand(program: Command): void {
  void program;
}
