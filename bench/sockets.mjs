/** Socket helpers shared by the benches that hold many wallboard sockets. */
import { io } from 'socket.io-client';

/** Runs `work` on `items` a hundred at a time: thousands of handshakes at once would time some of them out. */
export async function inBatches(items, work) {
  for (let i = 0; i < items.length; i += 100) await Promise.all(items.slice(i, i + 100).map(work));
}

/**
 * A websocket on `url`'s `/analytics` namespace with `token`, never
 * reconnecting, once it is connected (`until: 'connected'`: once the
 * service's own `connected` message has arrived too).
 */
export async function openSocket(url, token, { until = 'connect' } = {}) {
  const socket = io(`${url}/analytics`, {
    auth: { token },
    transports: ['websocket'],
    forceNew: true,
    reconnection: false,
  });
  await new Promise((resolve, reject) => {
    socket.once(until, resolve);
    socket.once('connect_error', reject);
  });
  return socket;
}

/** The same, subscribed to `subscription` (throws when the subscribe is refused). */
export async function subscribedSocket(url, token, subscription) {
  const socket = await openSocket(url, token);
  const reply = await socket.timeout(30_000).emitWithAck('subscribe', subscription);
  if (!reply.ok) throw new Error(`subscribe refused: ${reply.error}`);
  return socket;
}
