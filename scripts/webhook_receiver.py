#!/usr/bin/env python3
"""A webhook receiver for trying the API on a laptop: listens on 127.0.0.1, verifies every
delivery with the Standard Webhooks reference library (`standardwebhooks`), answers 204 and
prints each event as one JSON line; a delivery whose signature does not verify gets 401.

    WEBHOOK_SECRET=whsec_... .cache/venv/bin/python scripts/webhook_receiver.py --port 8099

--count N stops after N events, --timeout S after S seconds (exit 1 if --count was not reached).
"""

from __future__ import annotations

import argparse
import http.server
import json
import os
import sys
import threading

from standardwebhooks.webhooks import Webhook, WebhookVerificationError


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--port", type=int, default=8099)
    ap.add_argument("--secret", default=os.environ.get("WEBHOOK_SECRET"), help="default: $WEBHOOK_SECRET")
    ap.add_argument("--count", type=int, default=0, help="stop after this many events (0: never)")
    ap.add_argument("--timeout", type=float, default=0, help="stop after this many seconds (0: never)")
    args = ap.parse_args()
    if not args.secret:
        ap.error("give --secret or WEBHOOK_SECRET (the subscription's whsec_... secret)")
    verifier = Webhook(args.secret)
    received: list[dict] = []
    done = threading.Event()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server's name)
            body = self.rfile.read(int(self.headers.get("content-length") or 0))
            try:
                event = verifier.verify(body, dict(self.headers))
            except WebhookVerificationError:
                self.send_response(401)
                self.end_headers()
                return
            self.send_response(204)
            self.end_headers()
            received.append(event)
            print(json.dumps(event), flush=True)
            if args.count and len(received) >= args.count:
                done.set()

        def log_message(self, *_: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    finished = done.wait(args.timeout or None)
    server.shutdown()
    return 0 if finished or not args.count else 1


if __name__ == "__main__":
    sys.exit(main())
