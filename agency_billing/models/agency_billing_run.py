import logging
from collections import defaultdict

import psycopg2.errors

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.fields import Command, Domain
from odoo.tools.misc import format_date

from .. import const
from ..charges import TimeCharge
from ..exceptions import BillingError

_logger = logging.getLogger(__name__)

# account.move.line._compute_sequence: product lines first, then the taxes
PRODUCT_LINE_SEQUENCE = 100
TAX_LINE_SEQUENCE = 10000

# Context for invoices made by a run: no "created" note, no tracking, no
# automatic follower: they cost queries per invoice and tell nobody anything.
QUIET_CREATE = {
    "tracking_disable": True,
    "mail_create_nolog": True,
    "mail_create_nosubscribe": True,
    "mail_notrack": True,
}


class AgencyBillingRun(models.Model):
    """One billing run: what it billed, what it skipped and why.

    The chain, each step overridable: ``_cron_bill_due_items`` (entry) →
    ``_get_due_partners`` (what is due) → ``_bill_partners`` (one batch, locked)
    → ``_prepare_invoice_vals`` / ``item._prepare_invoice_line_vals`` (plain
    dicts) → one ``create()`` for the batch → post / send per client setting.
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
    state = fields.Selection(const.RUN_STATES, default="running", required=True, readonly=True)
    date_started = fields.Datetime(string="Started", readonly=True, default=fields.Datetime.now)
    date_finished = fields.Datetime(string="Finished", readonly=True)
    duration = fields.Float(string="Duration (s)", readonly=True, digits=(16, 1))
    invoice_ids = fields.One2many("account.move", "agency_billing_run_id", string="Invoices", readonly=True)
    invoice_count = fields.Integer(readonly=True)
    item_count = fields.Integer(string="Items Billed", readonly=True)
    line_count = fields.Integer(string="Lines", readonly=True)
    timesheet_count = fields.Integer(string="Timesheet Entries Billed", readonly=True)
    client_count = fields.Integer(string="Clients Billed", readonly=True)
    skipped_count = fields.Integer(string="Clients Skipped", readonly=True)
    error_count = fields.Integer(string="Errors", readonly=True)
    log_ids = fields.One2many("agency.billing.run.log", "run_id", readonly=True)
    scope_partner_ids = fields.Many2many("res.partner", string="Only Clients", readonly=True)
    scope_item_ids = fields.Many2many("agency.billable.item", string="Only Items", readonly=True)
    scope_project_ids = fields.Many2many("project.project", string="Only Projects", readonly=True)
    is_time_only = fields.Boolean(string="Time Only", readonly=True)

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
        """The daily billing run: every company, in committed batches.

        Returns with work left when the cron's time is up: Odoo then runs it
        again at once, and the unfinished run record of today is resumed.
        """
        Cron = self.env["ir.cron"]
        companies = self._get_companies_to_bill()
        for company in companies:
            run = self._get_cron_run(company)
            if run.state != "running":
                continue
            batch_size = run._get_batch_size()
            due = run._due_partner_ids()
            Cron._commit_progress(remaining=len(due))
            while due:
                partners = self.env["res.partner"].browse(due[:batch_size])
                try:
                    run._bill_partners(partners)
                except psycopg2.errors.SerializationFailure:
                    # another worker changed these clients since our snapshot:
                    # start again from a fresh one; nothing of this batch is kept
                    self.env.cr.rollback()
                    self.env.invalidate_all()
                    due = run._due_partner_ids()
                    continue
                # one look at what is left serves as the progress and the next batch
                due = run._due_partner_ids()
                if not due:
                    run._finish()
                time_left = Cron._commit_progress(len(partners), remaining=len(due))
                if due and time_left <= 0:
                    return
            if run.state == "running":
                run._finish()
                Cron._commit_progress()

    @api.model
    def _get_companies_to_bill(self):
        """Companies with pending items or unbilled billable time."""
        with_items = self.env["agency.billable.item"]._read_group(
            [("state", "=", const.STATE_PENDING)], groupby=["company_id"]
        )
        with_time = self.env["account.analytic.line"]._read_group(
            [("agency_billing_state", "=", "to_bill"), ("project_id", "!=", False)], groupby=["company_id"]
        )
        companies = self.env["res.company"]
        for (company,) in with_items + with_time:
            companies |= company
        return companies

    @api.model
    def _get_cron_run(self, company):
        today = fields.Date.context_today(self.with_company(company))
        stale = self.search(
            [
                ("company_id", "=", company.id),
                ("trigger", "=", "cron"),
                ("state", "=", "running"),
                ("date", "<", today),
            ]
        )
        for run in stale:
            run._finish(note=self.env._("Interrupted; the next run billed what was left."))
        run = self.search(
            [("company_id", "=", company.id), ("trigger", "=", "cron"), ("date", "=", today)], limit=1
        )
        return run or self.with_company(company).create(
            {"company_id": company.id, "date": today, "trigger": "cron", "user_id": self.env.user.id}
        )

    # ------------------------------------------------------------------
    # PUBLIC API (buttons, wizards, RPC)
    # ------------------------------------------------------------------
    @api.model
    def _run_now(
        self, company, date, partners=None, items=None, trigger="manual", *, projects=None, time_only=False
    ):
        """A run in the current transaction, for one company. Returns the run."""
        vals = {"company_id": company.id, "date": date, "trigger": trigger, "is_time_only": time_only}
        if projects:
            vals["scope_project_ids"] = [Command.set(projects.ids)]
        if partners:
            vals["scope_partner_ids"] = [Command.set(partners.ids)]
        if items:
            vals["scope_item_ids"] = [Command.set(items.ids)]
        run = self.with_company(company).create(vals)
        batch_size = run._get_batch_size()
        while True:
            batch = run._get_due_partners(limit=batch_size)
            if not batch:
                break
            run._bill_partners(batch)
        run._finish()
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
    def _preview(self, company, date, partners=None):
        """What a run would invoice, per client, without writing anything.

        The run is made for real inside a savepoint that is then rolled back,
        so the amounts are Odoo's own (taxes, fiscal positions, rounding).
        """
        lines = []
        savepoint = self.env.cr.savepoint()  # closed below with a rollback
        try:
            run = self.with_context(agency_billing_dry_run=True)._run_now(company, date, partners=partners)
            for move in run.invoice_ids:
                lines.append(
                    {
                        "partner_id": move.partner_id.commercial_partner_id.id,
                        "currency_id": move.currency_id.id,
                        "amount_untaxed": move.amount_untaxed,
                        "amount_total": move.amount_total,
                        "line_count": len(move.invoice_line_ids),
                        "description": "\n".join(move.invoice_line_ids.mapped("name")),
                        "level": "billed",
                    }
                )
            for log in run.log_ids.filtered(lambda log: log.level != "billed"):
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
        finally:
            savepoint.close(rollback=True)
            self.env.invalidate_all()
        return lines

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
        action = self.env["ir.actions.act_window"]._for_xml_id("account.action_move_out_invoice_type")
        action["domain"] = [("agency_billing_run_id", "=", self.id)]
        action["context"] = {"create": False}
        return action

    # ------------------------------------------------------------------
    # FINDING WHAT IS DUE
    # ------------------------------------------------------------------
    def _get_batch_size(self):
        value = self.env["ir.config_parameter"].sudo().get_param(const.PARAM_BATCH_SIZE)
        try:
            return max(int(value), 1) if value else const.DEFAULT_BATCH_SIZE
        except ValueError:
            return const.DEFAULT_BATCH_SIZE

    def _get_item_domain(self):
        self.ensure_one()
        domain = Domain("company_id", "=", self.company_id.id)
        if self.scope_item_ids:
            return (
                domain
                & Domain("id", "in", self.scope_item_ids.ids)
                & Domain("state", "=", const.STATE_PENDING)
            )
        domain &= self.env["agency.billable.item"]._get_due_domain(self.date)
        if self.scope_partner_ids:
            domain &= Domain("partner_id", "in", self.scope_partner_ids.ids)
        return domain

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

    def _get_time_domain(self):
        self.ensure_one()
        domain = self.env["account.analytic.line"]._agency_to_bill_domain(self.date, self.company_id)
        if self.scope_partner_ids:
            domain &= Domain("partner_id", "child_of", self.scope_partner_ids.ids)
        if self.scope_project_ids:
            domain &= Domain("project_id", "in", self.scope_project_ids.ids)
        return domain

    def _due_partner_ids(self):
        """Ids of the clients with something due that this run has not dealt with yet."""
        self.ensure_one()
        partner_ids = set()
        if not self.is_time_only:
            groups = self.env["agency.billable.item"]._read_group(
                self._get_item_domain(), groupby=["partner_id"]
            )
            partner_ids.update(partner.id for (partner,) in groups)
        if not self.scope_item_ids:
            groups = self.env["account.analytic.line"]._read_group(
                self._get_time_domain(), groupby=["partner_id"]
            )
            partner_ids.update(partner.commercial_partner_id.id for (partner,) in groups)
        partner_ids.difference_update(self._get_done_partner_ids())
        return sorted(partner_ids)

    def _get_due_partners(self, limit=None):
        return self.env["res.partner"].browse(self._due_partner_ids()[:limit])

    # ------------------------------------------------------------------
    # BILLING ONE BATCH
    # ------------------------------------------------------------------
    def _bill_partners(self, partners):
        """Bill a batch of clients, each all or nothing, in one transaction."""
        self.ensure_one()
        # Row locks on the clients: a concurrent run skips them instead of
        # billing them twice (and the unique index on invoice lines backs this up).
        locked = partners.try_lock_for_update(allow_referencing=True)
        for partner in partners - locked:
            self._log(partner, "skipped", self.env._("Another billing run is billing this client right now."))
        if not locked:
            return
        Item = self.env["agency.billable.item"].with_company(self.company_id)
        items = Item.browse()
        if not self.is_time_only:
            items = Item.search(self._get_item_domain() & Domain("partner_id", "in", locked.ids))
        if not self.scope_item_ids and not self.is_time_only:
            # "next invoice" items ride along on the invoices this run makes
            items |= Item.search(
                [
                    ("company_id", "=", self.company_id.id),
                    ("partner_id", "in", items.partner_id.ids),
                    ("state", "=", const.STATE_PENDING),
                    ("invoice_action", "=", const.ACTION_NEXT_INVOICE),
                ]
            )
        due = items._get_due_periods(self.date, force=bool(self.scope_item_ids))
        by_partner = defaultdict(dict)
        for item, periods in due.items():
            by_partner[item.partner_id][item] = periods
        time_by_partner = self._get_time_charges(locked) if not self.scope_item_ids else {}
        billable = self.env["res.partner"].concat(*by_partner, *time_by_partner)
        batch = self._prepare_batch_context()
        for partner in locked - billable:
            self._log(partner, "skipped", self.env._("Nothing due to invoice."))

        plans = {}
        for partner in billable:
            item_periods = by_partner.get(partner, {})
            try:
                plans[partner] = self._plan_partner_invoices(
                    partner, item_periods, time_by_partner.get(partner, []), batch=batch
                )
            except BillingError as error:
                self._fail_partner(
                    partner, self.env["agency.billable.item"].concat(*item_periods), str(error)
                )
        plans = {partner: plan for partner, plan in plans.items() if plan}
        if not plans:
            return

        try:
            with self.env.cr.savepoint():
                self._create_and_process(plans, batch=batch)
        except Exception:
            _logger.info(
                "billing run %s: batch failed, billing its clients one by one", self.name, exc_info=True
            )
            self.env.invalidate_all()
            for partner, plan in plans.items():
                try:
                    with self.env.cr.savepoint():
                        self._create_and_process({partner: plan}, batch=batch)
                except Exception as error:
                    self.env.invalidate_all()
                    items = self.env["agency.billable.item"].concat(
                        *(i for inv in plan for i, _p in inv["lines"] if not isinstance(i, TimeCharge))
                    )
                    self._fail_partner(partner, items, self._error_message(error), error=error)

    def _plan_partner_invoices(self, partner, item_periods, time_charges=(), batch=None):
        """Group a client's due periods and time into invoices: [{currency, project, lines}].

        A line is ``(item, period)`` or ``(TimeCharge, None)``.
        """
        self._check_partner_billable(partner, item_periods, batch or self._prepare_batch_context())
        group_by_project = partner.with_company(self.company_id).billing_group_by_project
        groups = {}
        for charge in time_charges:
            key = (charge.currency, charge.project if group_by_project else None)
            groups.setdefault(key, []).append((charge, None))
        riders = []
        for item, periods in item_periods.items():
            if item.invoice_action == const.ACTION_NEXT_INVOICE:
                riders.append((item, periods))
                continue
            key = (item.currency_id, item.project_id if group_by_project else None)
            groups.setdefault(key, []).extend((item, period) for period in periods)
        for item, periods in riders:
            key = (item.currency_id, item.project_id if group_by_project else None)
            if key not in groups:
                # no invoice of its project: any invoice of the client in its currency
                key = next((k for k in groups if k[0] == item.currency_id), None)
            if key is not None:
                groups[key].extend((item, period) for period in periods)
        return [
            {"currency": currency, "project": project, "lines": lines}
            for (currency, project), lines in groups.items()
        ]

    # ------------------------------------------------------------------
    # TIME
    # ------------------------------------------------------------------
    def _get_time_charges(self, partners):
        """{client: [TimeCharge]}: the unbilled billable time of locked clients.

        Entries without a rate anywhere are left to bill (never billed at a
        wrong price) and listed in the run log.
        """
        AAL = self.env["account.analytic.line"].with_company(self.company_id)
        lines = AAL.search(
            self._get_time_domain() & Domain("partner_id", "child_of", partners.ids), order="date, id"
        )
        if not lines:
            return {}
        rates = self.env["agency.rate"]._find_rates(lines)
        groups = {}
        no_rate = defaultdict(lambda: AAL)
        for line in lines:
            client = line.partner_id.commercial_partner_id
            rate, _level = rates[line]
            if rate is None:
                no_rate[client] |= line
                continue
            grouping = client.agency_time_grouping or "project"
            product = line._agency_time_product()
            key = (
                client,
                line.project_id,
                product,
                rate,
                line.task_id if grouping == "task" else None,
                line.employee_id if grouping == "employee" else None,
                line.id if grouping == "entry" else None,
            )
            groups.setdefault(key, AAL)
            groups[key] |= line
        for client, missing in no_rate.items():
            self._log(
                client,
                "skipped",
                self.env._(
                    "No rate found for %(count)s timesheet entries (%(hours)s h): set a rate for the "
                    "project, client or employee, or a service product for time. They were not billed.",
                    count=len(missing),
                    hours=round(sum(missing.mapped("unit_amount")), 2),
                ),
            )
        result = defaultdict(list)
        for (client, project, product, rate, task, employee, _entry), timesheets in groups.items():
            charge = TimeCharge(
                timesheets=timesheets,
                product=product,
                project=project,
                currency=self.company_id.currency_id,
                rate=rate,
                quantity=round(sum(timesheets.mapped("agency_quantity")), 6),
            )
            charge.label = self._get_time_label(client, charge, task, employee)
            result[client].append(charge)
        return result

    def _get_time_label(self, client, charge, task=None, employee=None):
        env = self.with_context(lang=client.lang).env if client.lang else self.env
        timesheets = charge.timesheets
        first, last = min(timesheets.mapped("date")), max(timesheets.mapped("date"))
        if len(timesheets) == 1:
            subject = " — ".join(
                filter(None, [charge.project.name, timesheets.task_id.name, timesheets.name])
            )
        else:
            subject = " — ".join(
                filter(
                    None,
                    [charge.project.name, task.name if task else None, employee.name if employee else None],
                )
            )
        period = (
            format_date(env, first, date_format="d MMM yyyy")
            if first == last
            else env._(
                "%(start)s to %(end)s",
                start=format_date(env, first, date_format="d MMM yyyy"),
                end=format_date(env, last, date_format="d MMM yyyy"),
            )
        )
        return env._(
            "%(subject)s: %(period)s, %(hours)s h × %(rate)s",
            subject=subject,
            period=period,
            hours=f"{charge.quantity:.2f}",
            rate=f"{charge.rate:.2f}",
        )

    def _prepare_time_line_vals(self, charge, fiscal_position):
        """The invoice line that bills a group of timesheet lines."""
        vals = {
            "name": charge.label,
            "quantity": charge.quantity,
            "price_unit": charge.rate,
            "agency_timesheet_billing_ids": [
                Command.create(
                    {"analytic_line_id": line.id, "rate": charge.rate, "quantity": line.agency_quantity}
                )
                for line in charge.timesheets
            ],
        }
        taxes = self.env["account.tax"]
        if charge.product:
            vals["product_id"] = charge.product.id
            vals["product_uom_id"] = charge.product.uom_id.id
            taxes = charge.product.taxes_id._filter_taxes_by_company(self.company_id)
            if fiscal_position:
                taxes = fiscal_position.map_tax(taxes)
        vals["tax_ids"] = [Command.set(taxes.ids)]
        if charge.project.account_id:
            vals["analytic_distribution"] = {str(charge.project.account_id.id): 100}
        return vals

    def _get_sale_journal(self):
        """The company's sales journal, looked up once per batch (empty when there is none)."""
        Journal = self.env["account.journal"]
        return Journal.search(
            [*Journal._check_company_domain(self.company_id), ("type", "=", "sale")], limit=1
        )

    def _check_partner_billable(self, partner, item_periods, batch):
        if not partner.active:
            raise BillingError(self.env._("The client %(client)s is archived.", client=partner.display_name))
        journal = batch["journal"]
        if not journal:
            raise BillingError(
                self.env._("The company %(company)s has no sales journal.", company=self.company_id.name)
            )
        no_fiscal_position = self.env["account.fiscal.position"]
        for item in item_periods:
            if not (
                self._get_income_account(item.product_id, no_fiscal_position, batch)
                or journal.default_account_id
            ):
                raise BillingError(
                    self.env._(
                        "No income account for “%(item)s”: set one on its product or product category.",
                        item=item.name,
                    )
                )

    def _prepare_invoice_vals(self, partner, plan, with_accounting=True, batch=None):
        """The values of one invoice of a client (a plain dict, one create for the batch).

        ``batch`` is what the invoices of one batch share (see
        ``_prepare_batch_context``); without it, it is looked up for this invoice.
        """
        company = self.company_id
        invoice_partner = self.env["res.partner"].browse(partner.address_get(["invoice"])["invoice"])
        fiscal_position = (
            self.env["account.fiscal.position"].with_company(company)._get_fiscal_position(invoice_partner)
        )
        lang = partner.lang or self.env.lang
        line_vals = [
            Command.create(
                self._prepare_time_line_vals(source, fiscal_position)
                if isinstance(source, TimeCharge)
                else source._prepare_invoice_line_vals(period, fiscal_position=fiscal_position, lang=lang)
            )
            for source, period in plan["lines"]
        ]
        vals = {
            "move_type": "out_invoice",
            "partner_id": invoice_partner.id,
            "company_id": company.id,
            "currency_id": plan["currency"].id,
            "fiscal_position_id": fiscal_position.id,
            "invoice_date": self.date,
            "invoice_origin": self.name,
            "agency_billing_run_id": self.id,
            "invoice_line_ids": line_vals,
        }
        if with_accounting:
            self._add_accounting_values(vals, partner, plan, fiscal_position, batch=batch)
        return vals

    def _prepare_batch_context(self):
        """What every invoice of a batch shares, looked up once per batch.

        ``journal``: the sales journal; ``income_accounts``: the income account
        per (product, fiscal position); ``line_totals``: a line's subtotal and
        total per (price, quantity, product, unit, taxes);
        ``analytic_models``: whether the company has any analytic distribution
        model, without which Odoo's per-line lookup of one always finds nothing.
        """
        Model = self.env["account.analytic.distribution.model"]
        return {
            "journal": self._get_sale_journal(),
            "income_accounts": {},
            "line_totals": {},
            "analytic_models": bool(
                Model.search_count([("company_id", "in", [self.company_id.id, False])], limit=1)
            ),
        }

    def _get_income_account(self, product, fiscal_position, batch=None):
        key = (product.id, fiscal_position.id)
        cache = batch["income_accounts"] if batch is not None else {}
        if key not in cache:
            cache[key] = (
                product.product_tmpl_id.with_company(self.company_id)
                .get_product_accounts(fiscal_pos=fiscal_position)
                .get("income")
            )
        return cache[key]

    def _add_accounting_values(self, vals, partner, plan, fiscal_position, batch=None):
        """Hand Odoo's tax engine all the lines of the invoice at once.

        Odoo's `account.move.create` recomputes the taxes line by line through
        the ORM (one write per invoice line), which is most of the time a run
        takes. For invoices in the company's currency, with plain taxes, no
        early-payment discount, no cash rounding and no analytic distribution
        model, the run asks the same tax engine (`account.tax`) for the base
        amounts, tags and tax lines of the whole invoice in one go and puts
        them in ``line_ids``; `_create_invoices` then creates the invoice with
        them as they are (as Odoo does for an imported invoice) and adds the
        receivable lines. Anything else goes the ordinary way. A test compares
        both ways journal item by journal item.
        """
        company = self.company_id
        if batch is None:
            batch = self._prepare_batch_context()
        if not self._can_prepare_accounting(partner, plan, fiscal_position, vals, batch=batch):
            return

        AccountTax = self.env["account.tax"]
        sign = -1  # customer invoice: income is a credit
        base_lines = []
        for command in vals["invoice_line_ids"]:
            line = command[2]
            product = self.env["product.product"].browse(line["product_id"])
            taxes = self.env["account.tax"].browse(line["tax_ids"][0][2])
            account = self._get_income_account(product, fiscal_position, batch)
            # no analytic distribution model (see _can_prepare_accounting):
            # Odoo's per-line lookup would find nothing
            line.setdefault("analytic_distribution", False)
            line["display_type"] = "product"
            base_lines.append(
                AccountTax._prepare_base_line_for_taxes_computation(
                    line,
                    price_unit=line["price_unit"],
                    quantity=line["quantity"],
                    discount=0.0,
                    currency_id=company.currency_id,
                    product_id=product,
                    product_uom_id=product.uom_id,
                    tax_ids=taxes,
                    partner_id=partner,
                    account_id=account,
                    analytic_distribution=line.get("analytic_distribution"),
                    rate=1.0,
                    sign=sign,
                    is_refund=False,
                    special_mode=False,
                    name=line["name"],
                )
            )
        for base_line in base_lines:
            # each line alone, as account.move.line._compute_totals does; the
            # same price, quantity, product and taxes give the same totals
            key = (
                base_line["price_unit"],
                base_line["quantity"],
                base_line["product_id"].id,
                base_line["product_uom_id"].id,
                tuple(base_line["tax_ids"].ids),
            )
            if key not in batch["line_totals"]:
                AccountTax._add_tax_details_in_base_line(base_line, company)
                AccountTax._round_base_lines_tax_details([base_line], company)
                details = base_line["tax_details"]
                batch["line_totals"][key] = {
                    "price_subtotal": details["total_excluded_currency"],
                    "price_total": details["total_included_currency"],
                }
            base_line["record"].update(batch["line_totals"][key])
        AccountTax._add_tax_details_in_base_lines(base_lines, company)
        AccountTax._round_base_lines_tax_details(base_lines, company)
        AccountTax._add_accounting_data_in_base_lines_tax_details(
            base_lines, company, include_caba_tags=False
        )
        results = AccountTax._prepare_tax_lines(base_lines, company)
        for base_line, to_update in results["base_lines_to_update"]:
            base_line["record"].update(to_update)
            base_line["record"]["account_id"] = base_line["account_id"].id
        tax_lines = [{**tax_vals, "display_type": "tax"} for tax_vals in results["tax_lines_to_add"]]
        line_vals = list(vals.pop("invoice_line_ids"))
        self._add_precomputed_line_values([command[2] for command in line_vals], tax_lines, partner, batch)
        vals["journal_id"] = batch["journal"].id
        vals["line_ids"] = line_vals + [Command.create(tax_vals) for tax_vals in tax_lines]

    def _add_precomputed_line_values(self, product_lines, tax_lines, partner, batch):
        """Give prepared lines the values Odoo would precompute for them.

        Odoo computes a line's missing precomputed fields (account, currency,
        partner, sequence, …) one line at a time on a temporary record. The
        run knows them: the same values as Odoo's computations for an invoice
        in the company's currency without storno accounting (a test compares
        every one of them). Odoo still computes its read-only ones (company,
        journal, debit and credit, …) itself.
        """
        company = self.company_id
        common = {"currency_id": company.currency_id.id, "partner_id": partner.id, "is_storno": False}
        for line in product_lines:
            line.update(common, sequence=PRODUCT_LINE_SEQUENCE)
        for line in tax_lines:
            line.update(
                common, sequence=TAX_LINE_SEQUENCE, quantity=0.0, price_unit=0.0, product_uom_id=False
            )

    def _can_prepare_accounting(self, partner, plan, fiscal_position, vals=None, batch=None):
        company = self.company_id
        if plan["currency"] != company.currency_id or company.tax_calculation_rounding_method not in (
            "round_per_line",
            "round_globally",
        ):
            return False
        payment_term = partner.with_company(company).property_payment_term_id
        # an analytic distribution from a model (or from sale_project's
        # "project_id" context) reaches the lines, and the tax lines, through
        # Odoo's own per-line lookup: the ordinary way
        if (
            payment_term.early_discount
            or company.account_storno
            or (batch or self._prepare_batch_context())["analytic_models"]
            or self.env.context.get("project_id")
        ):
            return False
        if vals is None:
            vals = self._prepare_invoice_vals(partner, plan, with_accounting=False)
        for command in vals["invoice_line_ids"]:
            line = command[2]
            product = self.env["product.product"].browse(line.get("product_id"))
            if not product:
                return False
            taxes = self.env["account.tax"].browse(line["tax_ids"][0][2]).flatten_taxes_hierarchy()
            if any(tax.tax_exigibility != "on_invoice" or tax.amount_type == "code" for tax in taxes):
                return False
            if not self._get_income_account(product, fiscal_position, batch):
                return False
        return True

    def _create_and_process(self, plans, batch=None):
        """Create, then post and queue for sending, the invoices of some clients."""
        vals_list, owners = [], []
        batch = batch or self._prepare_batch_context()
        for partner, plan in plans.items():
            for invoice_plan in plan:
                vals_list.append(self._prepare_invoice_vals(partner, invoice_plan, batch=batch))
                owners.append(partner)
        moves, prepared = self._create_invoices(vals_list)
        automation = {
            partner: partner.with_company(self.company_id).billing_automation_effective for partner in plans
        }
        to_post = self.env["account.move"].concat(
            *(
                move
                for move, owner in zip(moves, owners, strict=True)
                if automation[owner] in (const.AUTOMATION_POST, const.AUTOMATION_SEND)
            )
        )
        if to_post:
            # what the tax engine prepared is in company currency: posting
            # changes nothing Odoo's line synchronisation would have to follow
            unsynced = to_post & prepared
            (to_post - unsynced).with_context(**QUIET_CREATE)._post(soft=False)
            unsynced.with_context(**QUIET_CREATE, skip_invoice_sync=True)._post(soft=False)
        to_send = to_post.filtered(
            lambda m: automation[m.partner_id.commercial_partner_id] == const.AUTOMATION_SEND
        )
        if to_send and not self.env.context.get("agency_billing_dry_run"):
            self._queue_sending(to_send)
        items = moves.line_ids.agency_item_id
        timesheets = len(moves.line_ids.agency_timesheet_billing_ids)
        items._update_billing_status()
        items._clear_billing_error()
        self._add_counts(
            invoices=len(moves),
            lines=sum(len(p["lines"]) for plan in plans.values() for p in plan),
            items=len(items),
            clients=len(plans),
            timesheets=timesheets,
        )

    def _create_invoices(self, vals_list):
        """Create the invoices of a batch: (all of them in the order of
        ``vals_list``, those made from prepared accounting).

        Invoices whose accounting ``_add_accounting_values`` prepared (they
        come with ``line_ids``) already have every product and tax line with
        its amounts: Odoo's line synchronisation has nothing left to do for
        them but add the receivable lines. They are created without it and
        get their receivable lines from the same Odoo computation the
        synchronisation uses (``needed_terms``); the balance of each journal
        entry is then checked as Odoo checks it. The others are created the
        ordinary way.
        """
        Move = (
            self.env["account.move"]
            .with_company(self.company_id)
            .with_context(**QUIET_CREATE, default_move_type="out_invoice")
        )
        prepared = [index for index, vals in enumerate(vals_list) if "line_ids" in vals]
        ordinary = [index for index, vals in enumerate(vals_list) if "line_ids" not in vals]
        by_index = {}
        prepared_moves = self.env["account.move"]
        if prepared:
            unsynced = {
                "skip_invoice_sync": True,
                "skip_invoice_line_sync": True,
                "check_move_validity": False,
            }
            moves = Move.with_context(**unsynced).create([vals_list[index] for index in prepared])
            # Their subtotals and totals came with them, from the same per-line
            # computation as account.move.line._compute_totals: Odoo need not
            # make it again (it does not keep given values of read-only
            # computed fields by itself).
            lines = moves.line_ids.filtered(lambda line: line.display_type == "product")
            for fname in ("price_subtotal", "price_total"):
                self.env.remove_to_compute(lines._fields[fname], lines)
            needed = Move._sync_dynamic_line_needed_values(moves.mapped("needed_terms"))
            Line = self.env["account.move.line"].with_company(self.company_id)
            Line.with_context(**QUIET_CREATE, **unsynced).create(
                [{**key, **values, "display_type": "payment_term"} for key, values in needed.items()]
            )
            with self.env["account.move"]._check_balanced({"records": moves}):
                pass
            by_index.update(zip(prepared, moves, strict=True))
            prepared_moves = moves
        if ordinary:
            moves = Move.create([vals_list[index] for index in ordinary])
            by_index.update(zip(ordinary, moves, strict=True))
        moves = self.env["account.move"].concat(*(by_index[index] for index in range(len(vals_list))))
        return moves, prepared_moves

    def _queue_sending(self, moves):
        """Hand the invoices to Odoo's own sending (PDF + email), done by its cron."""
        # each invoice the client's way: its layout, sending method, e-invoice format
        moves._agency_queue_sending(self.user_id or self.env.user)

    # ------------------------------------------------------------------
    # LOG
    # ------------------------------------------------------------------
    @staticmethod
    def _is_concurrent_billing(error):
        return isinstance(error, psycopg2.errors.UniqueViolation) and "agency_exactly_once" in (
            error.diag.constraint_name or ""
        )

    def _error_message(self, error):
        if self._is_concurrent_billing(error):
            return self.env._("Already invoiced: another billing run billed these items at the same time.")
        if isinstance(error, UserError):
            return error.args[0] if error.args else str(error)
        return self.env._("Unexpected error: %(error)s", error=error)

    def _fail_partner(self, partner, items, message, error=None):
        if self._is_concurrent_billing(error):
            # not the client's fault: a concurrent run billed it first
            self._log(partner, "skipped", message, items=items)
            return
        self._log(partner, "error", message, items=items)
        items._flag_billing_error(message)
        partner.message_post(
            body=self.env._(
                "Billing run %(run)s could not bill this client: %(reason)s", run=self.name, reason=message
            ),
            subtype_xmlid="mail.mt_note",
        )

    def _log(self, partner, level, message, items=None):
        self.env["agency.billing.run.log"].create(
            {
                "run_id": self.id,
                "partner_id": partner.id,
                "level": level,
                "message": message,
                "item_ids": [Command.set(items.ids)] if items else False,
            }
        )
        counter = {"skipped": "skipped_count", "error": "error_count"}.get(level)
        if counter:
            self[counter] += 1

    def _add_counts(self, invoices=0, lines=0, items=0, clients=0, timesheets=0):
        self.write(
            {
                "timesheet_count": self.timesheet_count + timesheets,
                "invoice_count": self.invoice_count + invoices,
                "line_count": self.line_count + lines,
                "item_count": self.item_count + items,
                "client_count": self.client_count + clients,
            }
        )

    def _finish(self, note=None):
        now = fields.Datetime.now()
        for run in self:
            run.write(
                {
                    "state": "done" if not note else "failed",
                    "date_finished": now,
                    "duration": (now - run.date_started).total_seconds() if run.date_started else 0.0,
                }
            )
            if note:
                run.message_post(body=note)
        return True
