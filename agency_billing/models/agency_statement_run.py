import logging
import time
from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.fields import Command

from .. import documents

_logger = logging.getLogger(__name__)


class AgencyStatementRun(models.Model):
    """Statements for many clients, made and emailed in the background.

    "Send Statements" and the monthly schedule queue a run; the cron job
    ``_cron_send_statements`` works through it in committed batches (a
    stopped job loses at most one batch and the next one resumes), and the
    run shows how far it got.
    """

    _name = "agency.statement.run"
    _description = "Statement Run"
    _inherit = ["mail.thread"]
    _order = "id desc"

    name = fields.Char(required=True, readonly=True, default="/", copy=False)
    company_id = fields.Many2one(
        "res.company", required=True, readonly=True, index=True, default=lambda self: self.env.company
    )
    date_from = fields.Date(string="From", required=True, readonly=True)
    date_to = fields.Date(string="To", required=True, readonly=True)
    trigger = fields.Selection(documents.RUN_TRIGGERS, required=True, readonly=True, default="manual")
    user_id = fields.Many2one(
        "res.users", string="Started By", readonly=True, default=lambda self: self.env.user
    )
    state = fields.Selection(documents.RUN_STATES, default=documents.RUN_QUEUED, required=True, readonly=True)
    partner_ids = fields.Many2many("res.partner", string="Clients", readonly=True)
    statement_ids = fields.One2many("agency.statement", "run_id", string="Statements", readonly=True)
    client_count = fields.Integer(string="Number of Clients", readonly=True)
    done_count = fields.Integer(string="Done", readonly=True)
    sent_count = fields.Integer(string="Sent", readonly=True)
    no_email_count = fields.Integer(string="Without Email", readonly=True)
    error_count = fields.Integer(string="Errors", readonly=True)
    progress = fields.Float(compute="_compute_progress", help="Share of the clients done, in percent.")
    date_started = fields.Datetime(string="Started", readonly=True)
    date_finished = fields.Datetime(string="Finished", readonly=True)
    duration = fields.Float(string="Duration (s)", readonly=True, digits=(16, 1))

    @api.depends("done_count", "client_count")
    def _compute_progress(self):
        for run in self:
            run.progress = 100.0 * run.done_count / run.client_count if run.client_count else 0.0

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            if vals.get("name", "/") == "/":
                vals["name"] = self.env["ir.sequence"].next_by_code("agency.statement.run") or "/"
        return super().create(vals_list)

    # ------------------------------------------------------------------
    # PUBLIC API
    # ------------------------------------------------------------------
    @api.model
    def _queue(self, partners, company, date_from, date_to, trigger="manual"):
        """A run for these clients, started at once by the cron job. Returns it."""
        self.env["agency.statement"]._check_period(date_from, date_to)
        clients = partners.commercial_partner_id
        if not clients:
            raise UserError(self.env._("Pick at least one client to send a statement to."))
        run = self.create(
            {
                "company_id": company.id,
                "date_from": date_from,
                "date_to": date_to,
                "trigger": trigger,
                "partner_ids": [Command.set(clients.ids)],
                "client_count": len(clients),
            }
        )
        self.env.ref("agency_billing.ir_cron_send_statements").sudo()._trigger()
        return run

    def action_cancel(self):
        for run in self:
            if run.state not in (documents.RUN_QUEUED, documents.RUN_RUNNING):
                raise UserError(self.env._("Only a run that has not finished can be cancelled."))
        self._finish(state=documents.RUN_CANCELLED)
        return True

    def action_view_statements(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("agency_billing.agency_statement_action")
        action["domain"] = [("run_id", "=", self.id)]
        action["context"] = {"create": False}
        return action

    # ------------------------------------------------------------------
    # CRON
    # ------------------------------------------------------------------
    @api.model
    def _cron_send_statements(self):
        """Queue the scheduled statements that are due, then work through the
        queued runs, one committed batch at a time."""
        Cron = self.env["ir.cron"]
        self._queue_scheduled()
        Cron._commit_progress()
        for run in self.search([("state", "in", [documents.RUN_QUEUED, documents.RUN_RUNNING])], order="id"):
            if not run.try_lock_for_update(allow_referencing=True):
                continue  # another worker has it
            if run.state == documents.RUN_QUEUED:
                run.write({"state": documents.RUN_RUNNING, "date_started": fields.Datetime.now()})
            batch_size = run._get_batch_size()
            todo = run._todo_partner_ids()
            Cron._commit_progress(remaining=len(todo))
            if not run._relock():
                continue
            while todo:
                partners = self.env["res.partner"].browse(todo[:batch_size])
                run._process(partners)
                todo = todo[batch_size:]
                if not todo:
                    run._finish()
                time_left = Cron._commit_progress(len(partners), remaining=len(todo))
                if todo and time_left <= 0:
                    return
                # the commit released the run: take it again, unless another
                # worker did or somebody cancelled it meanwhile
                if todo and not run._relock():
                    break
            if run.state == documents.RUN_RUNNING and not run._todo_partner_ids():
                run._finish()
                Cron._commit_progress()

    @api.model
    def _queue_scheduled(self):
        """One run per company and period for the clients whose statement day has come."""
        today = fields.Date.context_today(self)
        Partner = self.env["res.partner"]
        for company in self.env["res.company"].search([]):  # pylint: disable=no-search-all
            scheduled = Partner.with_company(company).search(
                [
                    ("agency_statement_frequency", "=", documents.STATEMENT_MONTHLY),
                    ("parent_id", "=", False),
                ]
            )
            by_period = {}
            for partner in scheduled:
                day = partner.agency_statement_day or 1
                next_date = partner.agency_statement_next_date
                if not next_date:
                    partner.agency_statement_next_date = documents.next_statement_date(day, today)
                    continue
                if next_date > today:
                    continue
                # the most recent statement day: days missed are caught up once
                period = documents.statement_period(day, documents.last_statement_date(day, today))
                by_period[period] = by_period.get(period, Partner) | partner
                partner.agency_statement_next_date = documents.next_statement_date(
                    day, today + timedelta(days=1)
                )
            for (date_from, date_to), partners in by_period.items():
                self.with_company(company).create(
                    {
                        "company_id": company.id,
                        "date_from": date_from,
                        "date_to": date_to,
                        "trigger": "schedule",
                        "partner_ids": [Command.set(partners.ids)],
                        "client_count": len(partners),
                        "user_id": self.env.user.id,
                    }
                )

    # ------------------------------------------------------------------
    # ONE BATCH
    # ------------------------------------------------------------------
    def _get_batch_size(self):
        value = self.env["ir.config_parameter"].sudo().get_param(documents.PARAM_STATEMENT_BATCH_SIZE)
        try:
            return max(int(value), 1) if value else documents.DEFAULT_STATEMENT_BATCH_SIZE
        except ValueError:
            return documents.DEFAULT_STATEMENT_BATCH_SIZE

    def _todo_partner_ids(self):
        """The run's clients without a statement yet, in a stable order."""
        self.ensure_one()
        self.env["agency.statement"].flush_model(["run_id", "partner_id"])
        self.env.cr.execute(
            """SELECT rel.res_partner_id
                 FROM agency_statement_run_res_partner_rel rel
                WHERE rel.agency_statement_run_id = %s
                  AND NOT EXISTS (SELECT 1 FROM agency_statement s
                                   WHERE s.run_id = rel.agency_statement_run_id
                                     AND s.partner_id = rel.res_partner_id)
                ORDER BY rel.res_partner_id""",
            [self.id],
        )
        return [row[0] for row in self.env.cr.fetchall()]

    def _process(self, partners, timings=None):
        """Make and send the statements of a batch of clients.

        The figures of the whole batch come from one set of queries (the data
        part); then each client's PDF is made and its email queued (the PDF
        part), each under a savepoint: a client that fails gets a statement in
        error with the reason, the others go on.
        ``timings``, when given, gets the seconds of each part added to it.
        """
        self.ensure_one()
        Statement = self.env["agency.statement"].with_company(self.company_id)
        started = time.perf_counter()
        values = Statement._get_statement_values(partners, self.company_id, self.date_from, self.date_to)
        data_done = time.perf_counter()
        counts = {"sent": 0, "no_email": 0, "error": 0}
        for partner in partners:
            try:
                with self.env.cr.savepoint():
                    statement = Statement._make(
                        partner, self.company_id, self.date_from, self.date_to, values[partner.id], run=self
                    )
            except Exception as error:  # one client's failure is recorded, the run goes on
                _logger.info("statement run %s: client %s failed", self.name, partner.id, exc_info=True)
                self.env.invalidate_all()
                message = error.args[0] if isinstance(error, UserError) and error.args else str(error)
                Statement.create(
                    {
                        "partner_id": partner.id,
                        "company_id": self.company_id.id,
                        "date_from": self.date_from,
                        "date_to": self.date_to,
                        "run_id": self.id,
                        "state": documents.STATEMENT_ERROR,
                        "error": message,
                    }
                )
                counts["error"] += 1
                continue
            counts["sent" if statement.state == documents.STATEMENT_SENT else "no_email"] += 1
        self.write(
            {
                "done_count": self.done_count + len(partners),
                "sent_count": self.sent_count + counts["sent"],
                "no_email_count": self.no_email_count + counts["no_email"],
                "error_count": self.error_count + counts["error"],
            }
        )
        if timings is not None:
            timings["data"] = timings.get("data", 0.0) + data_done - started
            timings["pdf"] = timings.get("pdf", 0.0) + time.perf_counter() - data_done

    def _relock(self):
        self.ensure_one()
        if not self.try_lock_for_update(allow_referencing=True):
            return False
        self.invalidate_recordset(["state"])
        return self.state == documents.RUN_RUNNING

    def _finish(self, state=documents.RUN_DONE):
        now = fields.Datetime.now()
        for run in self:
            run.write(
                {
                    "state": state,
                    "date_finished": now,
                    "duration": (now - run.date_started).total_seconds() if run.date_started else 0.0,
                }
            )
