/**
 * What grew between two V8 heap snapshots (e.g. those socket-memory.mjs writes with
 * BENCH_HEAP_SNAPSHOTS): objects by constructor (or type for strings, code, arrays…),
 * with the change in their count and shallow size, largest growth first.
 *
 *   node bench/heap-summary.mjs before.heapsnapshot after.heapsnapshot [rows]
 */
import { readFileSync } from 'node:fs';

const [beforePath, afterPath, rows = '40'] = process.argv.slice(2);

/** Count and shallow size per "type:name" of one snapshot. */
function summarize(path) {
  const snapshot = JSON.parse(readFileSync(path, 'utf8'));
  const {
    node_fields: fields,
    node_types: [types],
  } = snapshot.snapshot.meta;
  const width = fields.length;
  const [typeAt, nameAt, sizeAt] = ['type', 'name', 'self_size'].map((f) => fields.indexOf(f));
  const groups = new Map();
  const { nodes, strings } = snapshot;
  for (let i = 0; i < nodes.length; i += width) {
    const type = types[nodes[i + typeAt]];
    // Strings and code are grouped by type alone: their names are their contents.
    const name = type === 'object' || type === 'closure' || type === 'native' ? strings[nodes[i + nameAt]] : '';
    const key = `${type}:${name}`;
    const group = groups.get(key) ?? { count: 0, size: 0 };
    group.count += 1;
    group.size += nodes[i + sizeAt];
    groups.set(key, group);
  }
  return groups;
}

const before = summarize(beforePath);
const after = summarize(afterPath);
const keys = new Set([...before.keys(), ...after.keys()]);
const growth = [...keys]
  .map((key) => {
    const b = before.get(key) ?? { count: 0, size: 0 };
    const a = after.get(key) ?? { count: 0, size: 0 };
    return { key, count: a.count - b.count, size: a.size - b.size };
  })
  .sort((x, y) => y.size - x.size);
const total = growth.reduce((sum, g) => sum + g.size, 0);
console.log(`shallow size grew by ${(total / 2 ** 20).toFixed(1)} MB`);
console.log('     Δ bytes   Δ count  type:constructor');
for (const g of growth.slice(0, Number(rows))) {
  console.log(`${String(g.size).padStart(12)} ${String(g.count).padStart(9)}  ${g.key}`);
}
