import { PGlite } from '@electric-sql/pglite';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { pipeline } from 'node:stream/promises';
import { Writable, type Readable } from 'node:stream';
import pg from 'pg';
import copyStreams from 'pg-copy-streams';
import { PgliteWireServer } from './pglite-wire-server.js';
import { RawWireClient, sqlState } from './raw-wire-client.js';
import { MAX_MESSAGE_LENGTH, message } from './wire-protocol.js';

const PASSWORD = 'per-run-password-for-this-spec';
const HIGH_WATER_MARK = 256 * 1024;

describe('PgliteWireServer', () => {
  let db: PGlite;
  let server: PgliteWireServer;
  let port: number;
  let pool: pg.Pool;
  const url = (password = PASSWORD) => `postgres://postgres:${password}@127.0.0.1:${port}/postgres`;

  beforeAll(async () => {
    db = await PGlite.create();
    server = new PgliteWireServer(db, { password: PASSWORD, outputHighWaterMark: HIGH_WATER_MARK });
    port = await server.listen(0, '127.0.0.1');
    pool = new pg.Pool({ connectionString: url(), max: 3 });
    await pool.query('CREATE TABLE items (id int PRIMARY KEY, label text)');
  });
  afterAll(async () => {
    await pool?.end();
    await server?.close();
    await db?.close();
  });

  /** The database still answers, through the server. */
  const alive = async () => (await pool.query<{ ok: number }>('SELECT 1 AS ok')).rows[0].ok;

  describe('authentication', () => {
    it('answers nothing but an error to a client that sends a query without proving the password', async () => {
      const client = await RawWireClient.connect(port);
      expect((await client.next())?.type).toBe('R'); // the SCRAM challenge
      client.query('SELECT label FROM items');
      const answer = await client.untilReady();
      expect(answer.map((m) => m.type)).toEqual(['E']);
      expect(sqlState(answer[0])).toBe('08P01');
      await client.closed();
    });

    it('refuses a wrong password (28P01) and a missing one', async () => {
      const wrong = new pg.Client({ connectionString: url('not-the-password') });
      await expect(wrong.connect()).rejects.toMatchObject({ code: '28P01' });
      const none = new pg.Client({ connectionString: `postgres://postgres@127.0.0.1:${port}/postgres` });
      await expect(none.connect()).rejects.toThrow(/password/);
      await none.end().catch(() => undefined);
      expect(await alive()).toBe(1);
    });

    it('lets a client with the password in, with SCRAM-SHA-256', async () => {
      const client = await RawWireClient.connect(port, PASSWORD);
      client.query('SELECT 41 + 1 AS answer');
      const answer = await client.untilReady();
      expect(answer.map((m) => m.type)).toEqual(['T', 'D', 'C', 'Z']);
      client.close();
    });
  });

  describe('framing', () => {
    it('ends a connection whose startup packet claims 2 GB, without waiting for it', async () => {
      const client = await RawWireClient.open(port);
      client.send(Buffer.from([0x7f, 0xff, 0xff, 0xff, 0, 3, 0, 0]));
      const [error] = await client.untilReady();
      expect(sqlState(error)).toBe('08P01');
      await client.closed();
    });

    it.each([
      ['shorter than its own length field', 3],
      ['negative', -1],
      ['over 64 MiB', MAX_MESSAGE_LENGTH + 1],
    ])('ends a connection whose message length is %s, and serves the others', async (_, length) => {
      const client = await RawWireClient.connect(port, PASSWORD);
      const header = Buffer.alloc(5);
      header.write('Q', 0, 'latin1');
      header.writeInt32BE(length, 1);
      client.send(header);
      const [error] = await client.untilReady();
      expect(sqlState(error)).toBe('08P01');
      await client.closed();
      expect(await alive()).toBe(1);
    });

    it('rolls back the transaction of a connection it ends, and gives the session to the others', async () => {
      const client = await RawWireClient.connect(port, PASSWORD);
      client.query(`BEGIN; INSERT INTO items VALUES (1001, 'uncommitted')`);
      expect((await client.untilReady()).at(-1)?.body.toString()).toBe('T'); // in a transaction
      client.send(Buffer.from([0x51, 0, 0, 0, 0]));
      await client.closed();
      const { rows } = await pool.query('SELECT count(*)::int AS n FROM items WHERE id = 1001');
      expect(rows[0].n).toBe(0);
    });
  });

  it('runs what a client sent before its Terminate, then closes', async () => {
    const client = await RawWireClient.connect(port, PASSWORD);
    client.query(`BEGIN; INSERT INTO items VALUES (1002, 'committed on the way out')`);
    await client.untilReady();
    client.send(Buffer.concat([message('Q', 'COMMIT\0'), message('X')]));
    await client.closed();
    const { rows } = await pool.query('SELECT label FROM items WHERE id = 1002');
    expect(rows).toEqual([{ label: 'committed on the way out' }]);
  });

  describe('COPY FROM STDIN (PGlite cannot read COPY data from a client)', () => {
    it.each([
      ['plainly', 'COPY items FROM STDIN'],
      ['after a comment', '/* bulk load */ COPY items FROM STDIN'],
      ['after a line comment', '-- load\nCOPY items (id, label) FROM STDIN'],
      ['with a comment inside', 'COPY items FROM /* here */ STDIN'],
    ])('fails as a statement when written %s, and the database lives on', async (_, sql) => {
      const client = await pool.connect();
      try {
        const copy = client.query(copyStreams.from(sql));
        const failed = once(copy, 'error');
        copy.end('7\tseven\n');
        const [error] = await failed;
        expect(error).toMatchObject({ code: '57014' });
        expect((await client.query('SELECT 2 AS two')).rows).toEqual([{ two: 2 }]);
      } finally {
        client.release();
      }
      expect((await pool.query('SELECT count(*)::int AS n FROM items WHERE id = 7')).rows[0].n).toBe(0);
    });

    it('fails when second in a query string, and the statements after it do not run', async () => {
      const client = await RawWireClient.connect(port, PASSWORD);
      client.query(`SELECT 1; COPY items FROM STDIN WITH (FORMAT csv); INSERT INTO items VALUES (8, 'eight')`);
      const answer = await client.untilReady();
      expect(answer.map((m) => m.type)).toEqual(['T', 'D', 'C', 'G', 'E', 'Z']);
      expect(sqlState(answer[4])).toBe('57014');
      client.close();
      expect((await pool.query('SELECT count(*)::int AS n FROM items WHERE id = 8')).rows[0].n).toBe(0);
    });

    it('fails through the extended protocol too', async () => {
      // Parse, Bind, Execute and Sync of an unnamed statement, as any driver sends them.
      const client = await RawWireClient.connect(port, PASSWORD);
      client.send(
        Buffer.concat([
          message('P', '\0COPY items FROM STDIN\0', Buffer.alloc(2)),
          message('B', '\0\0', Buffer.alloc(6)),
          message('E', '\0', 0),
          message('S'),
        ]),
      );
      const answer = await client.untilReady();
      expect(answer.map((m) => m.type)).toEqual(['1', '2', 'G', 'E', 'Z']);
      expect(sqlState(answer[3])).toBe('57014');
      client.close();
      expect(await alive()).toBe(1);
    });
  });

  describe('a slow reader', () => {
    it('gets a large COPY TO STDOUT whole and in order, while the server holds at most its high water mark in memory', async () => {
      // Some 16 MB, about what a raw export of 100,000 tickets makes.
      const rows = 150_000;
      const client = await pool.connect();
      try {
        const stream: Readable = client.query(
          copyStreams.to(
            `COPY (SELECT g, md5(g::text) AS hash, repeat(chr(97 + g % 26), 64) AS text FROM generate_series(1, ${rows}) g)
             TO STDOUT WITH (FORMAT csv, HEADER)`,
          ),
        );
        // PGlite runs in this process: by the time the first bytes arrive it has produced them all.
        await once(stream, 'readable');
        const held = server.stats();
        // The rest sits in the two sockets' kernel buffers, a few MB on loopback.
        expect(held.spilledBytes).toBeGreaterThan(4 * 1024 * 1024);
        expect(held.bufferedBytes).toBeLessThanOrEqual(HIGH_WATER_MARK + 512 * 1024);

        const received = createHash('sha256');
        await pipeline(
          stream,
          new Writable({
            highWaterMark: 16 * 1024,
            write(chunk: Buffer, _, done) {
              received.update(chunk);
              setImmediate(done);
            },
          }),
        );
        const expected = createHash('sha256').update('g,hash,text\n');
        for (let g = 1; g <= rows; g++) {
          const hash = createHash('md5').update(String(g)).digest('hex');
          expected.update(`${g},${hash},${String.fromCharCode(97 + (g % 26)).repeat(64)}\n`);
        }
        expect(received.digest('hex')).toBe(expected.digest('hex'));
        expect(server.stats()).toMatchObject({ bufferedBytes: 0, spilledBytes: 0 });
        client.release();
      } catch (error) {
        client.release(true);
        throw error;
      }
    });
  });
});
