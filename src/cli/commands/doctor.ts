import type { Command } from 'commander';

/** `knexsafe doctor`: registered here once it is built. */
export function registerDoctorCommand(program: Command): void {
  void program;
}
