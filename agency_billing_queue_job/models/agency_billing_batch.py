from odoo import api, fields, models

from odoo.addons.agency_billing.exceptions import RETRYABLE_ERRORS
from odoo.addons.queue_job.exception import RetryableJobError
from odoo.addons.queue_job.job import identity_exact

CHANNEL = "root.agency_billing"
LIVE_JOB_STATES = ("wait_dependencies", "pending", "enqueued", "started")
# a job that has not started yet: it runs later, and checks the run after its batch
WAITING_JOB_STATES = ("wait_dependencies", "pending", "enqueued")


class AgencyBillingBatch(models.Model):
    _inherit = "agency.billing.batch"

    agency_job_uuid = fields.Char(string="Job", readonly=True, copy=False, index=True)

    def _agency_enqueue(self):
        """One job per batch (enqueued twice, it is still one job: identity key)."""
        for batch in self:
            job = batch.with_delay(
                channel=CHANNEL,
                identity_key=identity_exact,
                eta=batch.not_before or None,
                description=self.env._(
                    "Bill batch %(sequence)s of %(run)s", sequence=batch.sequence, run=batch.run_id.name
                ),
            )._agency_job_bill()
            batch.agency_job_uuid = job.uuid

    def _agency_without_live_job(self):
        """The batches whose job is not waiting or running (none yet, or it ended without billing)."""
        uuids = [uuid for uuid in self.mapped("agency_job_uuid") if uuid]
        live = set(
            self.env["queue.job"]
            .sudo()
            .search([("uuid", "in", uuids), ("state", "in", LIVE_JOB_STATES)])
            .mapped("uuid")
        )
        return self.filtered(lambda batch: batch.agency_job_uuid not in live)

    def _agency_job_bill(self):
        """The job: claim this batch and bill it, in the job's transaction (queue_job commits it).

        The claim is the same row lock as a cron worker's: a batch billed
        meanwhile (or being billed) by another worker is left alone. A
        concurrent update makes queue_job run the job again in a moment.
        Then the run is closed by a job of its own, once its batches are
        billed (``_agency_enqueue_close``).
        """
        self.ensure_one()
        run = self.run_id
        claimed = self._claim(batch=self, commit=False)
        if claimed:
            try:
                claimed._bill()
            except RETRYABLE_ERRORS as error:
                raise RetryableJobError(str(error), seconds=2, ignore_retry=True) from error
            # clients another run held come back as new batches of this run: jobs of their own
            run._agency_enqueue_new_batches()
        self._agency_enqueue_close()
        if not claimed:
            return "billed, given up, or being billed by another worker"
        return f"billed {claimed.partner_count} clients"

    def _agency_enqueue_close(self):
        """After this batch's job: a job that closes the run, unless a batch of the run still
        waits for its job to start (that job comes after this one and does it).

        Whether a job waits is read in a transaction of its own, so as to see what the
        other jobs committed since this one began. Jobs running at the same time each
        enqueue it (one job: identity key), and the closing job waits for those still
        running (``agency.billing.run._agency_job_close``).
        """
        self.ensure_one()
        run = self.run_id
        with self.env.registry.cursor() as cr:
            cr.execute(
                """SELECT 1 FROM agency_billing_batch b JOIN queue_job j ON j.uuid = b.agency_job_uuid
                    WHERE b.run_id = %s AND b.id != %s AND b.state = 'todo' AND j.state IN %s
                    LIMIT 1""",
                [run.id, self.id, tuple(WAITING_JOB_STATES)],
            )
            waiting = bool(cr.fetchone())
        if not waiting:
            run._agency_delay_close()

    @api.model
    def _work(self, run=None):
        if self.env.context.get("agency_billing_no_cron_work"):
            return True
        return super()._work(run=run)
