import logging
from collections import defaultdict

import psycopg2.errors

from odoo import api, fields, models, tools
from odoo.exceptions import AccessError, UserError
from odoo.fields import Command
from odoo.tools import SQL

from .. import const
from ..charges import BillingBatch
from ..exceptions import RETRYABLE_ERRORS, BillingError

_logger = logging.getLogger(__name__)


class AgencyBillingRun(models.Model):
    """One billing run: what it billed, what it skipped and why.

    The chain, each step overridable:

    - entry points: ``_cron_bill_due_items`` (the daily cron job, which also
      carries out the runs users hand to the background), ``_run_now`` (a run
      started by a user: in the request when it is one batch, else in the
      background), ``_preview`` (a run rolled back);
    - ``_plan_batches``: the run's clients in batches, which any number of
      workers claim and bill in parallel, each committed
      (``agency.billing.batch._work``); ``_close_finished_runs`` finishes a
      run when its batches are billed;
    - ``_due_partner_ids``: the clients with something due, from every charge
      source (models inheriting ``agency.charge.source``);
    - ``_bill_partners``: one batch: lock the clients, ask each source for its
      charges, ``_plan_partner_invoices`` (group them into invoices),
      ``_prepare_invoice_vals`` (a plain dict, lines from each charge's source),
      ``_create_and_process`` (account.move ``_agency_create_invoices``,
      ``_agency_post``, sending), then each source's ``_agency_after_invoicing``;
    - ``_log`` / ``_fail_partner``: the run's log.
    """

    _name = "agency.billing.run"
    _description = "Billing Run"
    _inherit = ["mail.thread"]
    _order = "id desc"

    name = fields.Char(required=True, readonly=True, default="/", copy=False)
    company_id = fields.Many2one(
        "res.company", required=True, readonly=True, index=True, default=lambda self: self.env.company
    )
    date = fields.Date(string="Billed Up To", required=True, readonly=True)
    trigger = fields.Selection(const.RUN_TRIGGERS, required=True, readonly=True)
    user_id = fields.Many2one(
        "res.users", string="Started By", readonly=True, default=lambda self: self.env.user
    )
    state = fields.Selection(const.RUN_STATES, default=const.RUN_RUNNING, required=True, readonly=True)
    date_started = fields.Datetime(string="Started", readonly=True, default=fields.Datetime.now)
    date_finished = fields.Datetime(string="Finished", readonly=True)
    duration = fields.Float(string="Duration (s)", readonly=True, digits=(16, 1))
    invoice_ids = fields.One2many("account.move", "agency_billing_run_id", string="Invoices", readonly=True)
    # what the run billed: added up from its batches and its log, which the
    # workers write (never the run's own row, which parallel workers would
    # fight over)
    batch_ids = fields.One2many("agency.billing.batch", "run_id", string="Batches", readonly=True)
    invoice_count = fields.Integer(compute="_compute_counts")
    item_count = fields.Integer(string="Items Billed", compute="_compute_counts")
    line_count = fields.Integer(string="Lines", compute="_compute_counts")
    timesheet_count = fields.Integer(string="Timesheet Entries Billed", compute="_compute_counts")
    client_count = fields.Integer(string="Clients Billed", compute="_compute_counts")
    skipped_count = fields.Integer(string="Clients Skipped", compute="_compute_counts")
    error_count = fields.Integer(string="Errors", compute="_compute_counts")
    partner_done_count = fields.Integer(string="Clients Done", compute="_compute_counts")
    partner_total_count = fields.Integer(string="Clients in All", compute="_compute_counts")
    worker_count = fields.Integer(
        string="Workers", compute="_compute_counts", help="Server processes that billed it."
    )
    progress = fields.Float(compute="_compute_progress", help="Share of the run's clients dealt with.")
    has_unsent_invoices = fields.Boolean(compute="_compute_has_unsent_invoices")
    is_stop_requested = fields.Boolean(string="Stop Requested", readonly=True, copy=False)
    log_ids = fields.One2many("agency.billing.run.log", "run_id", readonly=True)
    scope_partner_ids = fields.Many2many("res.partner", string="Only Clients", readonly=True)
    scope_item_ids = fields.Many2many("agency.billable.item", string="Only Items", readonly=True)
    scope_project_ids = fields.Many2many("project.project", string="Only Projects", readonly=True)
    scope_source = fields.Selection(
        selection="_selection_scope_source",
        string="Only",
        readonly=True,
        help="The only kind of charge this run bills. Empty: everything due.",
    )

    _one_scheduled_run_a_day = models.UniqueIndex(
        "(company_id, date) WHERE trigger = 'cron'",
        "There is already a scheduled billing run for this company and day.",
    )

    # ------------------------------------------------------------------
    # COMPUTE
    # ------------------------------------------------------------------
    @api.depends("batch_ids.state", "batch_ids.invoice_count", "log_ids")
    def _compute_counts(self):
        counters = ("invoice_count", "line_count", "item_count", "timesheet_count", "client_count")
        Batch, Log = self.env["agency.billing.batch"], self.env["agency.billing.run.log"]
        runs = self.filtered("id")
        Batch.flush_model()
        Log.flush_model()
        sums = {
            run.id: values
            for run, *values in Batch._read_group(
                [("run_id", "in", runs.ids)], ["run_id"], [f"{name}:sum" for name in counters]
            )
        }
        sizes = defaultdict(lambda: [0, 0])  # run id: [clients in all, clients done]
        for run, state, size in Batch._read_group(
            [("run_id", "in", runs.ids), ("is_retry", "=", False)], ["run_id", "state"], ["partner_count:sum"]
        ):
            sizes[run.id][0] += size
            if state != "todo":
                sizes[run.id][1] += size
        levels = {
            (run.id, level): count
            for run, level, count in Log._read_group(
                [("run_id", "in", runs.ids)], ["run_id", "level"], ["__count"]
            )
        }
        workers = dict(
            Batch._read_group(
                [("run_id", "in", runs.ids), ("worker", "!=", False)], ["run_id"], ["worker:count_distinct"]
            )
        )
        for run in self:
            values = sums.get(run.id, [0] * len(counters))
            for name, value in zip(counters, values, strict=True):
                run[name] = value
            run.partner_total_count, run.partner_done_count = sizes[run.id]
            run.skipped_count = levels.get((run.id, "skipped"), 0)
            run.error_count = levels.get((run.id, "error"), 0)
            run.worker_count = workers.get(run, 0)

    @api.depends("partner_done_count", "partner_total_count", "state")
    def _compute_progress(self):
        for run in self:
            if run.state in (const.RUN_DONE, const.RUN_STOPPED):
                run.progress = 100.0
            elif run.partner_total_count:
                run.progress = min(100.0, 100.0 * run.partner_done_count / run.partner_total_count)
            else:
                run.progress = 0.0

    def _compute_has_unsent_invoices(self):
        for run in self:
            run.has_unsent_invoices = any(
                move.state == "posted" and not move.is_move_sent
                for move in run.invoice_ids | run.log_ids.move_ids
            )

    @api.model
    def _selection_scope_source(self):
        return [(source._name, source._agency_source_description()) for source in self._get_charge_sources()]

    # ------------------------------------------------------------------
    # CRUD
    # ------------------------------------------------------------------
    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            if self.env.context.get("agency_billing_dry_run"):
                vals["name"] = self.env._("Preview")
            elif vals.get("name", "/") == "/":
                vals["name"] = self.env["ir.sequence"].next_by_code("agency.billing.run") or "/"
        return super().create(vals_list)

    # ------------------------------------------------------------------
    # CRON
    # ------------------------------------------------------------------
    @api.model
    def _cron_bill_due_items(self):
        """The daily billing run of every company: planned into batches, which this job and the
        billing workers then bill in parallel (see agency.billing.batch).

        Works in committed batches; returns with work left when the cron's
        time is up (Odoo then runs it again at once, and the unfinished runs
        are resumed).
        """
        for company in self._get_companies_to_bill():
            run = self._get_cron_run(company)
            if run.state == const.RUN_RUNNING and not run.batch_ids:
                run._plan_daily_run()
                self.env["ir.cron"]._commit_progress()
        self._dispatch_batches(include_main=False)
        return self.env["agency.billing.batch"]._work()

    @api.model
    def _cron_work_on_batches(self):
        """A billing worker: bills the batches of every run, alongside the others."""
        return self.env["agency.billing.batch"]._work()

    @api.model
    def _dispatch_batches(self, include_main=True):
        """Wake the billing workers up: batches are waiting. (queue_job's glue enqueues jobs instead.)"""
        for cron in self._get_worker_crons(include_main=include_main):
            cron._trigger()

    @api.model
    def _get_worker_crons(self, include_main=True):
        """The cron jobs that bill batches: the daily billing job and the billing workers."""
        crons = self.env["ir.cron"].sudo().search([("code", "=", "model._cron_work_on_batches()")])
        if include_main:
            crons |= self.env.ref("agency_billing.ir_cron_bill_due_items", raise_if_not_found=False).sudo()
        return crons.filtered("active")

    @api.model
    def _get_companies_to_bill(self):
        """Companies with something due in any charge source, or a scheduled run to finish."""
        unfinished = self.search([("trigger", "=", "cron"), ("state", "=", const.RUN_RUNNING)]).company_id
        return unfinished | self.env["res.company"].search([("active", "=", True)]).filtered(
            lambda company: any(
                source._agency_due_partner_ids(
                    self.new({"company_id": company.id, "date": self._today(company)})
                )
                for source in self._get_charge_sources()
            )
        )

    @api.model
    def _today(self, company):
        return fields.Date.context_today(self.with_company(company))

    @api.model
    def _get_cron_run(self, company):
        today = self._today(company)
        stale = self.search(
            [
                ("company_id", "=", company.id),
                ("trigger", "=", "cron"),
                ("state", "=", const.RUN_RUNNING),
                ("date", "<", today),
            ]
        )
        for run in stale:
            run._finish(note=self.env._("Interrupted; the next run billed what was left."))
        run = self.search(
            [("company_id", "=", company.id), ("trigger", "=", "cron"), ("date", "=", today)], limit=1
        )
        if run:
            return run
        try:
            with self.env.cr.savepoint():
                return self.with_company(company).create(
                    {"company_id": company.id, "date": today, "trigger": "cron", "user_id": self.env.user.id}
                )
        except psycopg2.errors.UniqueViolation:
            # another worker made today's run meanwhile: it is billing this company
            return self.browse()

    # ------------------------------------------------------------------
    # PUBLIC API (buttons, wizards, RPC)
    # ------------------------------------------------------------------
    @api.model
    def _run_now(
        self, company, date, partners=None, items=None, trigger="manual", *, projects=None, source=None
    ):
        """A run for one company, started by a user. Returns the run.

        One batch of clients is billed at once, in the current transaction;
        more are handed to the billing workers, which bill them in committed
        batches while the run's record shows the progress.
        """
        vals = {"company_id": company.id, "date": date, "trigger": trigger, "scope_source": source}
        if projects:
            vals["scope_project_ids"] = [Command.set(projects.ids)]
        if partners:
            vals["scope_partner_ids"] = [Command.set(partners.ids)]
        if items:
            vals["scope_item_ids"] = [Command.set(items.ids)]
            vals["scope_source"] = "agency.billable.item"
        run = self.with_company(company).create(vals)
        batches = run._plan_batches(run._due_partner_ids())
        if len(batches) > 1 and not self.env.context.get("agency_billing_dry_run"):
            run.state = const.RUN_QUEUED
            self._dispatch_batches()
        else:
            run._bill_now()
        return run

    @api.model
    def _run_for_items(self, items):
        """Invoice the given items now, whatever their invoice action."""
        items = items.filtered(lambda i: i.state == const.STATE_PENDING)
        if not items:
            raise UserError(self.env._("None of the selected items is pending: nothing to invoice."))
        runs = self.browse()
        for company in items.company_id:
            runs |= self._run_now(
                company,
                fields.Date.context_today(self),
                items=items.filtered(lambda i, c=company: i.company_id == c),
                trigger="items",
            )
        return runs

    @api.model
    def _preview(self, company, date, partners=None, source=None, projects=None):
        """What a run would invoice, per client, without writing anything.

        The first ``PREVIEW_FULL_CLIENTS`` clients are billed for real inside a
        savepoint that is then rolled back, so their amounts are Odoo's own
        (taxes, fiscal positions, rounding) and their problems show; the
        others are totalled by Odoo's tax engine from the same invoice values,
        without creating anything, and their lines say so.
        """
        lines = []
        savepoint = self.env.cr.savepoint()  # closed below with a rollback
        try:
            Run = self.with_context(agency_billing_dry_run=True)
            vals = {"company_id": company.id, "date": date, "trigger": "manual", "scope_source": source}
            if partners:
                vals["scope_partner_ids"] = [Command.set(partners.ids)]
            if projects:
                vals["scope_project_ids"] = [Command.set(projects.ids)]
            run = Run.with_company(company).create(vals)
            due = run._due_partner_ids()
            full = self.env["res.partner"].browse(due[: const.PREVIEW_FULL_CLIENTS])
            held = run._bill_partners(full) if full else full
            for move in run.invoice_ids:
                lines.append(run._preview_line(move, "\n".join(move.invoice_line_ids.mapped("name"))))
            for log in run.log_ids:
                if log.level == "billed" and log.move_ids:
                    # charges added to the client's open draft invoice
                    lines += [run._preview_line(move, log.message) for move in log.move_ids]
                elif log.level != "billed":
                    lines.append(
                        {
                            "partner_id": log.partner_id.id,
                            "currency_id": company.currency_id.id,
                            "amount_untaxed": 0.0,
                            "amount_total": 0.0,
                            "line_count": 0,
                            "description": log.message,
                            "level": log.level,
                        }
                    )
            rest = held | self.env["res.partner"].browse(due[const.PREVIEW_FULL_CLIENTS :])
            if rest:
                lines += run._estimate_partners(rest)
        finally:
            savepoint.close(rollback=True)
            self.env.invalidate_all()
        return lines

    def _preview_line(self, move, description):
        automation = self._automation(move.commercial_partner_id)
        return {
            "partner_id": move.commercial_partner_id.id,
            "currency_id": move.currency_id.id,
            "amount_untaxed": move.amount_untaxed,
            "amount_total": move.amount_total,
            "line_count": len(move.invoice_line_ids),
            "description": description,
            "level": "billed",
            "is_posted": automation in (const.AUTOMATION_POST, const.AUTOMATION_SEND),
            "is_sent": automation == const.AUTOMATION_SEND,
        }

    def _estimate_partners(self, partners):
        """Preview lines for clients totalled without billing them (see ``_preview``)."""
        self.ensure_one()
        lines = []
        batch_size = self._get_batch_size() * 10
        for start in range(0, len(partners), batch_size):
            chunk = partners[start : start + batch_size]
            chunk.with_company(self.company_id).fetch(self._estimate_partner_fields())
            batch = self._prepare_batch()
            charges = self._get_charges(batch, chunk)
            vals_list, owners = [], []
            for partner, partner_charges in charges.items():
                for plan in self._plan_partner_invoices(partner, partner_charges):
                    vals_list.append(self._prepare_invoice_vals(partner, plan, batch))
                    owners.append(partner)
            totals = self.env["account.move"]._agency_estimate_totals(vals_list)
            for vals, partner, (untaxed, total) in zip(vals_list, owners, totals, strict=True):
                automation = self._automation(partner)
                lines.append(
                    {
                        "partner_id": partner.id,
                        "currency_id": vals["currency_id"],
                        "amount_untaxed": untaxed,
                        "amount_total": total,
                        "line_count": len(vals["invoice_line_ids"]),
                        "description": self.env._("Totalled, not previewed line by line"),
                        "level": "estimated",
                        "is_posted": automation in (const.AUTOMATION_POST, const.AUTOMATION_SEND),
                        "is_sent": automation == const.AUTOMATION_SEND,
                    }
                )
            if isinstance(self.id, int):
                self.env.invalidate_all()  # memory bounded by the chunk, for previews of big runs
        return lines

    @api.model
    def _estimate_partner_fields(self):
        """The clients' fields that planning and invoice values read, fetched at once for a
        chunk of clients (reading one of them alone fetches every column of a client)."""
        return [
            "type",
            "is_company",
            "parent_id",
            "child_ids",
            "commercial_partner_id",
            "active",
            "lang",
            "country_id",
            "vat",
            "property_account_position_id",
            "property_payment_term_id",
            "billing_group_by_project",
            "billing_automation",
        ]

    @api.model
    def _unbilled_amounts(self, company, date, partners):
        """{client id: untaxed amount in company currency} the next run on ``date`` would invoice.

        The run's own planning and Odoo's tax engine on the same values,
        without billing or writing anything (a run that is never saved).
        """
        run = self.with_company(company).new({"company_id": company.id, "date": date, "trigger": "manual"})
        amounts = dict.fromkeys(partners.ids, 0.0)
        for line in run._estimate_partners(partners):
            currency = self.env["res.currency"].browse(line["currency_id"])
            amounts[line["partner_id"]] += currency._convert(
                line["amount_untaxed"], company.currency_id, company, date
            )
        return amounts

    def _get_result_action(self):
        if len(self) == 1:
            return {
                "type": "ir.actions.act_window",
                "res_model": self._name,
                "res_id": self.id,
                "views": [(False, "form")],
                "target": "current",
            }
        return {
            "type": "ir.actions.act_window",
            "res_model": self._name,
            "domain": [("id", "in", self.ids)],
            "views": [(False, "list"), (False, "form")],
            "name": self.env._("Billing Runs"),
        }

    def action_view_invoices(self):
        self.ensure_one()
        self.check_access("read")
        action = self.env["ir.actions.act_window"]._for_xml_id("account.action_move_out_invoice_type")
        action["domain"] = [("agency_billing_run_id", "=", self.id)]
        action["context"] = {"create": False}
        return action

    def action_stop(self):
        """Stop a run working in the background after the batch it is billing."""
        self.check_access("write")
        for run in self:
            if run.state not in (const.RUN_QUEUED, const.RUN_RUNNING):
                raise UserError(self.env._("The billing run %(run)s is not running.", run=run.name))
        self.write({"is_stop_requested": True})
        return True

    # ------------------------------------------------------------------
    # BATCHES
    # ------------------------------------------------------------------
    def _plan_batches(self, partner_ids, is_retry=False):
        """Cut ``partner_ids`` into batches of the run, to be claimed by the workers."""
        self.ensure_one()
        if not partner_ids:
            return self.env["agency.billing.batch"]
        size = self._get_batch_size()
        last = max(self.batch_ids.mapped("sequence"), default=0)
        not_before = False
        if is_retry:
            # the database's clock: every server (and worker) compares with the same one
            [[not_before]] = self.env.execute_query(
                SQL(
                    "SELECT (clock_timestamp() AT TIME ZONE 'UTC') + make_interval(secs => %s)",
                    const.HELD_CLIENT_RETRY_SECONDS,
                )
            )
        return self.env["agency.billing.batch"].create(
            [
                {
                    "run_id": self.id,
                    "sequence": last + index + 1,
                    "partner_ids": [Command.set(partner_ids[start : start + size])],
                    "partner_count": len(partner_ids[start : start + size]),
                    "is_retry": is_retry,
                    "not_before": not_before,
                }
                for index, start in enumerate(range(0, len(partner_ids), size))
            ]
        )

    def _plan_daily_run(self):
        """Today's scheduled run in batches. Clients another run is billing (e.g. a "Run Billing
        Now" of this morning) come last, once that run is done with them."""
        self.ensure_one()
        due = self._due_partner_ids()
        busy = set(
            self.env["agency.billing.batch"]
            .search(
                [
                    ("state", "=", "todo"),
                    ("run_id", "!=", self.id),
                    ("run_id.company_id", "=", self.company_id.id),
                    ("run_id.state", "in", [const.RUN_QUEUED, const.RUN_RUNNING]),
                ]
            )
            .partner_ids.ids
        )
        free = [partner_id for partner_id in due if partner_id not in busy]
        later = [partner_id for partner_id in due if partner_id in busy]
        self._plan_batches(free)
        self._plan_batches(later, is_retry=True)
        if not due:
            self._finish()

    def _bill_now(self):
        """Bill the run's one batch in this transaction (a web request), then finish the run.

        Clients another run holds are waited for (a little) and billed last;
        what that run billed meanwhile is refused by the database (unique
        indexes) and logged as billed elsewhere.
        """
        self.ensure_one()
        for batch in self.batch_ids.filtered(lambda b: b.state == "todo" and not b.is_retry):
            batch._bill()
        retries = self.batch_ids.filtered(lambda b: b.state == "todo")
        if retries:
            self._bill_held_partners(retries.partner_ids, retries[:1])
            retries.write({"state": "done", "date_done": fields.Datetime.now()})
        self._finish()

    def _bill_held_partners(self, partners, batch_record):
        """In a web request: wait (a little) for the clients another run holds, then bill them."""
        self.env.cr.execute(SQL("SET LOCAL lock_timeout = %s", const.LOCK_WAIT_REQUEST))
        try:
            with self.env.cr.savepoint():
                self.env.cr.execute(
                    SQL(
                        "SELECT id FROM res_partner WHERE id IN %s ORDER BY id FOR NO KEY UPDATE",
                        tuple(partners.ids),
                    )
                )
        except psycopg2.errors.LockNotAvailable:
            for partner in partners:
                self._log(
                    partner,
                    "skipped",
                    self.env._("Another billing run is billing this client right now; it bills what is due."),
                )
            return
        finally:
            self.env.cr.execute(SQL("SET LOCAL lock_timeout = 0"))
        self._bill_partners(partners, batch_record=batch_record)

    @api.model
    def _close_finished_runs(self, run=None):
        """Runs whose batches are all billed (or stopped): bill what became due meanwhile (clients
        another run held), or finish them. Returns whether anything changed. One worker at a time
        closes a run (a row lock); the others go on."""
        domain = [("state", "in", [const.RUN_QUEUED, const.RUN_RUNNING]), ("batch_ids", "!=", False)]
        if run:
            domain.append(("id", "=", run.id))
        changed = False
        for candidate in self.search(domain):
            todo = candidate.batch_ids.filtered(lambda b: b.state == "todo")
            if candidate.is_stop_requested:
                # the batches no worker is billing are dropped; the one being billed ends first
                free = todo.try_lock_for_update(allow_referencing=True)
                if len(free) != len(todo) or not candidate.try_lock_for_update():
                    continue
                free.write({"state": "cancel"})
                candidate._finish(
                    state=const.RUN_STOPPED,
                    note=self.env._("Stopped on request; what was billed before stays billed."),
                )
                changed = True
            elif not todo and candidate.try_lock_for_update():
                due = candidate._due_partner_ids()
                retry = candidate._retry_or_give_up(self.env["res.partner"].browse(due))
                if not retry:
                    candidate._finish()
                changed = True
        return changed

    def _retry_or_give_up(self, partners):
        """Clients another run held (or that became due meanwhile): billed again in a moment, up to
        a point; then logged, for the next run. Returns the batches planned."""
        self.ensure_one()
        if not partners:
            return self.env["agency.billing.batch"]
        counts = defaultdict(int)
        for batch in self.batch_ids.filtered("is_retry"):
            for partner_id in batch.partner_ids.ids:
                counts[partner_id] += 1
        limit = const.HELD_CLIENT_WAIT_SECONDS // const.HELD_CLIENT_RETRY_SECONDS
        given_up = partners.filtered(lambda p: counts[p.id] >= limit)
        for partner in given_up:
            self._log(
                partner,
                "skipped",
                self.env._("Another billing run held this client too long; the next run bills it."),
            )
        return self._plan_batches((partners - given_up).ids, is_retry=True)

    def _get_batch_size(self):
        value = self.env["ir.config_parameter"].sudo().get_param(const.PARAM_BATCH_SIZE)
        try:
            return max(int(value), 1) if value else const.DEFAULT_BATCH_SIZE
        except ValueError:
            return const.DEFAULT_BATCH_SIZE

    # ------------------------------------------------------------------
    # FINDING WHAT IS DUE
    # ------------------------------------------------------------------
    @api.model
    def _get_charge_sources(self):
        """Every charge source (models inheriting ``agency.charge.source``), in invoice line order."""
        return [self.env[name] for name in self._get_charge_source_names()]

    @api.model
    @tools.ormcache()
    def _get_charge_source_names(self):
        """The names of the charge sources in invoice line order (fixed once the registry is loaded)."""
        names = self.env.registry.descendants(["agency.charge.source"], "_inherit")
        sources = [self.env[name] for name in names if not self.env[name]._abstract]
        return tuple(
            source._name
            for source in sorted(sources, key=lambda source: (source._agency_charge_sequence, source._name))
        )

    def _get_run_sources(self):
        sources = self._get_charge_sources()
        if self.scope_source:
            sources = [source for source in sources if source._name == self.scope_source]
        return sources

    def _get_done_partner_ids(self):
        """Clients this run already dealt with (billed, skipped or failed)."""
        self.ensure_one()
        self.env["agency.billing.run.log"].flush_model()
        self.env["account.move"].flush_model(["agency_billing_run_id", "commercial_partner_id"])
        self.env.cr.execute(
            """SELECT partner_id FROM agency_billing_run_log WHERE run_id = %s AND partner_id IS NOT NULL
               UNION SELECT commercial_partner_id FROM account_move WHERE agency_billing_run_id = %s""",
            [self.id, self.id],
        )
        return [row[0] for row in self.env.cr.fetchall()]

    def _get_logged_partner_ids(self, partner_ids):
        """Clients among ``partner_ids`` this run already logged (a source may log a client while
        finding its charges: time without a rate). A batch reads its own clients only, never
        every client of a run of 100,000."""
        self.ensure_one()
        self.env["agency.billing.run.log"].flush_model(["run_id", "partner_id"])
        rows = self.env.execute_query(
            SQL(
                "SELECT DISTINCT partner_id FROM agency_billing_run_log WHERE run_id = %s AND partner_id = ANY(%s)",
                self.id,
                list(partner_ids),
            )
        )
        return {partner_id for (partner_id,) in rows}

    def _due_partner_ids(self, done_ids=None):
        """Ids of the clients with something due that this run has not dealt with yet."""
        self.ensure_one()
        partner_ids = set()
        for source in self._get_run_sources():
            partner_ids |= source._agency_due_partner_ids(self)
        partner_ids.difference_update(self._get_done_partner_ids() if done_ids is None else done_ids)
        return sorted(partner_ids)

    # ------------------------------------------------------------------
    # BILLING ONE BATCH
    # ------------------------------------------------------------------
    def _prepare_batch(self, batch_record=None):
        """The context the steps of one batch share (see ``charges.BillingBatch``)."""
        Journal = self.env["account.journal"]
        journal = Journal.search(
            [*Journal._check_company_domain(self.company_id), ("type", "=", "sale")], limit=1
        )
        return BillingBatch(run=self, journal=journal, record=batch_record)

    def _get_charges(self, batch, partners):
        """{client: [Charge]} of every source of the run."""
        by_partner = defaultdict(list)
        for source in self._get_run_sources():
            for charge in source._agency_get_charges(batch, partners):
                by_partner[charge.partner].append(charge)
        return by_partner

    def _bill_partners(self, partners, batch_record=None):
        """Bill a batch of clients, each all or nothing. Returns the clients another run holds.

        Row locks on the clients: a concurrent run leaves them to this one
        (and the unique indexes on what is billed back this up).
        """
        self.ensure_one()
        locked = partners.try_lock_for_update(allow_referencing=True)
        if not locked:
            return partners
        batch = self._prepare_batch(batch_record)
        charges = self._get_charges(batch, locked)
        logged = self._get_logged_partner_ids(locked.ids)  # e.g. time without a rate
        for partner in locked - self.env["res.partner"].concat(*charges):
            if partner.id not in logged:
                self._log(partner, "skipped", self.env._("Nothing due to invoice."))

        plans = {}
        for partner, partner_charges in charges.items():
            try:
                self._check_partner_billable(batch, partner, partner_charges)
                plans[partner] = self._plan_partner_invoices(partner, partner_charges)
            except BillingError as error:
                self._fail_partner(partner, partner_charges, str(error))
        plans = {partner: plan for partner, plan in plans.items() if plan}
        if plans:
            try:
                with self.env.cr.savepoint():
                    self._create_and_process(batch, plans)
            except RETRYABLE_ERRORS:
                raise
            except Exception:
                _logger.info(
                    "billing run %s: batch failed, billing its clients one by one", self.name, exc_info=True
                )
                self.env.invalidate_all()
                for partner, plan in plans.items():
                    try:
                        with self.env.cr.savepoint():
                            self._create_and_process(batch, {partner: plan})
                    except RETRYABLE_ERRORS:
                        raise
                    except Exception as error:  # one client's failure never stops the run
                        self.env.invalidate_all()
                        self._fail_partner(
                            partner,
                            [c for invoice in plan for c in invoice["charges"]],
                            self._error_message(error),
                            error,
                        )
        return partners - locked

    def _check_partner_billable(self, batch, partner, charges):
        if not partner.active:
            raise BillingError(self.env._("The client %(client)s is archived.", client=partner.display_name))
        if not batch.journal:
            raise BillingError(
                self.env._("The company %(company)s has no sales journal.", company=self.company_id.name)
            )
        for source, source_charges in self._group_by_source(charges).items():
            source._agency_check_charges(batch, partner, source_charges)

    def _group_by_source(self, charges):
        grouped = defaultdict(list)
        for charge in charges:
            grouped[self.env[charge.source]].append(charge)
        return grouped

    def _plan_partner_invoices(self, partner, charges):
        """Group a client's charges into invoices: [{"currency", "project", "charges"}].

        One invoice per currency (and per project when the client asks); a
        charge that rides along joins an invoice of its project, else any of
        its currency, else waits for the next one.
        """
        group_by_project = partner.with_company(self.company_id).billing_group_by_project
        groups = {}
        riders = []
        for charge in charges:
            if charge.rides_along:
                riders.append(charge)
                continue
            key = (charge.currency, charge.project if group_by_project else None)
            groups.setdefault(key, []).append(charge)
        for charge in riders:
            key = (charge.currency, charge.project if group_by_project else None)
            if key not in groups:
                key = next((k for k in groups if k[0] == charge.currency), None)
            if key is not None:
                groups[key].append(charge)
        return [
            {"currency": currency, "project": project, "charges": self._sort_charges(invoice_charges)}
            for (currency, project), invoice_charges in groups.items()
        ]

    def _sort_charges(self, charges):
        """Lines in the order of their sources, then as the sources found them."""
        order = {name: index for index, name in enumerate(self._get_charge_source_names())}
        return sorted(charges, key=lambda charge: order.get(charge.source, len(order)))

    def _prepare_invoice_vals(self, partner, plan, batch):
        """The values of one invoice of a client (a plain dict; one create for the batch)."""
        company = self.company_id
        invoice_id = partner.address_get(["invoice"])["invoice"]
        # the client itself keeps its prefetching (its batch's fields read at once)
        invoice_partner = partner if invoice_id == partner.id else partner.browse(invoice_id)
        fiscal_position = (
            self.env["account.fiscal.position"].with_company(company)._get_fiscal_position(invoice_partner)
        )
        vals = {
            "move_type": "out_invoice",
            "partner_id": invoice_partner.id,
            "company_id": company.id,
            "currency_id": plan["currency"].id,
            "journal_id": batch.journal.id,
            "fiscal_position_id": fiscal_position.id,
            "invoice_date": self.date,
            # the run is linked, never named: its number means nothing to the client
            "agency_billing_run_id": self.id,
        }
        vals["invoice_line_ids"] = [
            Command.create(self.env[charge.source]._prepare_agency_invoice_line_vals(charge, vals))
            for charge in plan["charges"]
        ]
        return vals

    def _automation(self, partner):
        return partner.with_company(self.company_id).billing_automation_effective

    def _create_and_process(self, batch, plans):
        """Create (or add to open drafts), then post and queue for sending, the invoices of some clients."""
        vals_list, owners = [], []
        drafts = self._get_open_drafts(plans)
        appended = self.env["account.move"]
        for partner, plan in plans.items():
            for invoice_plan in plan:
                vals = self._prepare_invoice_vals(partner, invoice_plan, batch)
                draft = drafts.get((partner, invoice_plan["currency"]))
                if draft:
                    appended |= self._add_to_draft(draft, vals)
                    continue
                vals_list.append(vals)
                owners.append(partner)
        Move = self.env["account.move"].with_company(self.company_id)
        moves, fast = Move._agency_create_invoices(vals_list)
        automation = {partner: self._automation(partner) for partner in plans}
        to_post = Move.concat(
            *(
                move
                for move, owner in zip(moves, owners, strict=True)
                if automation[owner] in (const.AUTOMATION_POST, const.AUTOMATION_SEND)
            )
        )
        if to_post:
            to_post._agency_post(fast=fast)
        to_send = to_post.filtered(
            lambda m: automation[m.partner_id.commercial_partner_id] == const.AUTOMATION_SEND
        )
        if to_send and not self.env.context.get("agency_billing_dry_run"):
            if self.company_id.external_report_layout_id:
                self._queue_sending(to_send)
            else:
                self._log_not_sent(to_send)
        counts = {
            "invoice_count": len(moves),
            "line_count": sum(len(invoice["charges"]) for plan in plans.values() for invoice in plan),
            "client_count": len(plans),
        }
        for source in self._get_run_sources():
            for counter, value in source._agency_after_invoicing(batch, (moves | appended).line_ids).items():
                counts[counter] = counts.get(counter, 0) + value
        batch.add_counts(counts)

    def _get_open_drafts(self, plans):
        """{(client, currency): draft invoice}: the open drafts billing made for clients whose
        invoices stay in draft, to add new charges to (unless the client wants separate invoices)."""
        partners = self.env["res.partner"].concat(
            *(
                partner
                for partner in plans
                if self._automation(partner) == const.AUTOMATION_DRAFT
                and not partner.with_company(self.company_id).billing_group_by_project
                and not partner.with_company(self.company_id).billing_separate_drafts
            )
        )
        if not partners:
            return {}
        drafts = self.env["account.move"].search(
            [
                ("move_type", "=", "out_invoice"),
                ("state", "=", "draft"),
                ("agency_billing_run_id", "!=", False),
                ("company_id", "=", self.company_id.id),
                ("commercial_partner_id", "in", partners.ids),
            ],
            order="id desc",
        )
        found = {}
        for draft in drafts:
            found.setdefault((draft.commercial_partner_id, draft.currency_id), draft)
        return found

    def _add_to_draft(self, draft, vals):
        """Add an invoice's lines to the client's open draft, dated as this run; Odoo recomputes it."""
        draft.with_context(**const.QUIET_CONTEXT).write(
            {"invoice_line_ids": vals["invoice_line_ids"], "invoice_date": self.date}
        )
        self._log(
            draft.commercial_partner_id,
            "billed",
            self.env._(
                "%(count)s lines added to the open draft invoice %(invoice)s.",
                count=len(vals["invoice_line_ids"]),
                invoice=draft.display_name,
            ),
            moves=draft,
        )
        return draft

    def _log_not_sent(self, moves):
        """The company's documents have no layout yet: post, but email nothing (Odoo asks for the
        layout on the first print; a client's first invoice must not go out without it)."""
        for partner in moves.partner_id.commercial_partner_id:
            invoices = moves.filtered(lambda m, p=partner: m.commercial_partner_id == p)
            self._log(
                partner,
                "billed",
                self.env._(
                    "Posted, not emailed: the company's document layout is not set up yet (Settings > "
                    "Companies > Configure Document Layout). Then send them with Send Invoices on this run."
                ),
                moves=invoices,
            )

    def action_send_invoices(self):
        """Odoo's sending for the run's posted invoices that were not sent yet."""
        self.ensure_one()
        self.check_access("read")
        moves = (self.invoice_ids | self.log_ids.move_ids).filtered(
            lambda m: m.state == "posted" and not m.is_move_sent
        )
        if not moves:
            raise UserError(self.env._("Every posted invoice of this run has been sent."))
        return moves.action_send_and_print()

    def _queue_sending(self, moves):
        """Hand the invoices to Odoo's own sending (PDF + email), done by its cron."""
        # each invoice the client's way: its layout, sending method, e-invoice format
        moves._agency_queue_sending(self.user_id or self.env.user)

    # ------------------------------------------------------------------
    # LOG
    # ------------------------------------------------------------------
    @staticmethod
    def _is_concurrent_billing(error):
        return isinstance(error, psycopg2.errors.UniqueViolation) and "exactly_once" in (
            error.diag.constraint_name or ""
        )

    def _error_message(self, error):
        if self._is_concurrent_billing(error):
            return self.env._("Already invoiced: another billing run billed these items at the same time.")
        if isinstance(error, UserError | AccessError):
            return error.args[0] if error.args else str(error)
        return self.env._("Unexpected error: %(error)s", error=error)

    def _fail_partner(self, partner, charges, message, error=None):
        if self._is_concurrent_billing(error):
            # not the client's fault: a concurrent run billed it first
            self._log(partner, "skipped", message, charges=charges)
            return
        self._log(partner, "error", message, charges=charges)
        for source, source_charges in self._group_by_source(charges).items():
            source._agency_flag_failure(source_charges, message)
        partner.message_post(
            body=self.env._(
                "Billing run %(run)s could not bill this client: %(reason)s", run=self.name, reason=message
            ),
            subtype_xmlid="mail.mt_note",
        )

    def _log(self, partner, level, message, charges=(), moves=None):
        if not isinstance(self.id, int):
            return  # an estimate (a run that is not saved) logs nothing
        items = self.env["agency.billable.item"].concat(
            *(charge.records for charge in charges if charge.source == "agency.billable.item")
        )
        self.env["agency.billing.run.log"].create(
            {
                "run_id": self.id,
                "partner_id": partner.id,
                "level": level,
                "message": message,
                "item_ids": [Command.set(items.ids)] if items else False,
                "move_ids": [Command.set(moves.ids)] if moves else False,
            }
        )

    def _finish(self, state=const.RUN_DONE, note=None):
        now = fields.Datetime.now()
        for run in self:
            run.write(
                {
                    "state": const.RUN_FAILED if note and state == const.RUN_DONE else state,
                    "date_finished": now,
                    "duration": (now - run.date_started).total_seconds() if run.date_started else 0.0,
                }
            )
            if note:
                run.message_post(body=note)
        return True
