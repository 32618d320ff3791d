// Some registry mirrors serve only the platform binaries of the machines that
// use them; npm then leaves the other platforms' optional packages out of
// package-lock.json and `npm ci` refuses the lockfile. This adds the missing
// optional entries (with their os/cpu, so no other platform installs them).
// Run after changing dependencies: node .ci/complete-lockfile.mjs
import { readFileSync, writeFileSync } from 'node:fs';
const file = process.argv[2] ?? 'package-lock.json';
const lock = JSON.parse(readFileSync(file, 'utf8'));
const OS = { android: 'android', darwin: 'darwin', freebsd: 'freebsd', linux: 'linux', openharmony: 'openharmony', win32: 'win32' };
let added = 0;
for (const [path, pkg] of Object.entries(lock.packages)) {
  for (const [name, version] of Object.entries(pkg.optionalDependencies ?? {})) {
    const key = `node_modules/${name}`;
    if (lock.packages[key] || lock.packages[`${path}/${key}`]) continue;
    const parts = name.split('/').pop().split('-');
    const os = parts.find((p) => OS[p]);
    const cpu = parts[parts.indexOf(os) + 1];
    if (!os || !cpu) { console.error('cannot place', name); continue; }
    const entry = { version, cpu: [cpu], optional: true, os: [os] };
    if (/musl/.test(name)) entry.libc = ['musl'];
    else if (/gnu/.test(name) && os === 'linux') entry.libc = ['glibc'];
    lock.packages[key] = entry;
    added++;
  }
}
writeFileSync(file, JSON.stringify(lock, null, 2) + '\n');
console.log('added', added);
