from odoo import api, models

from odoo.addons.agency_billing.exceptions import RETRYABLE_ERRORS
from odoo.addons.queue_job.exception import RetryableJobError


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

    def _agency_job_close(self):
        """The job after each batch's: finish the run once every batch is billed (or bill what
        became due meanwhile, in new batches, hence new jobs)."""
        self.ensure_one()
        try:
            self._close_finished_runs(run=self)
        except RETRYABLE_ERRORS as error:
            raise RetryableJobError(str(error), seconds=2, ignore_retry=True) from error
        self._agency_enqueue_new_batches()
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
