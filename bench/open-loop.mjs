/**
 * An open-loop load generator: RATE requests/s for SECONDS, each timed from
 * the moment it was due (not from when a connection was free), so a server
 * that falls behind shows it in the latencies. Prints JSON.
 *
 *   node bench/open-loop.mjs <url> <rate> <seconds> [authorization]
 */
import { Agent, request } from 'node:http';

const [url, rate, seconds, authorization] = process.argv.slice(2);
const agent = new Agent({ keepAlive: true, maxSockets: 64 });
const headers = authorization ? { authorization } : {};
const latencies = [];
let errors = 0;
const total = Math.round(Number(rate) * Number(seconds));
const started = performance.now();
const interval = 1000 / Number(rate);
let sent = 0;
await new Promise((resolve) => {
  let done = 0;
  const finish = () => {
    done += 1;
    if (done === total) resolve();
  };
  const tick = () => {
    const now = performance.now();
    while (sent < total && started + sent * interval <= now) {
      const due = started + sent * interval;
      sent += 1;
      const req = request(url, { agent, headers }, (res) => {
        res.resume();
        res.on('end', () => {
          if (res.statusCode !== 200) errors += 1;
          latencies.push(performance.now() - due);
          finish();
        });
      });
      req.on('error', () => {
        errors += 1;
        finish();
      });
      req.end();
    }
    if (sent < total) setTimeout(tick, 1);
  };
  tick();
});
latencies.sort((a, b) => a - b);
const q = (p) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))];
console.log(
  JSON.stringify({ rate: Number(rate), requests: total, errors, p50: q(0.5), p99: q(0.99), max: latencies.at(-1) }),
);
agent.destroy();
