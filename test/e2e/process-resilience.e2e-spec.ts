import { io } from 'socket.io-client';
import { newOrganizationId, tokenFor } from '../support/app.js';
import { BUILT_MAIN } from '../support/build.js';
import { ServiceProcess } from '../support/service-process.js';

/**
 * No input ends the process: the built service in a child process, as an
 * operator runs it, sent what browsers and attackers send.
 */
describe('the process stays up', () => {
  let service: ServiceProcess;
  beforeAll(async () => {
    service = await ServiceProcess.start({ LOG_LEVEL: 'warn' });
  });
  afterAll(() => service.kill());

  const stillUp = async () => {
    expect((await fetch(`${service.url}/health`)).status).toBe(200);
    expect(service.child.exitCode).toBeNull();
  };

  it.each(['null', 'not a url', 'http://', 'https://[::1', 'file://'])(
    'refuses a socket.io handshake with Origin %j with 403 and keeps serving',
    async (origin) => {
      const response = await fetch(`${service.url}/socket.io/?EIO=4&transport=polling`, { headers: { origin } });
      expect(response.status).toBe(403);
      await stillUp();
    },
  );

  it('refuses the WebSocket handshake of a sandboxed page (Origin: null)', async () => {
    const socket = io(`${service.url}/analytics`, {
      auth: { token: tokenFor(newOrganizationId(), 'viewer') },
      transports: ['websocket'],
      reconnection: false,
      forceNew: true,
      extraHeaders: { origin: 'null' },
    });
    try {
      const outcome = await new Promise<string>((resolve) => {
        socket.once('connect', () => resolve('connected'));
        socket.once('connect_error', (error) => resolve(`refused: ${error.message}`));
      });
      expect(outcome).toBe('refused: websocket error');
    } finally {
      socket.close();
    }
    await stillUp();
  });
});

describe('an unhandled rejection', () => {
  it('is logged and does not stop the process', async () => {
    // The service as `npm start` runs it, plus one promise that nobody handles.
    const script =
      `import { run } from './${BUILT_MAIN.replace('main.js', 'bootstrap.js')}';` +
      `await run();` +
      `setTimeout(() => Promise.reject(new Error('nobody-handles-this')), 300);`;
    const service = await ServiceProcess.start({ LOG_LEVEL: 'warn' }, [
      process.execPath,
      '--input-type=module',
      '-e',
      script,
    ]);
    try {
      await service.waitFor('nobody-handles-this', 10_000);
      expect(service.output).toMatch(/unhandled rejection/i);
      expect((await fetch(`${service.url}/health`)).status).toBe(200);
      expect(service.child.exitCode).toBeNull();
    } finally {
      await service.kill();
    }
  });
});
