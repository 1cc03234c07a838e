from odoo import api, fields, models

from odoo.addons.agency_billing import const
from odoo.addons.agency_billing.exceptions import RETRYABLE_ERRORS
from odoo.addons.queue_job.exception import RetryableJobError
from odoo.addons.queue_job.job import identity_exact

from .agency_billing_batch import CHANNEL

# the closing job comes again this many seconds later while a batch of the run is being billed
CLOSE_AGAIN_SECONDS = 2


class AgencyBillingRun(models.Model):
    _inherit = "agency.billing.run"

    @api.model
    def _dispatch_batches(self, include_main=True):
        """Every batch waiting for a worker becomes a job on the channel root.agency_billing:
        queue_job's runner spreads them over every server, as many at once as the channel's
        capacity (e.g. ``channels = root:4,root.agency_billing:2`` in the ``[queue_job]``
        section of the Odoo configuration)."""
        waiting = self.env["agency.billing.batch"].search(
            [("state", "=", "todo"), ("run_id.state", "in", ["queued", "running"])]
        )
        waiting._agency_without_live_job()._agency_enqueue()

    def _agency_delay_close(self, eta=None):
        """The job that closes this run (one at a time: identity key)."""
        self.ensure_one()
        return self.with_delay(
            channel=CHANNEL,
            identity_key=identity_exact,
            eta=eta,
            description=self.env._("Finish %(run)s when its batches are billed", run=self.name),
        )._agency_job_close()

    def _agency_job_close(self):
        """Finish the run once every batch is billed (or bill what became due meanwhile, in
        new batches, hence new jobs). A batch whose job is still running (it commits after
        this job began) is waited for: this job comes again in a moment."""
        self.ensure_one()
        try:
            self._close_finished_runs(run=self)
        except RETRYABLE_ERRORS as error:
            raise RetryableJobError(str(error), seconds=2, ignore_retry=True) from error
        self._agency_enqueue_new_batches()
        if self.state in (const.RUN_QUEUED, const.RUN_RUNNING):
            todo = self.batch_ids.filtered(lambda batch: batch.state == "todo")
            running = (
                self.env["queue.job"]
                .sudo()
                .search_count(
                    [
                        ("uuid", "in", todo.mapped("agency_job_uuid")),
                        ("state", "=", "started"),
                        # a job "started" for that long died with its server: the workers' cron
                        # (and queue_job's own requeueing) takes over
                        ("date_started", ">", fields.Datetime.subtract(fields.Datetime.now(), hours=1)),
                    ]
                )
            )
            if running:
                self._agency_delay_close(eta=CLOSE_AGAIN_SECONDS)
        return self.state

    def _agency_enqueue_new_batches(self):
        """Jobs for the batches of these runs that have none yet (clients another run held,
        what became due meanwhile). Only the run's own new batches: a job never scans every
        batch (the billing workers' cron catches a job lost with its server)."""
        self.env["agency.billing.batch"].search(
            [("run_id", "in", self.ids), ("state", "=", "todo"), ("agency_job_uuid", "=", False)]
        )._agency_enqueue()

    @api.model
    def _cron_work_on_batches(self):
        # the jobs do the work: the billing workers only finish the runs whose batches are all
        # billed (had a server died before a run's last job) and make jobs of batches that have none
        self._close_finished_runs()
        self._dispatch_batches()
        return True

    @api.model
    def _cron_bill_due_items(self):
        # plans today's runs and makes jobs of their batches (_dispatch_batches);
        # the billing itself is the jobs'
        return super(
            AgencyBillingRun, self.with_context(agency_billing_no_cron_work=True)
        )._cron_bill_due_items()
