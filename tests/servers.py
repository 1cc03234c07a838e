"""Real Odoo servers for the tests that need them (tests/test_faults.py, tests/test_queue_job.py).

A server is `odoo-bin` itself, started through tests/faults/serve.py (which
can pause it at a point of the billing, for a test to kill it there).
"""

import os
import signal
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager

SERVE = os.path.join(os.path.dirname(__file__), "faults", "serve.py")
WAIT_SECONDS = 300


class Server:
    """An Odoo server process on a database: cron threads, no HTTP (unless ``extra_args`` give a port)."""

    def __init__(
        self,
        dbname,
        *,
        cron_threads=1,
        pause_at=None,
        pause_seconds=None,
        extra_args=(),
        config=None,
        environ=None,
    ):
        self.workdir = tempfile.mkdtemp(prefix="agency-fault-")
        self.marker = os.path.join(self.workdir, "paused")
        self.logfile = os.path.join(self.workdir, "odoo.log")
        env = dict(os.environ, AGENCY_FAULT_MARKER=self.marker, **(environ or {}))
        env.pop("AGENCY_FAULT_PAUSE_AT", None)
        if pause_at:
            env["AGENCY_FAULT_PAUSE_AT"] = pause_at
        if pause_seconds:
            env["AGENCY_FAULT_PAUSE_SECONDS"] = str(pause_seconds)
        self.process = subprocess.Popen(
            [
                sys.executable,
                SERVE,
                "-c",
                config or os.environ["AGENCY_BILLING_ODOO_CONF"],
                "-d",
                dbname,
                *(() if "--http-port" in " ".join(extra_args) else ("--no-http",)),
                f"--max-cron-threads={cron_threads}",
                "--log-level=warn",
                f"--logfile={self.logfile}",
                *extra_args,
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
        )

    @property
    def pid(self):
        return self.process.pid

    def wait_paused(self, timeout=WAIT_SECONDS):
        deadline = time.monotonic() + timeout
        while not os.path.exists(self.marker):
            assert self.process.poll() is None, f"the server stopped: {self.log()}"
            assert time.monotonic() < deadline, f"the server never reached its pause: {self.log()}"
            time.sleep(0.2)

    def kill(self):
        os.kill(self.pid, signal.SIGKILL)
        self.process.wait(timeout=30)

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()

    def log(self):
        try:
            with open(self.logfile, encoding="utf-8") as log:
                return log.read()[-3000:]
        except OSError:
            return ""


@contextmanager
def servers(*specs):
    started = []
    try:
        for spec in specs:
            started.append(Server(**spec))
        yield started
    finally:
        for server in started:
            server.stop()
