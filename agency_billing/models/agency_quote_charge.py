from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.fields import Command, Domain
from odoo.tools import float_compare, float_is_zero
from odoo.tools.misc import format_date

from .. import quotes
from ..charges import Charge
from ..exceptions import BillingError


class AgencyQuoteCharge(models.Model):
    """One invoice an accepted quote asked for: the whole quote, a deposit, or the rest.

    A charge source: the billing run finds the ones that are due (at once, on
    the next run, on a date, or once the work is delivered), bills them with
    the client's invoice automation, and each invoice line is Odoo's own line
    of its order line (``sale.order.line._prepare_invoice_line``, linked by
    ``sale_line_ids``), so that the order's invoiced quantities and status
    stay true. A deposit is an Odoo down payment (down payment lines on the
    order), deducted on the invoice of the rest the way Odoo's final invoice
    deducts it. Exactly once: an order line is on at most one invoice of a
    charge that is not cancelled (a unique index on the invoice lines).
    """

    _name = "agency.quote.charge"
    _description = "Quote Invoice"
    _inherit = ["agency.charge.source"]
    _order = "order_id, id"
    _check_company_auto = True

    name = fields.Char(compute="_compute_name")
    order_id = fields.Many2one("sale.order", required=True, readonly=True, index=True, ondelete="cascade")
    acceptance_id = fields.Many2one("agency.quote.acceptance", readonly=True, ondelete="set null")
    partner_id = fields.Many2one(
        related="order_id.partner_id.commercial_partner_id", string="Client", store=True, index=True
    )
    company_id = fields.Many2one(related="order_id.company_id", store=True, index=True)
    currency_id = fields.Many2one(related="order_id.currency_id", store=True)
    kind = fields.Selection(quotes.CHARGE_KINDS, required=True, readonly=True)
    invoice_trigger = fields.Selection(
        quotes.CHARGE_TRIGGERS, string="Invoiced", required=True, readonly=True
    )
    date_due = fields.Date(string="Invoice On", readonly=True)
    when_label = fields.Char(string="When", compute="_compute_when_label")
    deposit_type = fields.Selection(quotes.DEPOSIT_TYPES, readonly=True)
    deposit_value = fields.Float(
        readonly=True, digits=(16, 2), help="The percentage, or the amount taxes included, of the deposit."
    )
    down_payment_line_ids = fields.Many2many(
        "sale.order.line",
        "agency_quote_charge_down_payment_rel",
        "charge_id",
        "line_id",
        string="Down Payment Lines",
        readonly=True,
    )
    is_cancelled = fields.Boolean(readonly=True, copy=False)
    is_delivered = fields.Boolean(
        string="Work Delivered",
        compute="_compute_is_delivered",
        store=True,
        help="Every line the rest bills is delivered in full.",
    )
    state = fields.Selection(
        quotes.CHARGE_STATES, compute="_compute_state", store=True, index=True, string="Status"
    )
    invoice_line_ids = fields.One2many(
        "account.move.line", "agency_quote_charge_id", string="Invoice Lines", readonly=True
    )
    invoice_ids = fields.Many2many("account.move", string="Invoices", compute="_compute_invoices")
    invoice_count = fields.Integer(compute="_compute_invoices")
    amount_untaxed = fields.Monetary(
        string="Untaxed", compute="_compute_amounts", currency_field="currency_id"
    )
    amount_total = fields.Monetary(string="Total", compute="_compute_amounts", currency_field="currency_id")
    billing_error = fields.Text(readonly=True, copy=False, help="Why the last billing run could not bill it.")
    billing_error_date = fields.Datetime(readonly=True, copy=False)

    _one_per_kind = models.UniqueIndex(
        "(order_id, kind) WHERE is_cancelled IS NOT TRUE",
        "This order already has this invoice planned.",
    )

    # ------------------------------------------------------------------
    # COMPUTE
    # ------------------------------------------------------------------
    @api.depends("order_id.name", "kind", "deposit_type", "deposit_value")
    def _compute_name(self):
        kinds = dict(self._fields["kind"]._description_selection(self.env))
        for charge in self:
            label = kinds.get(charge.kind, "")
            if charge.kind == quotes.KIND_DEPOSIT and charge.deposit_type == quotes.DEPOSIT_PERCENT:
                label = self.env._("Deposit of %(percent)s %%", percent=f"{charge.deposit_value:g}")
            charge.name = f"{charge.order_id.name}: {label}"

    @api.depends("invoice_trigger", "date_due")
    def _compute_when_label(self):
        # short: the label is a column of lists in a form's tab and on a phone
        labels = {
            quotes.DUE_NOW: self.env._("At acceptance"),
            quotes.DUE_NEXT_RUN: self.env._("Next billing run"),
            quotes.DUE_ON_DELIVERY: self.env._("On delivery"),
        }
        for charge in self:
            if charge.invoice_trigger == quotes.DUE_ON_DATE and charge.date_due:
                charge.when_label = self.env._("On %(date)s", date=format_date(self.env, charge.date_due))
            else:
                charge.when_label = labels.get(charge.invoice_trigger, "")

    @api.depends(
        "kind",
        "order_id.order_line.qty_delivered",
        "order_id.order_line.product_uom_qty",
        "order_id.order_line.agency_item_ids",
    )
    def _compute_is_delivered(self):
        for charge in self:
            lines = charge.order_id._agency_one_off_lines()
            charge.is_delivered = bool(lines) and all(
                float_compare(
                    line.qty_delivered,
                    line.product_uom_qty,
                    precision_rounding=line.product_uom_id.rounding or 0.01,
                )
                >= 0
                for line in lines
            )

    @api.depends("is_cancelled", "invoice_line_ids.parent_state")
    def _compute_state(self):
        for charge in self:
            if charge.is_cancelled:
                charge.state = quotes.CHARGE_CANCELLED
            elif any(line.parent_state != "cancel" for line in charge.invoice_line_ids):
                charge.state = quotes.CHARGE_DONE
            else:
                charge.state = quotes.CHARGE_PENDING

    @api.depends("invoice_line_ids.parent_state")
    def _compute_invoices(self):
        for charge in self:
            invoices = charge.invoice_line_ids.filtered(lambda line: line.parent_state != "cancel").move_id
            charge.invoice_ids = invoices
            charge.invoice_count = len(invoices)

    @api.depends(
        "state",
        "invoice_line_ids.price_subtotal",
        "invoice_line_ids.price_total",
        "down_payment_line_ids",
        "order_id.order_line.qty_invoiced",
        "order_id.order_line.price_total",
        "order_id.agency_quote_charge_ids.state",
    )
    def _compute_amounts(self):
        """Invoiced: what its invoice lines say. To invoice: Odoo's tax engine on the lines it would bill now."""
        Move = self.env["account.move"]
        for charge in self:
            lines = charge.invoice_line_ids.filtered(
                lambda line: line.parent_state != "cancel" and line.display_type == "product"
            )
            if lines:
                charge.amount_untaxed = sum(lines.mapped("price_subtotal"))
                charge.amount_total = sum(lines.mapped("price_total"))
                continue
            if charge.state != quotes.CHARGE_PENDING:
                charge.amount_untaxed = charge.amount_total = 0.0
                continue
            if charge.kind == quotes.KIND_DEPOSIT and not charge.down_payment_line_ids:
                charge.amount_untaxed, charge.amount_total = charge.order_id._agency_deposit_total(
                    charge.deposit_type, charge.deposit_value
                )
                continue
            vals = {
                "company_id": charge.company_id.id,
                "currency_id": charge.currency_id.id,
                "invoice_line_ids": [
                    Command.create(charge._agency_line_vals(line, optional))
                    for line, optional in charge._agency_line_specs(create=False)
                ],
            }
            untaxed, total = Move._agency_estimate_totals([vals])[0]
            if charge._agency_waits_for_deposit():
                # the rest will deduct the deposit, still to be invoiced
                deposits = charge.order_id.agency_quote_charge_ids.filtered(
                    lambda c: c.kind == quotes.KIND_DEPOSIT and c.state == quotes.CHARGE_PENDING
                )
                untaxed -= sum(deposits.mapped("amount_untaxed"))
                total -= sum(deposits.mapped("amount_total"))
            charge.amount_untaxed, charge.amount_total = untaxed, total

    # ------------------------------------------------------------------
    # ACTIONS
    # ------------------------------------------------------------------
    def action_invoice_now(self):
        """Invoice these planned invoices at once, whatever they wait for."""
        pending = self.filtered(lambda c: c.state == quotes.CHARGE_PENDING)
        if not pending:
            raise UserError(self.env._("Nothing left to invoice: these invoices are made or cancelled."))
        waiting = pending.filtered(lambda c: c._agency_waits_for_deposit())
        if waiting:
            raise UserError(
                self.env._(
                    "The deposit of %(quote)s is not invoiced yet: invoice it first.",
                    quote=waiting[0].order_id.name,
                )
            )
        runs = pending._agency_bill_now(force=True)
        return runs._get_result_action() if runs else True

    def action_view_invoices(self):
        action = self.env["ir.actions.act_window"]._for_xml_id("account.action_move_out_invoice_type")
        action["domain"] = [("id", "in", self.invoice_ids.ids)]
        action["context"] = {"create": False}
        return action

    # ------------------------------------------------------------------
    # BILLING NOW
    # ------------------------------------------------------------------
    def _agency_bill_now(self, force=False):
        """A billing run for these quote invoices only, per client, now. Returns the runs.

        ``force``: bill them even when they wait for a date or for delivery.
        """
        Run = self.env["agency.billing.run"]
        runs = Run
        for company in self.company_id:
            for partner in self.filtered(lambda c, co=company: c.company_id == co).partner_id:
                charges = self.filtered(
                    lambda c, co=company, p=partner: c.company_id == co and c.partner_id == p
                )
                runs |= Run.with_context(
                    default_scope_quote_charge_ids=[Command.set(charges.ids)],
                    agency_quote_force=force,
                )._run_now(
                    company,
                    Run._today(company),
                    partners=partner,
                    trigger=quotes.RUN_TRIGGER_QUOTE,
                    source=self._name,
                )
        return runs

    # ------------------------------------------------------------------
    # CHARGE SOURCE (see agency.charge.source)
    # ------------------------------------------------------------------
    _agency_charge_sequence = 5

    @api.model
    def _agency_source_description(self):
        return self.env._("Accepted quotes")

    @api.model
    def _agency_run_charges(self, run, partners=None):
        """The quote invoices ``run`` bills, due on its date."""
        if run.scope_item_ids or run.scope_project_ids:
            return self.browse()
        domain = Domain("company_id", "=", run.company_id.id) & Domain("state", "=", quotes.CHARGE_PENDING)
        if run.scope_quote_charge_ids:
            domain &= Domain("id", "in", run.scope_quote_charge_ids.ids)
        if run.scope_partner_ids:
            domain &= Domain("partner_id", "in", run.scope_partner_ids.ids)
        if partners is not None:
            domain &= Domain("partner_id", "in", partners.ids)
        force = bool(self.env.context.get("agency_quote_force") and run.scope_quote_charge_ids)
        return self.search(domain).filtered(lambda charge: charge._agency_is_due(run.date, force=force))

    @api.model
    def _agency_due_partner_ids(self, run):
        return set(self._agency_run_charges(run).partner_id.ids)

    @api.model
    def _agency_get_charges(self, batch, partners):
        result = []
        empty_project = self.env["project.project"]
        for charge in self._agency_run_charges(batch.run, partners).with_company(batch.company):
            result.extend(
                Charge(
                    source=self._name,
                    partner=charge.partner_id,
                    currency=charge.currency_id,
                    project=empty_project,
                    records=charge,
                    values={"sale_line_id": line.id, "optional": optional},
                )
                for line, optional in charge._agency_line_specs()
            )
        return result

    @api.model
    def _agency_check_charges(self, batch, partner, charges):
        no_fiscal_position = self.env["account.fiscal.position"]
        lines = self.env["sale.order.line"].browse(
            [charge.values["sale_line_id"] for charge in charges if charge.values["sale_line_id"]]
        )
        for line in lines.filtered(lambda sol: sol.product_id and not sol.display_type):
            if not (
                batch.income_account(line.product_id, no_fiscal_position) or batch.journal.default_account_id
            ):
                raise BillingError(
                    self.env._(
                        "No income account for “%(product)s” of %(quote)s: set one on the product or its category.",
                        product=line.product_id.display_name,
                        quote=line.order_id.name,
                    )
                )

    @api.model
    def _prepare_agency_invoice_line_vals(self, charge, invoice_vals):
        line = self.env["sale.order.line"].browse(charge.values["sale_line_id"])
        lang = charge.partner.lang or self.env.lang
        return charge.records.with_context(lang=lang)._agency_line_vals(line, charge.values["optional"])

    @api.model
    def _agency_after_invoicing(self, batch, lines):
        quote_lines = lines.filtered("agency_quote_charge_id")
        charges = quote_lines.agency_quote_charge_id
        if not charges:
            return {}
        charges._clear_billing_error()
        # the down payment lines' descriptions follow their invoice (Odoo does it when posting)
        quote_lines.sale_line_ids.filtered(
            lambda sol: sol.is_downpayment and not sol.display_type
        )._compute_name()
        for order in charges.order_id:
            order_charges = charges.filtered(lambda c, o=order: c.order_id == o)
            invoices = quote_lines.filtered(
                lambda sol, cs=order_charges: sol.agency_quote_charge_id in cs
            ).move_id
            order.message_post(
                body=self.env._(
                    "%(what)s invoiced by billing run %(run)s: %(invoices)s",
                    what=", ".join(
                        order_charges.mapped(
                            lambda c: dict(c._fields["kind"]._description_selection(self.env))[c.kind]
                        )
                    ),
                    run=batch.run.name,
                    invoices=", ".join(invoices.mapped(lambda m: m.name or m.display_name)),
                ),
                subtype_xmlid="mail.mt_note",
            )
        return {}

    @api.model
    def _agency_flag_failure(self, charges, message):
        records = self.concat(*(charge.records for charge in charges))
        records.write({"billing_error": message, "billing_error_date": fields.Datetime.now()})
        for order in records.order_id:
            order.message_post(
                body=self.env._("Could not invoice %(quote)s: %(reason)s", quote=order.name, reason=message),
                subtype_xmlid="mail.mt_note",
            )

    # ------------------------------------------------------------------
    # HELPERS
    # ------------------------------------------------------------------
    def _agency_waits_for_deposit(self):
        """The rest is never invoiced before its deposit (it deducts it)."""
        self.ensure_one()
        if self.kind != quotes.KIND_BALANCE:
            return False
        deposits = self.order_id.agency_quote_charge_ids.filtered(
            lambda c: c.kind == quotes.KIND_DEPOSIT and c.state != quotes.CHARGE_CANCELLED
        )
        return any(deposit.state == quotes.CHARGE_PENDING for deposit in deposits)

    def _agency_is_due(self, up_to, force=False):
        self.ensure_one()
        if self.state != quotes.CHARGE_PENDING or self._agency_waits_for_deposit():
            return False
        if self.kind == quotes.KIND_DEPOSIT and any(
            c.kind == quotes.KIND_BALANCE and c.state == quotes.CHARGE_DONE
            for c in self.order_id.agency_quote_charge_ids
        ):
            return False  # the rest was invoiced (by hand): no deposit any more
        if force or self.invoice_trigger in (quotes.DUE_NOW, quotes.DUE_NEXT_RUN):
            return True
        if self.invoice_trigger == quotes.DUE_ON_DATE:
            return bool(self.date_due and self.date_due <= up_to)
        return self.invoice_trigger == quotes.DUE_ON_DELIVERY and self.is_delivered

    def _agency_line_specs(self, create=True):
        """[(sale.order.line, optional values)] of the invoice lines this charge bills now.

        ``optional`` goes to Odoo's ``_prepare_invoice_line`` (a line without an
        order line is the down payments' section). ``create``: make the down
        payment lines of a deposit on the order when they are missing.
        """
        self.ensure_one()
        if self.kind == quotes.KIND_DEPOSIT:
            return self._agency_deposit_specs(create=create)
        order = self.order_id
        SaleLine = self.env["sale.order.line"]
        specs = []
        section = None
        one_off = order._agency_one_off_lines()
        for line in order.order_line.sorted(lambda sol: (sol.sequence, sol.id)):
            if line.is_downpayment:
                continue
            if line.display_type == "line_section":
                section = line
                continue
            if line.display_type:
                continue
            if line not in one_off:
                continue
            quantity = line.product_uom_qty - line.qty_invoiced
            if float_compare(quantity, 0.0, precision_rounding=line.product_uom_id.rounding or 0.01) <= 0:
                continue
            if section:
                specs.append((section, {"quantity": 0.0}))
                section = None
            specs.append((line, {"quantity": quantity}))
        if not specs:
            return []
        # deposits invoiced and not yet deducted are deducted, as Odoo's final invoice does
        down_payments = order.order_line.filtered(
            lambda sol: (
                sol.is_downpayment
                and not sol.display_type
                and not float_is_zero(
                    sol.qty_invoiced, precision_rounding=sol.product_uom_id.rounding or 0.01
                )
            )
        )
        if down_payments:
            lang = order.partner_id.lang
            specs.append((SaleLine, order.with_context(lang=lang)._prepare_down_payment_section_line()))
            AccountTax = self.env["account.tax"]
            specs.extend(
                (
                    line,
                    {
                        "quantity": -1.0,
                        "extra_tax_data": AccountTax._reverse_quantity_base_line_extra_tax_data(
                            line.extra_tax_data
                        ),
                    },
                )
                for line in down_payments
            )
        return specs

    def _agency_deposit_specs(self, create=True):
        """The deposit's down payment lines, made on the order with Odoo's own down payment computation."""
        order = self.order_id
        lines = self.down_payment_line_ids.exists().filtered(lambda sol: not sol.display_type)
        accounts = {}
        if not lines:
            if not create:
                return []
            base_lines = order._agency_deposit_base_lines(self.deposit_type, self.deposit_value)
            order._create_down_payment_section_line_if_needed()
            lines = order._create_down_payment_lines_from_base_lines(base_lines)
            company = order.company_id
            for line, base_line in zip(lines, base_lines, strict=True):
                product_accounts = (
                    base_line["product_id"]
                    .product_tmpl_id.with_company(company)
                    .get_product_accounts(fiscal_pos=order.fiscal_position_id)
                    if base_line["product_id"]
                    else {}
                )
                account = (
                    company.downpayment_account_id
                    or base_line["account_id"]
                    or product_accounts.get("downpayment")
                    or product_accounts.get("income")
                )
                if account:
                    accounts[line] = account
            self.down_payment_line_ids = [Command.set(lines.ids)]
        lang = order.partner_id.lang or self.env.lang
        env = self.with_context(lang=lang).env
        if self.deposit_type == quotes.DEPOSIT_PERCENT:
            name = env._(
                "Deposit of %(percent)s %% on %(quote)s", percent=f"{self.deposit_value:g}", quote=order.name
            )
        else:
            name = env._("Deposit on %(quote)s", quote=order.name)
        specs = []
        for line in lines:
            optional = {"name": name, "quantity": 1.0}
            if line in accounts:
                optional["account_id"] = accounts[line].id
            specs.append((line, optional))
        return specs

    def _agency_line_vals(self, line, optional):
        """One invoice line: Odoo's own values of the order line, linked to this charge."""
        self.ensure_one()
        # a line without an order line is the down payments' section
        vals = line._prepare_invoice_line(**optional) if line else dict(optional)
        vals.pop("sequence", None)
        vals["agency_quote_charge_id"] = self.id
        vals["agency_sale_line_id"] = line.id or False
        return vals

    def _clear_billing_error(self):
        flagged = self.filtered("billing_error")
        if flagged:
            flagged.write({"billing_error": False, "billing_error_date": False})
