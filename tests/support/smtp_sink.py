#!/usr/bin/env python3
"""A real SMTP server for Redress's sending tests (tests/sending.rs), built on aiosmtpd.

Every message it accepts is saved whole as a file in --dir (written under a temporary name and
renamed, so a reader never sees half a message). With --hold-at N it holds its reply to the Nth
message's data, writes --hold-file so the test knows a message is in flight, and waits for the
client to go away (the test kills it); the message was never accepted, so nothing is kept.
With --refuse-recipients it refuses every recipient the way real servers do, quoting the
address in its reply.

    python3 smtp_sink.py --port 2525 --dir /tmp/received [--hold-at 15 --hold-file /tmp/held]
"""

import argparse
import asyncio
import os
import pathlib
import time
import uuid

from aiosmtpd.smtp import SMTP


class Sink:
    def __init__(self, out: pathlib.Path, hold_at: int, hold_file: str, refuse: bool):
        self.out = out
        self.hold_at = hold_at
        self.hold_file = hold_file
        self.refuse = refuse
        self.count = 0

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.refuse:
            return f"550 5.1.1 <{address}>: Recipient address rejected: user unknown"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.count += 1
        if self.hold_at and self.count == self.hold_at:
            pathlib.Path(self.hold_file).write_text("holding\n")
            # aiosmtpd cancels this when the client's connection is lost.
            await asyncio.Event().wait()
        data = envelope.original_content or envelope.content
        if isinstance(data, str):
            data = data.encode("utf-8")
        name = f"{time.time_ns()}-{uuid.uuid4().hex}.eml"
        temporary = self.out / f".{name}.tmp"
        temporary.write_bytes(data)
        os.replace(temporary, self.out / name)
        return "250 OK: kept"


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--dir", required=True)
    parser.add_argument("--hold-at", type=int, default=0)
    parser.add_argument("--hold-file", default="")
    parser.add_argument("--refuse-recipients", action="store_true")
    args = parser.parse_args()
    out = pathlib.Path(args.dir)
    out.mkdir(parents=True, exist_ok=True)
    handler = Sink(out, args.hold_at, args.hold_file, args.refuse_recipients)
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: SMTP(handler, hostname="sink.test"), host=args.host, port=args.port
    )
    print(f"listening on {args.host}:{args.port}", flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main())
