/**
 * The ZeroMQ harvester: a PULL socket (fed by PUSH peers) or a SUB socket
 * (subscribed to everything its PUB peers publish), bound or connected to
 * an endpoint; each message's last frame is a line. The `zeromq` package is
 * loaded only when such a harvester is configured (it carries a native
 * addon, prebuilt for this platform).
 *
 * @module
 */

/** How the socket is made. */
export interface ZeromqOptions {
  readonly endpoint: string;
  readonly socketType: "PULL" | "SUB";
  /** Bind the endpoint (else connect to it). */
  readonly bind: boolean;
}

/**
 * Receives messages into `take` until the returned stop is called.
 *
 * @throws {Error} when the endpoint cannot be bound or connected.
 */
export async function listenZeromq(
  o: ZeromqOptions,
  take: (text: string) => Promise<void> | undefined,
): Promise<() => Promise<void>> {
  const zmq = await import("zeromq");
  const socket = o.socketType === "PULL" ? new zmq.Pull() : new zmq.Subscriber();
  if (socket instanceof zmq.Subscriber) socket.subscribe();
  if (o.bind) await socket.bind(o.endpoint);
  else socket.connect(o.endpoint);
  const decoder = new TextDecoder();
  const receiving = (async () => {
    for await (const frames of socket) {
      const last = frames.at(-1);
      if (last) await take(decoder.decode(last));
    }
  })().catch(() => {}); // closed
  return async () => {
    socket.close();
    await receiving;
  };
}
