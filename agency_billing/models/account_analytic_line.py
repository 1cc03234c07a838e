from collections import defaultdict

from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.fields import Command, Domain
from odoo.tools.misc import get_lang

from .. import const, dates, rounding
from ..charges import Charge

# What a billed timesheet line keeps as it was billed.
LOCKED_FIELDS = (
    "unit_amount",
    "date",
    "project_id",
    "task_id",
    "employee_id",
    "agency_billable",
    "partner_id",
)


class AccountAnalyticLine(models.Model):
    _name = "account.analytic.line"
    _inherit = ["account.analytic.line", "agency.charge.source"]

    # the oldest entry of a group is what "age of unbilled time" means
    date = fields.Date(aggregator="min")
    agency_billable = fields.Boolean(
        string="Billable",
        compute="_compute_agency_billable",
        store=True,
        readonly=False,
        help="Default from the task, then the project, then the client.",
    )
    agency_quantity = fields.Float(
        string="Billed Hours",
        compute="_compute_agency_quantity",
        store=True,
        help="The duration rounded as the client's (or project's) contract says; the logged time stays as is.",
    )
    agency_rate_expected = fields.Float(
        string="Rate",
        compute="_compute_agency_expected",
        store=True,
        aggregator=None,
        digits="Product Price",
        help="The hourly rate that applies today to this entry; once billed, see Billed Rate.",
    )
    agency_rate_level = fields.Selection(
        selection=lambda self: self.env["agency.rate"]._fields["level"].selection,
        string="Rate From",
        compute="_compute_agency_expected",
        store=True,
    )
    agency_amount_expected = fields.Float(
        string="Amount to Bill", compute="_compute_agency_expected", store=True, digits="Product Price"
    )
    agency_billing_ids = fields.One2many("agency.timesheet.billing", "analytic_line_id", readonly=True)
    agency_invoice_line_id = fields.Many2one(
        "account.move.line",
        string="Billed On",
        compute="_compute_agency_billing_state",
        store=True,
        index="btree_not_null",
    )
    agency_rate = fields.Float(
        string="Billed Rate",
        compute="_compute_agency_billing_state",
        store=True,
        digits="Product Price",
        aggregator=None,
    )
    agency_amount_billed = fields.Float(
        string="Amount Billed",
        compute="_compute_agency_billing_state",
        store=True,
        digits="Product Price",
        help="Billed hours times the billed rate, untaxed.",
    )
    agency_lock_reason = fields.Char(compute="_compute_agency_lock_reason")
    agency_written_off = fields.Boolean(string="Written Off", copy=False)
    agency_billing_state = fields.Selection(
        const.TIME_STATES,
        string="Billing Status",
        compute="_compute_agency_billing_state",
        store=True,
        index=True,
    )

    # ------------------------------------------------------------------
    # COMPUTE
    # ------------------------------------------------------------------
    @api.depends(
        "project_id.agency_time_billable",
        "project_id.partner_id",
        "task_id.agency_time_billable",
        "partner_id.commercial_partner_id.agency_time_billable",
    )
    def _compute_agency_billable(self):
        for line in self:
            if not line.project_id or line.project_id._agency_is_internal():
                line.agency_billable = False
                continue
            task_policy = line.task_id.agency_time_billable or const.TIME_BILLABLE_PROJECT
            project_policy = line.project_id.agency_time_billable or const.TIME_BILLABLE_CLIENT
            if task_policy != const.TIME_BILLABLE_PROJECT:
                line.agency_billable = task_policy == const.TIME_BILLABLE_YES
            elif project_policy != const.TIME_BILLABLE_CLIENT:
                line.agency_billable = project_policy == const.TIME_BILLABLE_YES
            else:
                client = line.partner_id.commercial_partner_id
                line.agency_billable = bool(client) and client.agency_time_billable

    @api.depends(
        "unit_amount",
        "project_id.agency_rounding_increment",
        "project_id.agency_rounding_method",
        "project_id.agency_rounding_minimum",
        "partner_id.commercial_partner_id.agency_rounding_increment",
        "partner_id.commercial_partner_id.agency_rounding_method",
        "partner_id.commercial_partner_id.agency_rounding_minimum",
    )
    def _compute_agency_quantity(self):
        # at the precision of the invoice line's quantity, so that the hours of
        # the entries add up to exactly what an invoice line bills
        digits = self.env["decimal.precision"].precision_get("Product Unit")
        for line in self:
            rule = line._agency_rounding_rule()
            line.agency_quantity = (
                round(rounding.round_hours(line.unit_amount, *rule), digits) if line.unit_amount > 0 else 0.0
            )

    @api.depends(
        "date",
        "employee_id",
        "task_id",
        "project_id",
        "partner_id",
        "agency_quantity",
        "project_id.agency_time_product_id.lst_price",
        "company_id.agency_time_product_id.lst_price",
    )
    def _compute_agency_expected(self):
        rates = self.env["agency.rate"]._find_rates(self.filtered("project_id"))
        for line in self:
            rate, level = rates.get(line, (None, False))
            line.agency_rate_expected = rate or 0.0
            line.agency_rate_level = level
            line.agency_amount_expected = (rate or 0.0) * line.agency_quantity

    @api.depends(
        "date",
        "agency_billable",
        "agency_written_off",
        "agency_billing_ids.parent_state",
        "agency_billing_ids.is_released",
        "company_id.agency_time_bill_from",
        "project_id.partner_id",
        "so_line",
        "timesheet_invoice_id",
        "project_id.sale_line_id",
        "project_id.sale_line_employee_ids",
        "task_id.sale_line_id",
    )
    def _compute_agency_billing_state(self):
        """One billing state for the time this addon bills; none for time that is not its own.

        Time sold through a sales order is Odoo's to invoice from the order
        (sale_timesheet): it has no state here and is never billed here.
        """
        for line in self:
            live = line.agency_billing_ids.filtered(
                lambda b: b.parent_state != "cancel" and not b.is_released
            )[:1]
            line.agency_invoice_line_id = live.move_line_id
            line.agency_rate = live.rate
            line.agency_amount_billed = live.rate * live.quantity
            bill_from = line.company_id.agency_time_bill_from
            if live:
                line.agency_billing_state = "billed"
            elif not line.project_id or line._agency_is_sold_through_order():
                line.agency_billing_state = False
            elif not line.agency_billable or line.project_id._agency_is_internal():
                line.agency_billing_state = "non_billable"
            elif line.agency_written_off:
                line.agency_billing_state = "written_off"
            elif bill_from and line.date and line.date < bill_from:
                line.agency_billing_state = "before_start"
            else:
                line.agency_billing_state = "to_bill"

    # ------------------------------------------------------------------
    # CONSTRAINTS AND LOCK
    # ------------------------------------------------------------------
    @api.constrains("unit_amount", "agency_billable")
    def _check_agency_duration(self):
        for line in self:
            if (
                line.project_id
                and line.agency_billable
                and line.unit_amount <= 0
                and not line.agency_written_off
            ):
                raise ValidationError(
                    self.env._(
                        "A billable timesheet entry needs a duration above zero (“%(entry)s”). "
                        "Untick Billable for a correction entry.",
                        entry=line.name or "/",
                    )
                )

    @api.constrains("project_id", "agency_billable")
    def _check_agency_project_active(self):
        for line in self:
            if line.project_id and line.agency_billable and not line.project_id.active:
                raise ValidationError(
                    self.env._(
                        "The project %(project)s is archived: billable time goes on an active project.",
                        project=line.project_id.display_name,
                    )
                )

    def write(self, vals):
        if any(field in vals for field in LOCKED_FIELDS):
            billed = self.filtered(lambda line: line.agency_billing_state == "billed")
            changing = billed.filtered(
                lambda line: any(
                    line._fields[f].convert_to_write(line[f], line) != vals[f]
                    for f in LOCKED_FIELDS
                    if f in vals
                )
            )
            if changing:
                raise UserError(changing[0]._agency_lock_message())
        if "agency_written_off" in vals and self.filtered(lambda line: line.agency_billing_state == "billed"):
            raise UserError(
                self.env._("Billed time cannot be written off: cancel or credit its invoice first.")
            )
        return super().write(vals)

    @api.ondelete(at_uninstall=False)
    def _unlink_except_billed(self):
        billed = self.filtered(lambda line: line.agency_billing_state == "billed")
        if billed:
            raise UserError(billed[0]._agency_lock_message())

    @api.depends("agency_billing_state", "agency_invoice_line_id")
    def _compute_agency_lock_reason(self):
        for line in self:
            line.agency_lock_reason = (
                line._agency_lock_message() if line.agency_billing_state == "billed" else False
            )

    def _agency_lock_message(self):
        """Why a billed entry cannot change, naming its invoice, and how to unlock it."""
        self.ensure_one()
        invoice = self.agency_invoice_line_id.move_id
        if invoice.state == "draft":
            return self.env._(
                "This time is billed on the draft invoice %(invoice)s: remove its line from that invoice "
                "(or cancel the invoice) to change or delete it.",
                invoice=invoice.display_name,
            )
        return self.env._(
            "This time is billed on invoice %(invoice)s: to change or delete it, reset that invoice to draft "
            "and cancel it, or credit it and release the credited time.",
            invoice=invoice.name,
        )

    def _is_readonly(self):
        # billed time shows as locked in the timesheet form and lists
        return super()._is_readonly() or self.agency_billing_state == "billed"

    # ------------------------------------------------------------------
    # ACTIONS
    # ------------------------------------------------------------------
    def action_agency_write_off(self):
        self.filtered(lambda line: line.agency_billing_state == "to_bill").write({"agency_written_off": True})

    def action_agency_restore(self):
        self.filtered("agency_written_off").write({"agency_written_off": False})

    # ------------------------------------------------------------------
    # HELPERS
    # ------------------------------------------------------------------
    def _agency_rounding_rule(self):
        """(increment, method, minimum) in minutes: the project's, else the client's."""
        project = self.project_id
        if project.agency_rounding_increment or project.agency_rounding_minimum:
            return (
                project.agency_rounding_increment,
                project.agency_rounding_method or rounding.UP,
                project.agency_rounding_minimum,
            )
        client = self.partner_id.commercial_partner_id
        return (
            client.agency_rounding_increment,
            client.agency_rounding_method or rounding.UP,
            client.agency_rounding_minimum,
        )

    def _agency_is_sold_through_order(self):
        """Whether Odoo invoices this time from a sales order (sale_timesheet), in any of its ways:
        the entry's order line, its task's or project's, the project's employee mapping, or an
        invoice made from the order's timesheets."""
        self.ensure_one()
        project, task = self.project_id.sudo(), self.task_id.sudo()
        return bool(
            self.so_line
            or self.timesheet_invoice_id
            or task.sale_line_id
            or project.sale_line_id
            or project.sale_line_employee_ids
        )

    def _agency_time_product(self):
        return self.project_id.agency_time_product_id or self.company_id.agency_time_product_id

    @api.model
    def _agency_to_bill_domain(self, up_to, company):
        # the billing state says what is ours to bill (not sold through an
        # order, not internal, not before the billing start, …)
        return Domain.AND(
            [
                Domain("company_id", "=", company.id),
                Domain("project_id", "!=", False),
                Domain("agency_billing_state", "=", "to_bill"),
                Domain("date", "<=", up_to),
                Domain("partner_id", "!=", False),
            ]
        )

    @api.model
    def _agency_recompute_expected(self, domain=None):
        """Rate rules changed: refresh what unbilled time is worth."""
        lines = self.search(
            Domain.AND([Domain("agency_billing_state", "=", "to_bill"), Domain(domain or [])])
        )
        self.env.add_to_compute(self._fields["agency_rate_expected"], lines)
        self.env.add_to_compute(self._fields["agency_rate_level"], lines)
        self.env.add_to_compute(self._fields["agency_amount_expected"], lines)

    # ------------------------------------------------------------------
    # CHARGE SOURCE (see agency.charge.source)
    # ------------------------------------------------------------------
    _agency_charge_sequence = 20

    @api.model
    def _agency_source_description(self):
        return self.env._("Timesheets")

    @api.model
    def _agency_run_domain(self, run):
        domain = self._agency_to_bill_domain(run.date, run.company_id)
        if run.scope_partner_ids:
            domain &= Domain("partner_id", "child_of", run.scope_partner_ids.ids)
        if run.scope_project_ids:
            domain &= Domain("project_id", "in", run.scope_project_ids.ids)
        return domain

    @api.model
    def _agency_due_partner_ids(self, run):
        if run.scope_item_ids:
            return set()
        groups = self._read_group(self._agency_run_domain(run), groupby=["partner_id"])
        return {partner.commercial_partner_id.id for (partner,) in groups}

    @api.model
    def _agency_get_charges(self, batch, partners):
        """The unbilled billable time of the clients, one charge per invoice line.

        Entries are grouped per client setting (project, task, employee or
        entry) and never across rates. Entries without a rate anywhere are
        left to bill (never billed at a wrong price) and listed in the run log.
        """
        run = batch.run
        if run.scope_item_ids:
            return []
        AAL = self.with_company(run.company_id)
        lines = AAL.search(
            self._agency_run_domain(run) & Domain("partner_id", "child_of", partners.ids), order="date, id"
        )
        if not lines:
            return []
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
            key = (
                client,
                line.project_id,
                line._agency_time_product(),
                rate,
                line.task_id if grouping == "task" else None,
                line.employee_id if grouping == "employee" else None,
                line.id if grouping == "entry" else None,
            )
            groups.setdefault(key, AAL)
            groups[key] |= line
        for client, missing in no_rate.items():
            run._log(
                client,
                "skipped",
                self.env._(
                    "No rate found for %(count)s timesheet entries (%(hours)s h): set a rate for the "
                    "project, client or employee, or a service product for time. They were not billed.",
                    count=len(missing),
                    hours=round(sum(missing.mapped("unit_amount")), 2),
                ),
            )
        return [
            Charge(
                source=self._name,
                partner=client,
                currency=run.company_id.currency_id,
                project=project,
                records=timesheets,
                values={"product": product, "rate": rate, "task": task, "employee": employee},
            )
            for (client, project, product, rate, task, employee, _entry), timesheets in groups.items()
        ]

    @api.model
    def _prepare_agency_invoice_line_vals(self, charge, invoice_vals):
        """The invoice line that bills a group of timesheet lines at one rate."""
        company = self.env["res.company"].browse(invoice_vals["company_id"])
        fiscal_position = self.env["account.fiscal.position"].browse(invoice_vals.get("fiscal_position_id"))
        product, rate = charge.values["product"], charge.values["rate"]
        timesheets = charge.records
        vals = {
            "name": self._agency_time_label(charge),
            "quantity": round(sum(timesheets.mapped("agency_quantity")), 6),
            "price_unit": rate,
            "agency_timesheet_billing_ids": [
                Command.create({"analytic_line_id": line.id, "rate": rate, "quantity": line.agency_quantity})
                for line in timesheets
            ],
        }
        taxes = self.env["account.tax"]
        if product:
            vals["product_id"] = product.id
            vals["product_uom_id"] = product.uom_id.id
            taxes = product.taxes_id._filter_taxes_by_company(company)
            if fiscal_position:
                taxes = fiscal_position.map_tax(taxes)
        vals["tax_ids"] = [Command.set(taxes.ids)]
        if charge.project.account_id:
            vals["analytic_distribution"] = {str(charge.project.account_id.id): 100}
        return vals

    @api.model
    def _agency_time_label(self, charge):
        """ "Shop — Checkout: 2 Mar 2027 to 9 Mar 2027, 3.50 h × 95.00", in the client's language."""
        client = charge.partner
        env = (
            self.with_context(lang=client.lang).env
            if client.lang and client.lang != self.env.lang
            else self.env
        )
        timesheets = charge.records
        task, employee = charge.values.get("task"), charge.values.get("employee")
        first, last = min(timesheets.mapped("date")), max(timesheets.mapped("date"))
        if len(timesheets) == 1:
            parts = [charge.project.name, timesheets.task_id.name, timesheets.name]
        else:
            parts = [charge.project.name, task.name if task else None, employee.name if employee else None]
        subject = " — ".join(filter(None, parts))
        lang_code = get_lang(env).code
        period = (
            dates.format_day(lang_code, first)
            if first == last
            else env._(
                "%(start)s to %(end)s",
                start=dates.format_day(lang_code, first),
                end=dates.format_day(lang_code, last),
            )
        )
        quantity = sum(timesheets.mapped("agency_quantity"))
        return env._(
            "%(subject)s: %(period)s, %(hours)s h × %(rate)s",
            subject=subject,
            period=period,
            hours=f"{quantity:.2f}",
            rate=f"{charge.values['rate']:.2f}",
        )

    @api.model
    def _agency_after_invoicing(self, batch, lines):
        return {"timesheet_count": len(lines.agency_timesheet_billing_ids)}
