import { readFileSync, rmSync, writeFileSync } from 'node:fs';

/** Another process holds the data folder: a situation to explain in one sentence, not a crash. */
export class FolderInUseError extends Error {}

/**
 * Claims the data folder for this process with a pid file beside it (not in
 * it: the folder belongs to PostgreSQL). A file left by a process that no
 * longer runs is taken over.
 */
export function lockFolder(lockPath: string, dataDir: string): () => void {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(lockPath, String(process.pid), { flag: 'wx' });
      return () => rmSync(lockPath, { force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const owner = Number(readFileSync(lockPath, 'utf8'));
      if (isRunning(owner)) {
        throw new FolderInUseError(
          `${dataDir} is in use by process ${owner} (another Pulse demo?): stop that process, or set PULSE_DATA_DIR to another folder.`,
        );
      }
      rmSync(lockPath, { force: true });
    }
  }
  throw new Error(`could not claim ${dataDir}`);
}

function isRunning(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
