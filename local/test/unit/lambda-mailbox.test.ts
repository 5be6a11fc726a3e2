import { EventEmitter } from 'node:events';
import type { ServerResponse } from 'node:http';
import { describe, expect, it } from 'vitest';
import { Mailbox } from '../../src/lambda/mailbox.js';

/** Just enough of a ServerResponse for the mailbox: it listens for 'close' and may answer a replaced poll. */
class FakeResponse extends EventEmitter {
  writableEnded = false;
  status: number | undefined;
  writeHead(status: number): this {
    this.status = status;
    return this;
  }
  end(): this {
    this.writableEnded = true;
    return this;
  }
}

function mailbox(): { box: Mailbox<string>; delivered: [FakeResponse, string][] } {
  const delivered: [FakeResponse, string][] = [];
  const box = new Mailbox<string>((res, event) => delivered.push([res as unknown as FakeResponse, event]));
  return { box, delivered };
}

const asResponse = (res: FakeResponse): ServerResponse => res as unknown as ServerResponse;

describe('Mailbox', () => {
  it('answers a parked next when an event is posted', () => {
    const { box, delivered } = mailbox();
    const res = new FakeResponse();
    box.take(asResponse(res));
    expect(box.waiting).toBe(true);
    box.post('e1');
    expect(delivered).toEqual([[res, 'e1']]);
    expect(box.waiting).toBe(false);
  });

  it('keeps an event posted while nobody waits for the next request', () => {
    const { box, delivered } = mailbox();
    box.post('e1');
    expect(box.queued).toBe(1);
    const res = new FakeResponse();
    box.take(asResponse(res));
    expect(delivered).toEqual([[res, 'e1']]);
    expect(box.queued).toBe(0);
  });

  it('queues the event instead of writing to a poll whose client went away', () => {
    const { box, delivered } = mailbox();
    const gone = new FakeResponse();
    box.take(asResponse(gone));
    gone.emit('close');
    box.post('e1');
    expect(delivered).toEqual([]);
    expect(box.queued).toBe(1);
  });

  it('answers 409 to the older poll when the same party polls twice', () => {
    const { box, delivered } = mailbox();
    const first = new FakeResponse();
    const second = new FakeResponse();
    box.take(asResponse(first));
    box.take(asResponse(second));
    expect(first.status).toBe(409);
    box.post('e1');
    expect(delivered).toEqual([[second, 'e1']]);
  });
});
