"""A local HTTP sink on 127.0.0.1 that answers `200 OK` to everything and timestamps each arrival.

Run as its own process (`python -m bench.sink`, it prints its port), so it does not share a GIL with what it
measures. Keep-alive HTTP/1.1 over an asyncio protocol.

- any request: answered at once, its arrival time (`time.monotonic()`, system-wide on Linux) recorded under its
  path; for paths under `/mark/` the urlencoded `text` field is recorded too;
- `GET /_stats?path=P`: `{"times": [...]}` for path P;
- `GET /_wait?text=T&timeout=S`: waits until a message with text T has arrived under `/mark/`, answers its
  arrival time (`{"time": t}`, or `{"time": null}` after S seconds).
"""

import argparse
import asyncio
import json
import subprocess
import sys
import time
from collections import defaultdict
from urllib.parse import parse_qs, urlsplit

import httpx

from bench.harness import ROOT

OK = b"OK"


class Sink:
    """What arrived: times per path, and the first arrival of each marked text."""

    def __init__(self):
        self.times: dict[str, list[float]] = defaultdict(list)
        self.marks: dict[str, float] = {}

    def record(self, path: str, body: bytes, arrived: float) -> None:
        self.times[path].append(arrived)
        if path.startswith("/mark/"):
            text = parse_qs(body.decode()).get("text", [""])[-1]
            self.marks.setdefault(text, arrived)

    async def control(self, path: str, query: dict) -> bytes:
        if path == "/_stats":
            return json.dumps({"times": self.times.get(query.get("path", ""), [])}).encode()
        deadline = time.monotonic() + float(query.get("timeout", "10"))
        while query["text"] not in self.marks and time.monotonic() < deadline:
            await asyncio.sleep(0.001)
        return json.dumps({"time": self.marks.get(query["text"])}).encode()


class SinkProtocol(asyncio.Protocol):
    """Just enough HTTP/1.1 for keep-alive clients that send a Content-Length (httpx does): a sink must never be
    the bottleneck, and a general parser (h11) costs several times more CPU a request than this."""

    def __init__(self, sink: Sink):
        self.sink = sink
        self.buffer = bytearray()
        # The event loop keeps only weak references to tasks: hold the running control requests until they finish.
        self.controls: set[asyncio.Future] = set()

    def connection_made(self, transport):
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        arrived = time.monotonic()
        self.buffer += data
        while (end := self.buffer.find(b"\r\n\r\n")) >= 0:
            lines = bytes(self.buffer[:end]).decode("latin-1").split("\r\n")
            length = 0
            for line in lines[1:]:
                name, _, value = line.partition(":")
                if name.strip().lower() == "content-length":
                    length = int(value)
            if len(self.buffer) < end + 4 + length:
                return  # the rest of the body is still on its way
            body = bytes(self.buffer[end + 4 : end + 4 + length])
            del self.buffer[: end + 4 + length]
            url = urlsplit(lines[0].split(" ")[1])
            if url.path.startswith("/_"):
                query = {key: values[-1] for key, values in parse_qs(url.query).items()}
                control = asyncio.ensure_future(self._control(url.path, query))
                self.controls.add(control)
                control.add_done_callback(self.controls.discard)
            else:
                self.sink.record(url.path, body, arrived)
                self._respond(OK)

    async def _control(self, path: str, query: dict) -> None:
        self._respond(await self.sink.control(path, query))

    def _respond(self, body: bytes) -> None:
        if not self.transport.is_closing():
            head = f"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {len(body)}\r\n\r\n"
            self.transport.write(head.encode() + body)


class RunningSink:
    """The sink as a child process, for the duration of a `with` block."""

    def __enter__(self) -> "RunningSink":
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bench.sink"], cwd=ROOT, stdout=subprocess.PIPE, text=True
        )
        self.url = f"http://127.0.0.1:{int(self.process.stdout.readline())}"
        self.client = httpx.Client(base_url=self.url, timeout=60)
        return self

    def __exit__(self, *exc) -> None:
        self.client.close()
        self.process.terminate()
        self.process.wait(timeout=10)

    def times(self, path: str) -> list[float]:
        return self.client.get("/_stats", params={"path": path}).json()["times"]

    def wait_for(self, text: str, timeout: float = 10) -> float | None:
        """When a message with this text arrived under /mark/ (monotonic clock), or None if not within `timeout`."""
        return self.client.get("/_wait", params={"text": text, "timeout": timeout}).json()["time"]


async def main(port: int) -> None:
    sink = Sink()
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: SinkProtocol(sink), "127.0.0.1", port, backlog=1024)
    print(server.sockets[0].getsockname()[1], flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=0)
    try:
        asyncio.run(main(parser.parse_args().port))
    except KeyboardInterrupt:
        sys.exit(0)
