import logging
import os
import socket
import threading
import time

from odoo import api, fields, models
from odoo.tools import SQL

from .. import const
from ..exceptions import RETRYABLE_ERRORS

_logger = logging.getLogger(__name__)


class AgencyBillingBatch(models.Model):
    """A batch of clients of a billing run: what one worker claims, bills and commits.

    Any number of workers (cron threads of any server on the database, or
    queue_job jobs) bill the batches of a run in parallel. A worker claims a
    batch by locking its row (``FOR NO KEY UPDATE SKIP LOCKED``) for as long as
    it bills it: a batch is billed by one worker at a time, and a worker that
    dies, or loses the database, lets go of it when PostgreSQL rolls its
    transaction back; the batch is then claimed again. Every claim is
    recorded apart (``agency.billing.batch.claim``, its own transaction), so
    a batch that keeps failing is given up after ``MAX_BATCH_CLAIMS`` claims,
    its clients logged, instead of being retried for ever.
    """

    _name = "agency.billing.batch"
    _description = "Billing Run Batch"
    _order = "run_id, sequence, id"

    run_id = fields.Many2one(
        "agency.billing.run", required=True, index=True, ondelete="cascade", readonly=True
    )
    company_id = fields.Many2one(related="run_id.company_id", store=True)
    sequence = fields.Integer(readonly=True)
    state = fields.Selection(
        [
            ("todo", "To Bill"),
            ("done", "Billed"),
            ("failed", "Given Up"),
            ("cancel", "Not Billed (run stopped)"),
        ],
        default="todo",
        required=True,
        readonly=True,
        index=True,
    )
    partner_ids = fields.Many2many(
        "res.partner",
        "agency_billing_batch_partner_rel",
        "batch_id",
        "partner_id",
        string="Clients",
        readonly=True,
        # an archived client stays in its batch (the run logs why it was not billed)
        context={"active_test": False},
    )
    partner_count = fields.Integer(string="Clients", readonly=True)
    is_retry = fields.Boolean(readonly=True, help="Clients another run held when their first batch came.")
    not_before = fields.Datetime(readonly=True, help="Not claimed before this time (a retry waits a little).")
    worker = fields.Char(readonly=True, help="The server process that billed it.")
    date_done = fields.Datetime(readonly=True)
    duration = fields.Float(string="Duration (s)", readonly=True, digits=(16, 2))
    invoice_count = fields.Integer(readonly=True)
    line_count = fields.Integer(readonly=True)
    item_count = fields.Integer(readonly=True)
    timesheet_count = fields.Integer(readonly=True)
    client_count = fields.Integer(readonly=True)
    claim_ids = fields.One2many("agency.billing.batch.claim", "batch_id", readonly=True)

    # ------------------------------------------------------------------
    # WORK (any worker: a cron thread or a job)
    # ------------------------------------------------------------------
    @api.model
    def _work(self, run=None):
        """Claim and bill batches (of ``run`` only, if given) until none is left or the cron's time is up.

        Returns False when the cron's time is up with work left (Odoo then
        calls the job again).
        """
        Cron = self.env["ir.cron"]
        Cron._commit_progress()  # a fresh snapshot: the batches other workers planned
        while True:
            batch = self._claim(run=run)
            if not batch:
                if self.env["agency.billing.run"]._close_finished_runs(run=run):
                    Cron._commit_progress()
                    continue
                wait = self._seconds_to_next_batch(run)
                if wait is None:
                    return True
                # clients another run held come back in a moment: wait for them
                time.sleep(min(max(wait, 0.1), const.HELD_CLIENT_RETRY_SECONDS))
                Cron._commit_progress()  # a fresh snapshot
                continue
            try:
                batch._bill()
            except RETRYABLE_ERRORS:
                # a concurrent transaction changed what this batch read: nothing
                # of it is kept; it is claimed again from a fresh snapshot
                _logger.info("billing batch %s: retried after a concurrent update", batch.id)
                self.env.cr.rollback()
                self.env.invalidate_all()
                continue
            time_left = Cron._commit_progress(batch.partner_count, remaining=self._count_todo(run))
            if time_left <= 0:
                return False

    @api.model
    def _seconds_to_next_batch(self, run=None):
        """Seconds until the next batch waiting to be retried may be claimed, or None.

        By the database's clock, as the claim: the servers' clocks (or a test's frozen
        time) do not matter."""
        scope = SQL("AND b.run_id = %s", run.id) if run else SQL("")
        [[seconds]] = self.env.execute_query(
            SQL(
                """SELECT EXTRACT(EPOCH FROM min(b.not_before) - (clock_timestamp() AT TIME ZONE 'UTC'))
                     FROM agency_billing_batch b JOIN agency_billing_run r ON r.id = b.run_id
                    WHERE b.state = 'todo' AND b.not_before IS NOT NULL
                      AND r.state IN ('queued', 'running') AND r.is_stop_requested IS NOT TRUE %s""",
                scope,
            )
        )
        return None if seconds is None else float(seconds)

    @api.model
    def _count_todo(self, run=None):
        domain = [("state", "=", "todo")] + ([("run_id", "=", run.id)] if run else [])
        return self.search_count(domain)

    @api.model
    def _claim(self, run=None, batch=None, commit=True):
        """Lock the next batch to bill (of ``run``, or ``batch`` itself), or return an empty recordset.

        The lock is the claim: it lasts until the batch is committed (or the
        worker's transaction is lost), and every other worker skips the row.
        A batch given up is committed at once, unless ``commit`` is False (a
        queue_job job, which its runner commits).
        """
        self.env.invalidate_all()
        scope = SQL("")
        if batch:
            scope = SQL("AND b.id = %s", batch.id)
        elif run:
            scope = SQL("AND b.run_id = %s", run.id)
        query = SQL(
            """SELECT b.id FROM agency_billing_batch b JOIN agency_billing_run r ON r.id = b.run_id
                WHERE b.state = 'todo' AND r.state IN ('queued', 'running') AND r.is_stop_requested IS NOT TRUE
                  AND (b.not_before IS NULL OR b.not_before <= (clock_timestamp() AT TIME ZONE 'UTC'))
                  %s
             ORDER BY b.run_id, b.sequence, b.id
                LIMIT 1
                  FOR NO KEY UPDATE OF b SKIP LOCKED""",
            scope,
        )
        rows = self.env.execute_query(query)
        if not rows:
            return self.browse()
        claimed = self.browse(rows[0][0])
        claims = claimed._record_claim()
        if claims > const.MAX_BATCH_CLAIMS:
            claimed._give_up(claims)
            if not commit:
                return self.browse()
            self.env["ir.cron"]._commit_progress()  # given up for good, whatever comes next
            return self.browse() if batch else self._claim(run=run)
        return claimed

    def _record_claim(self):
        """Note the claim in a transaction of its own (kept whatever becomes of the batch); returns
        how many times the batch was claimed."""
        self.ensure_one()
        with self.env.registry.cursor() as cr:
            cr.execute(
                "INSERT INTO agency_billing_batch_claim (batch_id, worker, date_claimed) "
                "VALUES (%s, %s, now() AT TIME ZONE 'UTC')",
                [self.id, self._worker_name()],
            )
            cr.execute("SELECT count(*) FROM agency_billing_batch_claim WHERE batch_id = %s", [self.id])
            return cr.fetchone()[0]

    @api.model
    def _worker_name(self):
        """Which worker: the server, its process and its thread (a cron thread is a worker)."""
        return f"{socket.gethostname()}:{os.getpid()}/{threading.current_thread().name}"

    def _give_up(self, claims):
        """A batch claimed too many times without being billed: its clients are logged, not retried."""
        self.ensure_one()
        run = self.run_id
        message = self.env._(
            "Not billed: this client's batch failed %(count)s times (the billing was interrupted each time). "
            "The next run bills it.",
            count=claims - 1,
        )
        for partner in self.partner_ids:
            run._log(partner, "error", message)
        self.write({"state": "failed", "date_done": fields.Datetime.now(), "worker": self._worker_name()})

    def _bill(self):
        """Bill the clients of this claimed batch (each all or nothing) and mark it done, in its transaction."""
        self.ensure_one()
        run = self.run_id
        started = time.monotonic()
        if run.state == const.RUN_QUEUED:
            run.state = const.RUN_RUNNING
        held = run._bill_partners(self.partner_ids, batch_record=self)
        if held:
            # another run holds them: tried again in a moment, once it is done with them
            run._retry_or_give_up(held)
        self.write(
            {
                "state": "done",
                "date_done": fields.Datetime.now(),
                "duration": time.monotonic() - started,
                "worker": self._worker_name(),
            }
        )

    def _add_counts(self, counts):
        self.ensure_one()
        self.write({name: self[name] + value for name, value in counts.items() if name in self._fields})


class AgencyBillingBatchClaim(models.Model):
    """When, and by which worker, a batch was claimed (see agency.billing.batch)."""

    _name = "agency.billing.batch.claim"
    _description = "Billing Run Batch Claim"
    _log_access = False
    _order = "id"

    batch_id = fields.Many2one("agency.billing.batch", required=True, index=True, ondelete="cascade")
    worker = fields.Char()
    date_claimed = fields.Datetime(string="Claimed")
