import fs from 'node:fs';
import { once } from 'node:events';

/**
 * COPY through node-postgres without an extra package: a "submittable" query (the interface
 * pg.Client#query accepts for custom protocol flows, as pg-copy-streams uses) that streams
 * CopyData messages to a file, or a file to the server, with back-pressure.
 */
interface PgConnection {
  query(text: string): void;
  sendCopyFromChunk(chunk: Buffer): void;
  endCopyFrom(): void;
  sendCopyFail(message: string): void;
  stream: NodeJS.ReadableStream & { pause(): void; resume(): void };
}

/** The subset of pg.Client this needs. */
export interface PgClientLike {
  query(submittable: object): unknown;
}

abstract class CopySubmittable {
  callback: ((error: Error | null, rows?: number) => void) | undefined;
  protected error: Error | undefined;
  protected rowCount = 0;
  readonly done: Promise<number>;
  private settle!: (error: Error | null, rows?: number) => void;

  constructor(readonly text: string) {
    this.done = new Promise<number>((resolve, reject) => {
      this.settle = (error, rows) => (error ? reject(error) : resolve(rows ?? 0));
    });
  }

  submit(connection: PgConnection): void {
    connection.query(this.text);
  }

  handleCommandComplete(msg: { text?: string }): void {
    const n = /^COPY (\d+)/.exec(msg.text ?? '');
    if (n) this.rowCount = Number(n[1]);
  }

  handleError(error: Error): void {
    this.error ??= error;
  }

  handleReadyForQuery(): void {
    void this.finish().then(
      () => {
        this.callback?.(this.error ?? null, this.rowCount);
        this.settle(this.error ?? null, this.rowCount);
      },
      (error: Error) => {
        this.callback?.(error);
        this.settle(error);
      },
    );
  }

  protected finish(): Promise<void> {
    return Promise.resolve();
  }

  // Messages a COPY never produces; present because pg may call them on any active query.
  handleRowDescription(): void {}
  handleDataRow(): void {}
  handleEmptyQuery(): void {}
  handlePortalSuspended(): void {}
  handleCopyInResponse(connection: PgConnection): void {
    connection.sendCopyFail('knexsafe: unexpected COPY FROM');
  }
  handleCopyData(_msg: { chunk: Buffer }, _connection: PgConnection): void {}
}

class CopyToFile extends CopySubmittable {
  private readonly out: fs.WriteStream;
  private paused: PgConnection | undefined;

  constructor(text: string, file: string) {
    super(text);
    this.out = fs.createWriteStream(file, { mode: 0o600 });
    this.out.on('error', (error) => this.handleError(error));
  }

  override handleCopyData(msg: { chunk: Buffer }, connection: PgConnection): void {
    // The chunk is a view into the protocol parser's buffer, which it reuses for the next socket
    // reads: a chunk still queued in the file stream would be overwritten. Copy it.
    if (!this.out.write(Buffer.from(msg.chunk)) && !this.paused) {
      this.paused = connection;
      connection.stream.pause();
      this.out.once('drain', () => this.resume());
    }
  }

  private resume(): void {
    const connection = this.paused;
    this.paused = undefined;
    connection?.stream.resume();
  }

  protected override async finish(): Promise<void> {
    // The last CopyData, CommandComplete and ReadyForQuery often arrive in one socket read: a pause
    // taken for that data would never see a 'drain' once the file is ended, and the connection would
    // stop reading for good.
    this.resume();
    this.out.end();
    if (!this.out.closed) await once(this.out, 'close');
  }
}

class CopyFromFile extends CopySubmittable {
  constructor(
    text: string,
    private readonly file: string,
  ) {
    super(text);
  }

  override handleCopyInResponse(connection: PgConnection): void {
    const input = fs.createReadStream(this.file, { highWaterMark: 256 * 1024 });
    input.on('data', (chunk) => connection.sendCopyFromChunk(chunk as Buffer));
    input.on('end', () => connection.endCopyFrom());
    input.on('error', (error) => connection.sendCopyFail(`knexsafe: cannot read ${this.file}: ${error.message}`));
  }
}

/** `COPY (...) TO STDOUT ...` into `file`; resolves to the row count. */
export function copyToFile(client: PgClientLike, sql: string, file: string): Promise<number> {
  const q = new CopyToFile(sql, file);
  client.query(q);
  return q.done;
}

/** `COPY ... FROM STDIN ...` from `file`; resolves to the row count. */
export function copyFromFile(client: PgClientLike, sql: string, file: string): Promise<number> {
  const q = new CopyFromFile(sql, file);
  client.query(q);
  return q.done;
}
