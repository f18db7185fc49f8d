import fs from 'node:fs';
import path from 'node:path';
import { KnexsafeError } from '../errors.js';
import { displayPath } from './paths.js';

/** What an errno means for the user, in words. */
const REASONS: Record<string, string> = {
  EACCES: 'permission denied',
  EPERM: 'the operation is not permitted',
  EROFS: 'the file system is read-only',
  ENOSPC: 'no space is left on the device',
  EDQUOT: 'the disk quota is exceeded',
  ENOTDIR: 'a part of the path is a file, not a folder',
  EISDIR: 'it is a folder, not a file',
  ENAMETOOLONG: 'the path is too long',
  ELOOP: 'the path has a loop of symbolic links',
  EMFILE: 'too many files are open',
  ENOENT: 'it does not exist',
  EEXIST: 'it already exists',
};

export interface FileSystemError extends Error {
  code: string;
  syscall?: string;
  path?: string;
}

/** A Node file-system error (errno code and a path), as opposed to a bug. */
export function isFileSystemError(error: unknown): error is FileSystemError {
  if (!(error instanceof Error)) return false;
  const e = error as Partial<FileSystemError>;
  return typeof e.code === 'string' && e.code in REASONS && typeof e.path === 'string';
}

/** A file-system error as one sentence about the path the user gave (exit 2: fix the path or its permissions). */
export function fileSystemProblem(error: FileSystemError, what?: string): KnexsafeError {
  const reason = REASONS[error.code] ?? error.code;
  const target = error.path ? displayPath(error.path) : 'a file';
  const action = error.syscall === 'mkdir' ? 'create' : error.syscall === 'open' || error.syscall === 'write' ? 'write or read' : 'read';
  return new KnexsafeError('FILE_SYSTEM', `Cannot ${action} ${what ? `${what} ` : ''}${target}: ${reason} (${error.code}).`, {
    hint: 'Check the path and its permissions, then run the command again.',
    cause: error,
    details: { path: error.path, code: error.code },
  });
}

/**
 * Creates `dir` and its missing parents one level at a time. Node's recursive mkdir never returns
 * on some paths (`/proc/x`: mkdir answers ENOENT while the parent exists, so it retries forever);
 * a path the user gave must get an answer, in words: `what` names it ("the backup folder").
 */
export function makeDirectory(dir: string, what: string, mode?: number): void {
  const missing: string[] = [];
  let current = path.resolve(dir);
  for (;;) {
    let stat: fs.Stats | undefined;
    try {
      stat = fs.statSync(current);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT' && code !== 'ENOTDIR') throw fileSystemProblem(error as FileSystemError, what);
    }
    if (stat) {
      if (!stat.isDirectory()) {
        throw new KnexsafeError('NOT_A_DIRECTORY', `Cannot create ${what} ${displayPath(dir)}: ${displayPath(current)} is a file, not a folder.`, {
          hint: 'Give a path inside a folder you can write to.',
          details: { path: dir },
        });
      }
      break;
    }
    missing.unshift(current);
    const parent = path.dirname(current);
    if (parent === current) break;
    current = parent;
  }
  for (const level of missing) {
    try {
      fs.mkdirSync(level, mode === undefined ? undefined : { mode });
    } catch (error) {
      const e = error as FileSystemError;
      if (e.code === 'EEXIST' && fs.statSync(level).isDirectory()) continue;
      if (e.code === 'ENOENT') {
        // The parent exists (checked above) and still no folder can be made there: /proc, /sys.
        throw new KnexsafeError('CANNOT_CREATE_DIRECTORY', `Cannot create ${what} ${displayPath(dir)}: ${displayPath(path.dirname(level))} does not allow new folders.`, {
          hint: 'Give a path inside a folder you can write to.',
          cause: error,
          details: { path: dir },
        });
      }
      throw fileSystemProblem(e, what);
    }
  }
}
