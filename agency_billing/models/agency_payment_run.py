import logging

import psycopg2.errors

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.fields import Domain
from odoo.tools.misc import formatLang

from .. import const, payments

_logger = logging.getLogger(__name__)


class AgencyPaymentRun(models.Model):
    """One run of automatic charging: which invoices it charged, which failed
    and why, which it skipped.

    The chain: ``_cron_charge_due_invoices`` (entry, every company) →
    ``_due_invoice_ids`` (what is due) → ``_charge_invoices`` (one batch:
    lock, check, one attempt and one Odoo payment transaction per invoice,
    committed before any provider is called) → ``_charge_attempt`` (the
    provider's answer, committed invoice by invoice).
    """

    _name = "agency.payment.run"
    _description = "Automatic Charging Run"
    _order = "id desc"

    name = fields.Char(required=True, readonly=True, default="/", copy=False)
    company_id = fields.Many2one(
        "res.company", required=True, readonly=True, index=True, default=lambda self: self.env.company
    )
    date = fields.Date(string="Charges Due Up To", required=True, readonly=True)
    trigger = fields.Selection(payments.CHARGE_RUN_TRIGGERS, required=True, readonly=True)
    user_id = fields.Many2one(
        "res.users", string="Started By", readonly=True, default=lambda self: self.env.user
    )
    state = fields.Selection(const.RUN_STATES, default="running", required=True, readonly=True)
    date_started = fields.Datetime(string="Started", readonly=True, default=fields.Datetime.now)
    date_finished = fields.Datetime(string="Finished", readonly=True)
    duration = fields.Float(string="Duration (s)", readonly=True, digits=(16, 1))
    due_count = fields.Integer(string="Invoices Due", readonly=True)
    attempt_ids = fields.One2many("agency.payment.attempt", "run_id", string="Attempts", readonly=True)
    processed_count = fields.Integer(string="Processed", compute="_compute_counts")
    charged_count = fields.Integer(string="Charged", compute="_compute_counts")
    pending_count = fields.Integer(string="Pending", compute="_compute_counts")
    failed_count = fields.Integer(string="Failed", compute="_compute_counts")
    skipped_count = fields.Integer(string="Skipped", compute="_compute_counts")
    progress = fields.Float(compute="_compute_counts")

    # ------------------------------------------------------------------
    # CRUD, COMPUTE
    # ------------------------------------------------------------------
    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            if vals.get("name", "/") == "/":
                vals["name"] = self.env["ir.sequence"].next_by_code("agency.payment.run") or "/"
        return super().create(vals_list)

    def _compute_counts(self):
        groups = self.env["agency.payment.attempt"]._read_group(
            [("run_id", "in", self.ids)], groupby=["run_id", "state"], aggregates=["__count"]
        )
        counts = {(run.id, state): count for run, state, count in groups}
        for run in self:
            run.charged_count = counts.get((run.id, payments.ATTEMPT_DONE), 0)
            run.pending_count = counts.get((run.id, payments.ATTEMPT_PENDING), 0) + counts.get(
                (run.id, payments.ATTEMPT_PROCESSING), 0
            )
            run.failed_count = counts.get((run.id, payments.ATTEMPT_FAILED), 0)
            run.skipped_count = counts.get((run.id, payments.ATTEMPT_SKIPPED), 0)
            run.processed_count = sum(count for (run_id, _state), count in counts.items() if run_id == run.id)
            run.progress = 100.0 * run.processed_count / run.due_count if run.due_count else 100.0

    # ------------------------------------------------------------------
    # CRON
    # ------------------------------------------------------------------
    @api.model
    def _cron_charge_due_invoices(self):
        """Charge every invoice due for automatic payment, in committed batches.

        Returns with work left when the cron's time is up: Odoo runs it again
        at once, and the unfinished run of the company is resumed.
        """
        Cron = self.env["ir.cron"]
        for company in self._get_companies_to_charge():
            run = self.with_company(company)._get_cron_run(company)
            busy = set()
            due = run._due_invoice_ids()
            run.due_count = len(run.attempt_ids) + len(due)
            Cron._commit_progress(remaining=len(due))
            batch_size = run._get_batch_size()
            while due:
                invoices = self.env["account.move"].browse(due[:batch_size])
                try:
                    busy.update(run._charge_invoices(invoices, commit=True).ids)
                except (psycopg2.errors.SerializationFailure, psycopg2.errors.UniqueViolation):
                    # another worker charged some of these since our snapshot:
                    # look again from a fresh one; nothing of this batch is kept
                    self.env.cr.rollback()
                    self.env.invalidate_all()
                due = run._due_invoice_ids(exclude=busy)
                if not due:
                    run._finish()
                time_left = Cron._commit_progress(remaining=len(due))
                if due and time_left <= 0:
                    return
            if run.state == "running":
                run._finish()
                Cron._commit_progress()

    @api.model
    def _get_due_domain(self, date=None):
        """Invoices whose automatic charge is due (on ``date``, default today)."""
        return Domain(
            [
                ("move_type", "=", "out_invoice"),
                ("state", "=", "posted"),
                ("payment_state", "in", ("not_paid", "partial")),
                ("agency_charge_date", "<=", date or fields.Date.context_today(self)),
            ]
        )

    @api.model
    def _get_companies_to_charge(self):
        groups = self.env["account.move"].sudo()._read_group(self._get_due_domain(), groupby=["company_id"])
        return self.env["res.company"].concat(*(company for (company,) in groups))

    @api.model
    def _get_cron_run(self, company):
        """Today's unfinished run of the company, else a new one (an older
        unfinished run was stopped: it is closed, the new one takes over)."""
        today = fields.Date.context_today(self.with_company(company))
        runs = self.search(
            [("company_id", "=", company.id), ("trigger", "=", "cron"), ("state", "=", "running")]
        )
        runs.filtered(lambda run: run.date < today)._finish()
        run = runs.filtered(lambda run: run.date >= today)[:1]
        return run or self.create(
            {"company_id": company.id, "date": today, "trigger": "cron", "user_id": self.env.user.id}
        )

    def _get_batch_size(self):
        value = self.env["ir.config_parameter"].sudo().get_param(payments.PARAM_CHARGE_BATCH_SIZE)
        try:
            return max(int(value), 1) if value else payments.DEFAULT_CHARGE_BATCH_SIZE
        except ValueError:
            return payments.DEFAULT_CHARGE_BATCH_SIZE

    def _due_invoice_ids(self, exclude=()):
        self.ensure_one()
        domain = self._get_due_domain(self.date) & Domain("company_id", "=", self.company_id.id)
        if exclude:
            domain &= Domain("id", "not in", list(exclude))
        return self.env["account.move"].sudo().search(domain, order="agency_charge_date, id").ids

    # ------------------------------------------------------------------
    # PUBLIC API (buttons)
    # ------------------------------------------------------------------
    @api.model
    def _charge_now(self, invoices):
        """Charge these invoices now, in the current transaction (the "Charge Now" button)."""
        invoices.check_access("write")
        if invoices.company_id and len(invoices.company_id) > 1:
            raise UserError(self.env._("Charge the invoices of one company at a time."))
        company = invoices.company_id
        run = self.with_company(company).create(
            {
                "company_id": company.id,
                "date": fields.Date.context_today(self.with_company(company)),
                "trigger": "manual",
                "due_count": len(invoices),
            }
        )
        busy = run._charge_invoices(invoices)
        if busy:
            raise UserError(self.env._("These invoices are being charged right now by another job."))
        run._finish()
        return run

    def action_view_invoices(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("account.action_move_out_invoice_type")
        action["domain"] = [("id", "in", self.attempt_ids.move_id.ids)]
        action["context"] = {"create": False}
        return action

    # ------------------------------------------------------------------
    # CHARGING ONE BATCH
    # ------------------------------------------------------------------
    def _charge_invoices(self, invoices, commit=False):
        """Charge a batch of invoices; returns those another job holds (left alone).

        Invoice by invoice: lock it, check it, record the attempt and its Odoo
        payment transaction, and (with ``commit``, the cron) commit before the
        provider is called, then again with its answer. A worker that dies
        mid-way leaves at most one attempt "processing", which the unique
        index keeps from being charged again until someone checks it.
        """
        self.ensure_one()
        Cron = self.env["ir.cron"]
        Attempt = self.env["agency.payment.attempt"].sudo()
        Transaction = self.env["payment.transaction"].sudo()
        held = self._get_held_invoices(invoices)
        busy = self.env["account.move"]
        for invoice in invoices:
            if not invoice.try_lock_for_update(allow_referencing=True):
                busy |= invoice
                continue
            token, reason = self._check_chargeable(invoice, held)
            if reason:
                self._skip_invoice(invoice, token, reason)
                if commit:
                    Cron._commit_progress(1)
                continue
            try:
                with self.env.cr.savepoint():
                    attempt = Attempt.create(self._prepare_attempt_vals(invoice, token))
            except psycopg2.errors.UniqueViolation:
                busy |= invoice  # another job charged it since we looked
                continue
            attempt.transaction_id = Transaction.create(self._prepare_transaction_vals(invoice, token))
            if commit:
                Cron._commit_progress()
            self._charge_attempt(attempt)
            if commit:
                Cron._commit_progress(1)
        return busy

    def _skip_invoice(self, invoice, token, reason):
        self.env["agency.payment.attempt"].sudo().create(self._prepare_attempt_vals(invoice, token, reason))
        invoice.agency_charge_date = False
        invoice.message_post(
            body=self.env._("Not charged automatically: %(reason)s", reason=reason),
            subtype_xmlid="mail.mt_note",
        )

    def _get_held_invoices(self, invoices):
        """Invoices already charged, or being charged, by an attempt."""
        attempts = (
            self.env["agency.payment.attempt"]
            .sudo()
            .search([("move_id", "in", invoices.ids), ("state", "in", payments.ATTEMPT_HOLDING_STATES)])
        )
        return set(attempts.move_id.ids)

    def _check_chargeable(self, invoice, held):
        """(token, reason): the payment method to charge, or why the invoice is skipped."""
        client = invoice.commercial_partner_id.with_company(invoice.company_id)
        token = client.sudo().agency_autopay_token_id
        for blocked, reason in self._get_charge_checks(invoice, client, token, held):
            if blocked():
                return token, reason()
        return token, None

    def _get_charge_checks(self, invoice, client, token, held):
        """[(is blocked, why)], in the order they are looked at; both are callables."""
        provider = token.provider_id
        return [
            (
                lambda: invoice.state != "posted" or invoice.payment_state not in ("not_paid", "partial"),
                lambda: self.env._("the invoice is already paid."),
            ),
            (
                lambda: invoice.id in held,
                lambda: self.env._("the invoice is already charged, or being charged."),
            ),
            (
                lambda: not client.agency_autopay,
                lambda: self.env._("automatic payment is off for this client."),
            ),
            (
                lambda: not token or not token.active,
                lambda: self.env._("the client has no saved payment method to charge."),
            ),
            (
                lambda: provider.state == "disabled" or provider.company_id != invoice.company_id,
                lambda: self.env._(
                    "the payment provider %(provider)s of the saved payment method is not available.",
                    provider=provider.name,
                ),
            ),
            (
                lambda: (
                    provider.available_currency_ids
                    and invoice.currency_id not in provider.available_currency_ids
                ),
                lambda: self.env._(
                    "%(provider)s does not take payments in %(currency)s.",
                    provider=provider.name,
                    currency=invoice.currency_id.name,
                ),
            ),
            (
                lambda: invoice.sudo().transaction_ids.filtered(
                    lambda tx: (
                        tx.state in ("pending", "authorized") and tx.provider_code not in ("none", "custom")
                    )
                ),
                lambda: self.env._("a payment of this invoice is already in progress."),
            ),
        ]

    def _prepare_attempt_vals(self, invoice, token, skip_reason=None):
        return {
            "run_id": self.id,
            "move_id": invoice.id,
            "partner_id": invoice.commercial_partner_id.id,
            "token_id": token.id if token else False,
            "amount": invoice.amount_residual,
            "currency_id": invoice.currency_id.id,
            "state": payments.ATTEMPT_SKIPPED if skip_reason else payments.ATTEMPT_PROCESSING,
            "message": skip_reason and skip_reason[:1].upper() + skip_reason[1:],
        }

    def _prepare_transaction_vals(self, invoice, token):
        """An Odoo payment by token for what is left to pay, linked to the invoice
        so that Odoo's post-processing reconciles the payment with it."""
        return {
            "provider_id": token.provider_id.id,
            "payment_method_id": token.payment_method_id.id,
            "amount": invoice.amount_residual,
            "currency_id": invoice.currency_id.id,
            "partner_id": token.partner_id.id,
            "token_id": token.id,
            "operation": "offline",
            "invoice_ids": [fields.Command.set(invoice.ids)],
        }

    def _charge_attempt(self, attempt):
        """Ask the provider, then let Odoo record the payment."""
        tx = attempt.transaction_id.sudo()
        try:
            tx._charge_with_token()
        except Exception as error:  # a provider error fails this invoice only
            _logger.info("automatic charge %s: the provider call failed", tx.reference, exc_info=True)
            tx._set_error(str(error))
        if tx.state in ("done", "cancel", "error"):
            try:
                with self.env.cr.savepoint():
                    tx._post_process()
            except Exception:  # the charge stands; Odoo's post-processing cron retries
                _logger.exception("automatic charge %s: recording the payment failed", tx.reference)
        attempt._sync_from_transaction()
        if attempt.state == payments.ATTEMPT_DONE and not tx.is_post_processed:
            attempt.message = self.env._(
                "%(amount)s charged; the payment is recorded on the invoice as soon as Odoo processes it.",
                amount=formatLang(self.env, attempt.amount, currency_obj=attempt.currency_id),
            )

    def _finish(self):
        now = fields.Datetime.now()
        for run in self:
            run.write(
                {
                    "state": "done",
                    "date_finished": now,
                    "duration": (now - run.date_started).total_seconds() if run.date_started else 0.0,
                }
            )
        return True

    # ------------------------------------------------------------------
    # DEMO DATA
    # ------------------------------------------------------------------
    @api.model
    def _demo_autopay_client(self, client, contact):
        """Demo: the client saved a demo card, pays automatically, was charged
        for its first invoice, got a refund as credit, and its next invoice
        used that credit first (Odoo's demo payment provider, when installed)."""
        client = self.env["res.partner"].browse(client)
        contact = self.env["res.partner"].browse(contact)
        provider = self.env.ref("payment.payment_provider_demo", raise_if_not_found=False)
        method = self.env.ref("payment_demo.payment_method_demo", raise_if_not_found=False)
        if not provider or not method or provider.code != "demo":
            return
        company = provider.company_id
        provider.write({"state": "test", "is_published": True})
        token = self.env["payment.token"].create(
            {
                "provider_id": provider.id,
                "payment_method_id": method.id,
                "partner_id": contact.id,
                "payment_details": "4242",
                "provider_ref": "demo-card-4242",
                "demo_simulated_state": "done",
            }
        )
        client.with_company(company).write({"agency_autopay": True, "agency_autopay_token_id": token.id})
        today = fields.Date.context_today(self)
        Run = self.env["agency.billing.run"]
        first = Run._run_now(company, today, partners=client, trigger="client").invoice_ids
        first.filtered(lambda m: m.state == "draft").action_post()
        self._charge_now(first.filtered(lambda m: m.agency_charge_date))
        if first and first[0].payment_state in ("paid", "in_payment"):
            self.env["agency.refund.wizard"].create(
                {"move_id": first[0].id, "amount": 20.0, "reason": "Two days of downtime"}
            ).action_refund()
        items = client.billable_item_ids.filtered(lambda item: item.invoice_action == const.ACTION_HOLD)
        if items:
            second = Run._run_for_items(items).invoice_ids
            second.filtered(lambda m: m.state == "draft").action_post()
            self._charge_now(second.filtered(lambda m: m.agency_charge_date))
