"""Run a fake provider on loopback by hand or from a benchmark (issue 17).

    python -m tests.fakes.serve webhook --secret s3cret [--port 0] [--fail 0]

prints ``URL <url>`` on its first line, then serves until killed; on SIGTERM/SIGINT it prints
``ACCEPTED <n>`` (distinct idempotency keys) and ``REQUESTS <n>``. ``bench/notify.py`` can start
it and point ``HALL_SMS_PROVIDER=webhook`` / ``HALL_SMS_WEBHOOK_URL`` at it.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading

from tests.fakes.providers import (
    FakeAliyun,
    FakePushService,
    FakeSmsGateway,
    FakeTencent,
    FakeWechat,
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("provider", choices=["webhook", "aliyun", "tencent", "wechat", "webpush"])
    parser.add_argument("--secret", default="s3cret", help="the webhook gateway's HMAC secret")
    parser.add_argument("--fail", type=int, default=0, help="answer the first N requests 500")
    args = parser.parse_args(argv)
    fake = {
        "webhook": lambda: FakeSmsGateway(args.secret),
        "aliyun": FakeAliyun,
        "tencent": FakeTencent,
        "wechat": FakeWechat,
        "webpush": FakePushService,
    }[args.provider]()
    fake.fail(args.fail)
    print("URL", fake.url + ("/sms" if args.provider == "webhook" else ""), flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    stop.wait()
    fake.close()
    if isinstance(fake, FakeSmsGateway):
        print("ACCEPTED", len(fake.accepted), flush=True)
    print("REQUESTS", len(fake.requests), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
