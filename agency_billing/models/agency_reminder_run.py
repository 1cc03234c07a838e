import logging
from collections import defaultdict
from datetime import timedelta

import psycopg2.errors

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.fields import Command, Domain

from .. import const, dunning

_logger = logging.getLogger(__name__)


class AgencyReminderRun(models.Model):
    """One reminder run: the daily one of a company, or "send now" on many invoices.

    The chain: ``_cron_send_reminders`` (entry) → ``_plan`` (which level is
    due for which invoice, per client) → ``_send_batch`` (a batch of clients,
    committed) → ``agency.reminder._send`` (fees, emails, history,
    activities). The run record shows the progress while it works.
    """

    _name = "agency.reminder.run"
    _description = "Reminder Run"
    _inherit = ["mail.thread"]
    _order = "id desc"

    name = fields.Char(required=True, readonly=True, default="/", copy=False)
    company_id = fields.Many2one(
        "res.company", required=True, readonly=True, index=True, default=lambda self: self.env.company
    )
    date = fields.Date(required=True, readonly=True, default=fields.Date.context_today)
    trigger = fields.Selection(dunning.TRIGGERS, required=True, readonly=True, default=dunning.TRIGGER_CRON)
    user_id = fields.Many2one(
        "res.users", string="Started By", readonly=True, default=lambda self: self.env.user
    )
    state = fields.Selection(dunning.RUN_STATES, default="running", required=True, readonly=True)
    date_started = fields.Datetime(string="Started", readonly=True, default=fields.Datetime.now)
    date_finished = fields.Datetime(string="Finished", readonly=True)
    duration = fields.Float(string="Duration (s)", readonly=True, digits=(16, 1))
    client_total = fields.Integer(string="Clients to Remind", readonly=True)
    client_done = fields.Integer(string="Clients Done", readonly=True)
    progress = fields.Float(compute="_compute_progress")
    reminder_count = fields.Integer(string="Emails Sent", readonly=True)
    invoice_count = fields.Integer(string="Invoices Reminded", readonly=True)
    fee_count = fields.Integer(string="Late Fees", readonly=True)
    skipped_count = fields.Integer(string="Clients Skipped", readonly=True)
    error_count = fields.Integer(string="Errors", readonly=True)
    reminder_ids = fields.One2many("agency.reminder", "run_id", string="Reminders", readonly=True)
    log_ids = fields.One2many("agency.reminder.run.log", "run_id", readonly=True)
    scope_move_ids = fields.Many2many("account.move", string="Only Invoices", readonly=True)

    # ------------------------------------------------------------------
    # CRUD / COMPUTE
    # ------------------------------------------------------------------
    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            if vals.get("name", "/") == "/":
                vals["name"] = self.env["ir.sequence"].next_by_code("agency.reminder.run") or "/"
        return super().create(vals_list)

    @api.depends("client_total", "client_done", "state")
    def _compute_progress(self):
        for run in self:
            if run.state != "running":
                run.progress = 100.0
            else:
                run.progress = 100.0 * run.client_done / run.client_total if run.client_total else 0.0

    # ------------------------------------------------------------------
    # CRON
    # ------------------------------------------------------------------
    @api.model
    def _cron_send_reminders(self):
        """The daily reminder run of every company, in committed batches.

        Runs of "send now" on many invoices come first. Returns with work
        left when the cron's time is up: Odoo calls it again at once and the
        unfinished run goes on.
        """
        Cron = self.env["ir.cron"]
        for run in self.search(
            [("trigger", "=", dunning.TRIGGER_MANUAL), ("state", "=", "running")], order="id"
        ):
            if not run.with_company(run.company_id)._process(Cron):
                return
        for company in self._get_companies_to_remind():
            self.env["account.move"].with_company(company)._agency_drop_unbilled_late_fees(company)
            run = self._get_cron_run(company)
            if run.state != "running":
                continue
            if not run._process(Cron):
                return

    @api.model
    def _get_companies_to_remind(self):
        """Companies with a reminder plan that has levels."""
        groups = (
            self.env["agency.reminder.level"]
            .sudo()
            ._read_group([("plan_id.active", "=", True)], groupby=["company_id"])
        )
        return self.env["res.company"].concat(*(company for (company,) in groups))

    @api.model
    def _get_cron_run(self, company):
        Run = self.with_company(company)
        today = fields.Date.context_today(Run)
        stale = Run.search(
            [
                ("company_id", "=", company.id),
                ("trigger", "=", dunning.TRIGGER_CRON),
                ("state", "=", "running"),
                ("date", "<", today),
            ]
        )
        for run in stale:
            run._finish(note=self.env._("Interrupted; the next run sent what was left."))
        run = Run.search(
            [("company_id", "=", company.id), ("trigger", "=", dunning.TRIGGER_CRON), ("date", "=", today)],
            limit=1,
        )
        return run or Run.with_context(mail_create_nolog=True).create(
            {
                "company_id": company.id,
                "date": today,
                "trigger": dunning.TRIGGER_CRON,
                "user_id": self.env.uid,
            }
        )

    def _process(self, Cron):
        """Send what this run still has to send, batch by batch. False: out of time."""
        self.ensure_one()
        todo = self._plan()
        partner_ids = sorted(todo)
        self.client_total = self.client_done + len(partner_ids)
        Cron._commit_progress(remaining=len(partner_ids))
        batch_size = self._get_batch_size()
        while partner_ids:
            batch, partner_ids = partner_ids[:batch_size], partner_ids[batch_size:]
            self._send_batch({partner_id: todo[partner_id] for partner_id in batch})
            self.client_done += len(batch)
            if not partner_ids:
                self._finish()
            time_left = Cron._commit_progress(len(batch), remaining=len(partner_ids))
            if partner_ids and time_left <= 0:
                return False
        if self.state == "running":
            self._finish()
            Cron._commit_progress()
        return True

    # ------------------------------------------------------------------
    # "SEND NOW"
    # ------------------------------------------------------------------
    @api.model
    def _send_now(self, moves):
        """Send the next level of some invoices now, whatever its date.

        Up to one batch is sent at once; more goes to the background as a run
        of its own, which the reminder cron starts at once.
        """
        self.env["agency.reminder"].check_access("create")
        groups = moves._agency_check_reminder_now()
        if len(moves) > self._get_batch_size():
            runs = self.browse()
            for company in moves.company_id:
                runs |= (
                    self.with_company(company)
                    .with_context(mail_create_nolog=True)
                    .create(
                        {
                            "company_id": company.id,
                            "trigger": dunning.TRIGGER_MANUAL,
                            "scope_move_ids": [
                                Command.set(moves.filtered(lambda m, c=company: m.company_id == c).ids)
                            ],
                        }
                    )
                )
            self.env.ref("agency_billing.ir_cron_agency_send_reminders")._trigger()
            return runs._get_result_action()
        today = fields.Date.context_today(self)
        reminders, problems = self.env["agency.reminder"]._send(groups, today, trigger=dunning.TRIGGER_MANUAL)
        if problems:
            raise UserError(next(iter(problems.values())))
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "type": "success",
                "title": self.env._("Reminder sent"),
                "message": "\n".join(
                    self.env._(
                        "%(level)s sent to %(contact)s (%(invoices)s).",
                        level=reminder.level_id.name,
                        contact=reminder.contact_id.email_formatted,
                        invoices=reminder.name,
                    )
                    for reminder in reminders
                ),
                "next": {"type": "ir.actions.client", "tag": "soft_reload"},
            },
        }

    def _get_result_action(self):
        action = {
            "type": "ir.actions.act_window",
            "res_model": self._name,
            "name": self.env._("Reminder Runs"),
        }
        if len(self) == 1:
            action.update(res_id=self.id, views=[(False, "form")])
        else:
            action.update(domain=[("id", "in", self.ids)], views=[(False, "list"), (False, "form")])
        return action

    def action_run_now(self):
        """Start the reminder cron now (every company's run of today)."""
        self.env.ref("agency_billing.ir_cron_agency_send_reminders")._trigger()
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "type": "info",
                "title": self.env._("Reminder run started"),
                "message": self.env._("It runs in the background: today's run shows its progress here."),
                "next": {"type": "ir.actions.client", "tag": "soft_reload"},
            },
        }

    def action_view_reminders(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("agency_billing.agency_reminder_action")
        action["domain"] = [("run_id", "=", self.id)]
        action["context"] = {}
        return action

    # ------------------------------------------------------------------
    # PLANNING
    # ------------------------------------------------------------------
    def _get_batch_size(self):
        value = self.env["ir.config_parameter"].sudo().get_param(const.PARAM_BATCH_SIZE)
        try:
            return max(int(value), 1) if value else const.DEFAULT_BATCH_SIZE
        except ValueError:
            return const.DEFAULT_BATCH_SIZE

    def _plan(self):
        """{client id: [(invoice id, level id)]}: what this run still has to send.

        The daily run sends each invoice the level its lateness calls for (see
        ``dunning.level_to_send``); a "send now" run the next level. Clients
        this run already logged (skipped, failed) are left for tomorrow.
        """
        self.ensure_one()
        company = self.company_id
        Move = self.env["account.move"].with_company(company)
        plans = self.env["agency.reminder.plan"].search([("company_id", "=", company.id)])
        levels = plans._get_levels()
        all_levels = [level for plan_levels in levels.values() for level in plan_levels]
        if not all_levels:
            return {}
        manual = self.trigger == dunning.TRIGGER_MANUAL
        domain = Move._agency_remindable_domain() & Domain("company_id", "=", company.id)
        if manual:
            domain &= Domain("id", "in", self.scope_move_ids.ids)
        else:
            earliest = min(level.days for level in all_levels)
            domain &= Domain("invoice_date_due", "<=", self.date - timedelta(days=earliest))
        moves = Move.search_fetch(
            domain,
            ["commercial_partner_id", "invoice_date_due", "agency_reminder_level_id"],
            order="commercial_partner_id, invoice_date_due, id",
        )
        plan_of = moves.commercial_partner_id.with_company(company)._agency_reminder_plans()
        done = set(self._get_logged_partner_ids())
        todo = defaultdict(list)
        for move in moves:
            partner_id = move.commercial_partner_id.id
            if partner_id in done:
                continue
            plan = plan_of[partner_id]
            if not plan or plan.id not in levels:
                if manual:
                    self._log(
                        move.commercial_partner_id,
                        "skipped",
                        self.env._("Reminders are off for this client."),
                        move,
                    )
                    done.add(partner_id)
                continue
            reached = move.agency_reminder_level_id.days if move.agency_reminder_level_id else None
            if manual:
                level = dunning.next_level(levels[plan.id], move.invoice_date_due, self.date, reached)
            else:
                level = dunning.level_to_send(levels[plan.id], move.invoice_date_due, self.date, reached)
            if level:
                todo[partner_id].append((move.id, level.id))
        return todo

    def _get_logged_partner_ids(self):
        self.ensure_one()
        self.env["agency.reminder.run.log"].flush_model(["run_id", "partner_id"])
        self.env.cr.execute(
            "SELECT DISTINCT partner_id FROM agency_reminder_run_log WHERE run_id = %s AND partner_id IS NOT NULL",
            [self.id],
        )
        return [row[0] for row in self.env.cr.fetchall()]

    # ------------------------------------------------------------------
    # ONE BATCH
    # ------------------------------------------------------------------
    def _send_batch(self, todo):
        """Send the reminders of a batch of clients: {client id: [(invoice id, level id)]}.

        Each client's invoices are read afresh (paid, disputed or reminded
        since the plan was made: left out). A batch that fails is sent again
        client by client; a client that fails is logged, the others are sent.
        """
        self.ensure_one()
        # what other transactions committed since the plan was made
        self.env.invalidate_all()
        Move = self.env["account.move"].with_company(self.company_id)
        Level = self.env["agency.reminder.level"]
        moves = Move.browse([move_id for pairs in todo.values() for move_id, _level in pairs])
        moves.fetch(
            ["payment_state", "state", "agency_is_disputed", "agency_reminder_level_id", "amount_residual"]
        )
        groups = defaultdict(lambda: Move)
        for pairs in todo.values():
            for move_id, level_id in pairs:
                move, level = Move.browse(move_id), Level.browse(level_id)
                reached = move.agency_reminder_level_id
                if not move._agency_is_remindable() or (reached and reached.days >= level.days):
                    continue
                groups[(move.commercial_partner_id, level)] |= move
        if not groups:
            return
        try:
            with self.env.cr.savepoint():
                self._send_groups(groups)
        except Exception:
            _logger.info("reminder run %s: batch failed, sending client by client", self.name, exc_info=True)
            self.env.invalidate_all()
            by_partner = defaultdict(dict)
            for (partner, level), level_moves in groups.items():
                by_partner[partner][(partner, level)] = level_moves
            for partner, partner_groups in by_partner.items():
                try:
                    with self.env.cr.savepoint():
                        self._send_groups(partner_groups)
                except Exception as error:  # one client never stops the run
                    self.env.invalidate_all()
                    moves = Move.concat(*partner_groups.values())
                    self._log(partner, *self._describe_error(error), moves=moves)

    def _send_groups(self, groups):
        reminders, problems = self.env["agency.reminder"]._send(groups, self.date, run=self)
        for partner, message in problems.items():
            moves = self.env["account.move"].concat(
                *(moves for (client, _level), moves in groups.items() if client == partner)
            )
            self._log(partner, "skipped", message, moves=moves)
        unassigned = reminders.filtered(
            lambda r: (
                r.level_id.activity_type_id and not (r.partner_id.user_id or r.level_id.activity_user_id)
            )
        )
        for reminder in unassigned:
            self._log(
                reminder.partner_id,
                "skipped",
                self.env._(
                    "No activity scheduled for “%(level)s”: the client has no salesperson and the level "
                    "names nobody else.",
                    level=reminder.level_id.name,
                ),
                moves=reminder.move_ids,
                count=False,
            )
        self.write(
            {
                "reminder_count": self.reminder_count + len(reminders),
                "invoice_count": self.invoice_count + len(reminders.line_ids),
                "fee_count": self.fee_count + len(reminders.line_ids.fee_item_id),
            }
        )

    def _describe_error(self, error):
        constraint = ""
        if isinstance(error, psycopg2.errors.UniqueViolation):
            constraint = error.diag.constraint_name or ""
        if "level_once_per_invoice" in constraint or "late_fee_once" in constraint:
            return "skipped", self.env._("Already reminded: someone sent this level at the same time.")
        if isinstance(error, UserError):
            return "error", error.args[0] if error.args else str(error)
        return "error", self.env._("Unexpected error: %(error)s", error=error)

    # ------------------------------------------------------------------
    # LOG
    # ------------------------------------------------------------------
    def _log(self, partner, level, message, moves=None, count=True):
        self.env["agency.reminder.run.log"].create(
            {
                "run_id": self.id,
                "partner_id": partner.id,
                "level": level,
                "message": message,
                "move_ids": [Command.set(moves.ids)] if moves else False,
            }
        )
        counter = {"skipped": "skipped_count", "error": "error_count"}[level]
        if count:
            self[counter] += 1

    def _finish(self, note=None):
        now = fields.Datetime.now()
        for run in self:
            run.write(
                {
                    "state": "failed" if note else "done",
                    "date_finished": now,
                    "duration": (now - run.date_started).total_seconds() if run.date_started else 0.0,
                }
            )
            if note:
                run.message_post(body=note)
        # the emails are queued: Odoo's mail queue sends them
        mail_cron = self.env.ref("mail.ir_cron_mail_scheduler_action", raise_if_not_found=False)
        if mail_cron and any(self.mapped("reminder_count")):
            mail_cron.sudo()._trigger()
        return True

    # ------------------------------------------------------------------
    # OVERDUE DIGEST
    # ------------------------------------------------------------------
    @api.model
    def _cron_send_overdue_digest(self):
        """The daily email to billing managers: invoices that became overdue since the last one."""
        companies = self.env["res.company"].sudo().search([("agency_overdue_digest", "=", True)])
        for company in companies:
            self.with_company(company)._send_overdue_digest(company)
            self.env["ir.cron"]._commit_progress(1)

    @api.model
    def _send_overdue_digest(self, company):
        today = fields.Date.context_today(self)
        last = company.agency_overdue_digest_date
        if last and last >= today:
            return self.env["mail.mail"]
        moves = self._get_newly_overdue(company, today)
        mails = self.env["mail.mail"]
        if moves:
            mails = self._mail_overdue_digest(company, moves, today)
        company.sudo().agency_overdue_digest_date = today
        return mails

    @api.model
    def _get_newly_overdue(self, company, today):
        """Open invoices that became overdue after the last digest and up to today.

        An invoice is overdue the day after its due date; the first digest
        covers the invoices due yesterday.
        """
        last = company.agency_overdue_digest_date
        first_due = last if last else today - timedelta(days=1)
        Move = self.env["account.move"].sudo()
        return Move.search(
            Move._agency_open_invoice_domain()
            & Domain("company_id", "=", company.id)
            & Domain("invoice_date_due", ">=", first_due)
            & Domain("invoice_date_due", "<", today),
            order="invoice_date_due, commercial_partner_id, id",
        )

    @api.model
    def _get_digest_recipients(self, company):
        group = self.env.ref("agency_billing.group_agency_billing_manager")
        return group.sudo().all_user_ids.filtered(
            lambda user: user.active and not user.share and user.email and company in user.company_ids
        )

    @api.model
    def _mail_overdue_digest(self, company, moves, today):
        users = self._get_digest_recipients(company)
        mails = self.env["mail.mail"]
        base_url = company.get_base_url()
        for lang, lang_users in users.grouped(lambda u: u.lang or "en_US").items():
            env = self.with_context(lang=lang).env
            Reminder = env["agency.reminder"]
            values = {
                "company": company,
                "moves": moves.with_context(lang=lang),
                "today": today,
                "base_url": base_url,
                "total": Reminder._format_amounts(
                    ((m.amount_residual, m.currency_id) for m in moves), lang=lang
                ),
            }
            body = env["ir.qweb"]._render("agency_billing.overdue_digest_email", values)
            body = env["mail.render.mixin"]._render_encapsulate(
                "mail.mail_notification_light",
                body,
                add_context={
                    "company": company,
                    "model_description": env._("Daily Digest"),
                    "record_name": env._("Newly overdue invoices"),
                },
            )
            if len(moves) == 1:
                subject = env._("%(company)s: an invoice became overdue", company=company.name)
            else:
                subject = env._(
                    "%(company)s: %(count)s invoices became overdue", company=company.name, count=len(moves)
                )
            mails |= (
                self.env["mail.mail"]
                .sudo()
                .create(
                    {
                        "subject": subject,
                        "body_html": body,
                        "email_from": company.email_formatted or self.env.user.email_formatted,
                        "recipient_ids": [Command.set(lang_users.partner_id.ids)],
                        "auto_delete": True,
                    }
                )
            )
        return mails
