"""An Odoo server for tests/test_faults.py: `odoo-bin` itself, with a pause the test kills it in.

AGENCY_FAULT_PAUSE_AT="<point>:<n>" stops the server (it sleeps, for the test
to `kill -9` it) the n-th time its workers reach <point>, after writing the
file AGENCY_FAULT_MARKER:

- creating: invoices of a batch created, not committed;
- posting:  invoices of a batch posted, not committed;
- committed: a batch committed, the next not claimed yet.

AGENCY_FAULT_PAUSE_SECONDS makes it a pause of that long instead (the test
restarts PostgreSQL meanwhile). Without AGENCY_FAULT_PAUSE_AT it is a plain
server. Nothing of this is in the addon.
"""

import os
import sys
import threading
import time

POINT, _, NTH = (os.environ.get("AGENCY_FAULT_PAUSE_AT") or "::").partition(":")
MARKER = os.environ.get("AGENCY_FAULT_MARKER")
PAUSE = float(os.environ.get("AGENCY_FAULT_PAUSE_SECONDS") or 3600)
_counts = {}
_lock = threading.Lock()


def _maybe_pause(point):
    if point != POINT:
        return
    with _lock:
        _counts[point] = _counts.get(point, 0) + 1
        if _counts[point] != int(NTH):
            return
    with open(MARKER, "w", encoding="utf-8") as marker:
        marker.write(f"{point} {os.getpid()}\n")
    time.sleep(PAUSE)  # until killed, or until the test has restarted PostgreSQL


def main():
    import odoo.cli.server
    from odoo.modules.module import initialize_sys_path
    from odoo.tools import config

    config.parse_config(sys.argv[1:], setup_logging=True)
    initialize_sys_path()
    from odoo.addons.agency_billing.models.account_move import AccountMove
    from odoo.addons.base.models.ir_cron import IrCron

    create, post, progress = (
        AccountMove._agency_create_invoices,
        AccountMove._agency_post,
        IrCron._commit_progress,
    )

    def creating(self, vals_list):
        result = create(self, vals_list)
        _maybe_pause("creating")
        return result

    def posting(self, fast=None):
        result = post(self, fast=fast)
        _maybe_pause("posting")
        return result

    def committed(self, processed=0, **kwargs):
        result = progress(self, processed, **kwargs)
        cron = self.env["ir.cron"].browse(self.env.context.get("cron_id"))
        if processed and cron and "billing" in (cron.name or "").lower():
            _maybe_pause("committed")
        return result

    AccountMove._agency_create_invoices = creating
    AccountMove._agency_post = posting
    IrCron._commit_progress = committed
    odoo.cli.server.main(sys.argv[1:])


if __name__ == "__main__":
    main()
