from datetime import timedelta

from odoo import SUPERUSER_ID, api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.fields import Command, Domain
from odoo.tools import float_compare
from odoo.tools.misc import format_amount, format_date

from .. import const, quotes, schedule

# What the order's acceptance settings are saved with (a change re-checks them).
ACCEPTANCE_FIELDS = (
    "agency_acceptance_mode",
    "agency_deposit_type",
    "agency_deposit_percent",
    "agency_deposit_amount",
    "agency_balance_trigger",
    "agency_balance_date",
)


class SaleOrder(models.Model):
    """Quotes that turn into money when the client accepts them.

    Acceptance (``_action_confirm``: the client signing or paying in the
    portal, or a salesperson confirming) records one ``agency.quote.acceptance``
    (exactly once, a unique index) and hands the quote to the billing engine:
    quote invoices (``agency.quote.charge``: the whole quote, or a deposit and
    the rest) and billable items (one-off lines when asked, recurring services
    always). Invoices come from the billing run with the client's invoice
    automation; each of their lines is linked to its order line, so Odoo's own
    invoicing figures stay true and never invoice anything again.
    """

    _inherit = "sale.order"

    agency_acceptance_mode = fields.Selection(
        quotes.ACCEPTANCE_MODES,
        string="On Acceptance",
        compute="_compute_agency_acceptance_defaults",
        store=True,
        readonly=False,
        precompute=True,
        help="What happens when the client accepts the quote (signs or pays online) or a "
        "salesperson confirms it. Recurring services always become recurring billable items.",
    )
    agency_deposit_type = fields.Selection(
        quotes.DEPOSIT_TYPES,
        string="Deposit Type",
        default=quotes.DEPOSIT_PERCENT,
        help="When the client pays a prepayment online (Other Info > Online payment), what they pay is "
        "the deposit; this one is for a quote confirmed without it.",
    )
    agency_deposit_percent = fields.Float(
        string="Deposit (%)",
        digits=(16, 2),
        compute="_compute_agency_acceptance_defaults",
        store=True,
        readonly=False,
        precompute=True,
    )
    agency_deposit_amount = fields.Monetary(
        string="Deposit Amount", help="Taxes included, as the client pays it."
    )
    agency_balance_trigger = fields.Selection(
        quotes.BALANCE_TRIGGERS,
        string="Invoice the Rest",
        compute="_compute_agency_acceptance_defaults",
        store=True,
        readonly=False,
        precompute=True,
    )
    agency_balance_date = fields.Date(string="Rest Invoiced On")
    agency_items_action = fields.Selection(
        [
            (const.ACTION_NEXT_RUN, "Invoice on the next billing run"),
            (const.ACTION_NEXT_INVOICE, "Add to the client's next invoice"),
        ],
        string="Bill the Items",
        default=const.ACTION_NEXT_RUN,
    )
    agency_recurring_start = fields.Date(
        string="Recurring Charges Start",
        help="The first day billed by the recurring services of this quote. Empty: the day it is accepted.",
    )
    agency_has_recurring = fields.Boolean(compute="_compute_agency_has_recurring")
    agency_acceptance_summary = fields.Text(
        string="What Acceptance Does", compute="_compute_agency_acceptance_summary"
    )

    agency_acceptance_ids = fields.One2many("agency.quote.acceptance", "order_id", readonly=True)
    agency_accepted_on = fields.Datetime(string="Accepted On", compute="_compute_agency_acceptance")
    agency_accepted_how = fields.Selection(
        quotes.ACCEPTANCE_TRIGGERS, string="Accepted", compute="_compute_agency_acceptance"
    )
    agency_quote_charge_ids = fields.One2many(
        "agency.quote.charge", "order_id", string="Quote Invoices", readonly=True
    )
    agency_item_ids = fields.One2many(
        "agency.billable.item", "sale_order_id", string="Billable Items", readonly=True
    )
    agency_item_count = fields.Integer(compute="_compute_agency_item_count")
    agency_waits_for_delivery = fields.Boolean(compute="_compute_agency_waits_for_delivery")
    agency_is_handled = fields.Boolean(
        string="Billed by Agency Billing",
        compute="_compute_agency_is_handled",
        help="Accepted: the billing engine invoices what the quote made (its quote invoices and items).",
    )

    # Quote lifecycle
    agency_quote_status = fields.Selection(
        quotes.QUOTE_STATUSES,
        string="Quote Status",
        compute="_compute_agency_quote_status",
        search="_search_agency_quote_status",
    )
    agency_lost_reason_id = fields.Many2one(
        "agency.quote.lost.reason", string="Lost Reason", readonly=True, copy=False, index="btree_not_null"
    )
    agency_lost_note = fields.Text(string="Why It Was Lost", readonly=True, copy=False)
    agency_expiry_reminder = fields.Boolean(
        string="Remind Before Expiry",
        compute="_compute_agency_expiry_reminder",
        store=True,
        readonly=False,
        precompute=True,
        help="Email the client a reminder a few days before the quote expires (Settings > Billing), once.",
    )
    agency_expiry_reminder_sent_on = fields.Datetime(string="Reminder Sent", readonly=True, copy=False)
    agency_acceptance_problem = fields.Text(
        string="Acceptance Problem",
        readonly=True,
        copy=False,
        help="Why the client's acceptance could not be billed; “Bill Acceptance” applies it once fixed.",
    )

    # ------------------------------------------------------------------
    # COMPUTE
    # ------------------------------------------------------------------
    @api.depends("partner_id", "company_id")
    def _compute_agency_acceptance_defaults(self):
        for order in self:
            if order.state not in ("draft", "sent"):
                # an order confirmed before (or without) this setting was invoiced by hand
                order.agency_acceptance_mode = order.agency_acceptance_mode or quotes.ACCEPT_MANUAL
                order.agency_deposit_percent = order.agency_deposit_percent
                order.agency_balance_trigger = order.agency_balance_trigger
                continue
            company = order.company_id or self.env.company
            client = order.partner_id.commercial_partner_id.with_company(company)
            order.agency_acceptance_mode = (
                client.agency_quote_acceptance or company.agency_quote_acceptance or quotes.ACCEPT_MANUAL
            )
            order.agency_deposit_percent = (
                client.agency_quote_deposit_percent or company.agency_quote_deposit_percent
            )
            order.agency_balance_trigger = company.agency_quote_balance_trigger or quotes.DUE_ON_DELIVERY

    @api.depends("company_id")
    def _compute_agency_expiry_reminder(self):
        for order in self:
            order.agency_expiry_reminder = bool(
                (order.company_id or self.env.company).agency_quote_reminder_days
            )

    @api.depends("order_line.product_id")
    def _compute_agency_has_recurring(self):
        for order in self:
            order.agency_has_recurring = bool(order._agency_recurring_lines())

    @api.depends("agency_acceptance_ids.state", "agency_acceptance_ids.date", "agency_acceptance_ids.trigger")
    def _compute_agency_acceptance(self):
        for order in self:
            acceptance = order._agency_acceptance()
            order.agency_accepted_on = acceptance.date
            order.agency_accepted_how = acceptance.trigger

    @api.depends("agency_acceptance_ids.state", "agency_acceptance_ids.mode")
    def _compute_agency_is_handled(self):
        for order in self:
            order.agency_is_handled = order._agency_is_handled()

    @api.depends("agency_item_ids")
    def _compute_agency_item_count(self):
        for order in self:
            order.agency_item_count = len(order.agency_item_ids)

    @api.depends("agency_quote_charge_ids.state", "agency_quote_charge_ids.invoice_trigger")
    def _compute_agency_waits_for_delivery(self):
        for order in self:
            order.agency_waits_for_delivery = any(
                charge.state == quotes.CHARGE_PENDING and charge.invoice_trigger == quotes.DUE_ON_DELIVERY
                for charge in order.agency_quote_charge_ids
            )

    @api.depends(
        "agency_acceptance_mode",
        "agency_deposit_type",
        "agency_deposit_percent",
        "agency_deposit_amount",
        "agency_balance_trigger",
        "agency_balance_date",
        "agency_items_action",
        "agency_recurring_start",
        "order_line.price_total",
        "order_line.product_id",
        "require_payment",
        "prepayment_percent",
    )
    def _compute_agency_acceptance_summary(self):
        for order in self:
            order.agency_acceptance_summary = "\n".join(order._agency_acceptance_sentences())

    @api.depends("state", "validity_date", "agency_lost_reason_id")
    @api.depends_context("tz")
    def _compute_agency_quote_status(self):
        for order in self:
            order.agency_quote_status = order._agency_get_quote_status()

    def _agency_get_quote_status(self):
        self.ensure_one()
        if self.state == "sale":
            return quotes.STATUS_ACCEPTED
        if self.state == "cancel":
            return quotes.STATUS_LOST if self.agency_lost_reason_id else quotes.STATUS_CANCELLED
        if self.validity_date and self.validity_date < fields.Date.context_today(self):
            return quotes.STATUS_EXPIRED
        return quotes.STATUS_OPEN if self.state == "sent" else quotes.STATUS_DRAFT

    def _search_agency_quote_status(self, operator, value):
        if operator not in ("in", "="):
            return NotImplemented
        statuses = [value] if isinstance(value, str) else list(value)
        today = fields.Date.context_today(self)
        not_expired = Domain("validity_date", "=", False) | Domain("validity_date", ">=", today)
        domains = {
            quotes.STATUS_DRAFT: Domain("state", "=", "draft") & not_expired,
            quotes.STATUS_OPEN: Domain("state", "=", "sent") & not_expired,
            quotes.STATUS_EXPIRED: Domain("state", "in", ["draft", "sent"])
            & Domain("validity_date", "<", today),
            quotes.STATUS_ACCEPTED: Domain("state", "=", "sale"),
            quotes.STATUS_LOST: Domain("state", "=", "cancel") & Domain("agency_lost_reason_id", "!=", False),
            quotes.STATUS_CANCELLED: Domain("state", "=", "cancel")
            & Domain("agency_lost_reason_id", "=", False),
        }
        return Domain.OR([domains[status] for status in statuses if status in domains] or [Domain.FALSE])

    # ------------------------------------------------------------------
    # CONSTRAINTS
    # ------------------------------------------------------------------
    @api.constrains(*ACCEPTANCE_FIELDS, "order_line")
    def _check_agency_acceptance_settings(self):
        for order in self.filtered(lambda o: o.state in ("draft", "sent")):
            # an empty quote is still being written: its deposit is checked when it is sent
            if order._agency_one_off_lines() or order._agency_recurring_lines():
                order._agency_check_acceptance_settings()

    def _agency_check_acceptance_settings(self):
        """Raise a ``ValidationError`` when what acceptance is to do makes no sense."""
        self.ensure_one()
        mode = self.agency_acceptance_mode
        for line in self._agency_recurring_lines():
            product = line.product_id.product_tmpl_id
            if product.agency_recurring_interval < 1 or not product.agency_recurring_rule_type:
                raise ValidationError(
                    self.env._(
                        "“%(product)s” is a recurring service without a billing period: set one on the "
                        "product (every 1 or more days, weeks, months or years).",
                        product=line.product_id.display_name,
                    )
                )
        if mode != quotes.ACCEPT_DEPOSIT:
            return
        one_off = self._agency_one_off_lines()
        if self.agency_deposit_type == quotes.DEPOSIT_PERCENT:
            if not 0 < self.agency_deposit_percent < 100:
                raise ValidationError(
                    self.env._(
                        "The deposit of %(quote)s must be more than 0 %% and less than 100 %% "
                        "(for all of it, choose “Invoice the whole quote at once”).",
                        quote=self.name,
                    )
                )
        else:
            total = self._agency_one_off_total()
            if self.currency_id.compare_amounts(self.agency_deposit_amount, 0.0) <= 0:
                raise ValidationError(
                    self.env._("The deposit of %(quote)s must be more than zero.", quote=self.name)
                )
            if one_off and self.currency_id.compare_amounts(self.agency_deposit_amount, total) >= 0:
                raise ValidationError(
                    self.env._(
                        "The deposit of %(quote)s (%(deposit)s) must be less than what the quote "
                        "invoices once (%(total)s, taxes included).",
                        quote=self.name,
                        deposit=format_amount(self.env, self.agency_deposit_amount, self.currency_id),
                        total=format_amount(self.env, total, self.currency_id),
                    )
                )
        if self.agency_balance_trigger == quotes.DUE_ON_DATE and not self.agency_balance_date:
            raise ValidationError(
                self.env._("Say on which date the rest of %(quote)s is invoiced.", quote=self.name)
            )
        if self.agency_balance_trigger == quotes.DUE_ON_DELIVERY and not one_off:
            raise ValidationError(
                self.env._(
                    "%(quote)s has nothing to deliver (only recurring services, or lines invoiced on "
                    "delivered quantities by the order): its rest cannot wait for delivery. Invoice the "
                    "rest on a date or on the next billing run.",
                    quote=self.name,
                )
            )

    def _agency_check_billable(self):
        """Raise a ``UserError`` when the billing engine cannot bill what acceptance would make."""
        self.ensure_one()
        if self.agency_acceptance_mode == quotes.ACCEPT_MANUAL:
            return
        problem = None
        company = self.company_id
        journal = (
            self.env["account.journal"]
            .sudo()
            .search(
                [*self.env["account.journal"]._check_company_domain(company), ("type", "=", "sale")], limit=1
            )
        )
        if not journal:
            problem = self.env._("the company %(company)s has no sales journal.", company=company.name)
        elif not self.currency_id.active:
            problem = self.env._(
                "its currency %(currency)s is not active (Accounting settings).",
                currency=self.currency_id.name,
            )
        else:
            for line in self.order_line.filtered(lambda sol: sol.product_id and not sol.display_type):
                accounts = line.product_id.product_tmpl_id.with_company(company).get_product_accounts(
                    fiscal_pos=self.fiscal_position_id
                )
                if not (accounts.get("income") or journal.default_account_id):
                    problem = self.env._(
                        "the product “%(product)s” has no income account.",
                        product=line.product_id.display_name,
                    )
                    break
        if problem:
            raise UserError(
                self.env._(
                    "%(quote)s cannot be billed when it is accepted: %(problem)s Fix it, or set "
                    "“On Acceptance” to “Nothing: invoice from the order by hand”.",
                    quote=self.name,
                    problem=problem,
                )
            )

    def _agency_check_acceptance(self):
        """Everything acceptance needs, checked where a salesperson can fix it."""
        for order in self:
            order._agency_check_acceptance_settings()
            order._agency_check_billable()

    # ------------------------------------------------------------------
    # ACTIONS
    # ------------------------------------------------------------------
    def action_quotation_send(self):
        self.filtered(lambda o: o.state in ("draft", "sent"))._agency_check_acceptance()
        return super().action_quotation_send()

    def action_confirm(self):
        if self._agency_trigger() == quotes.TRIGGER_SALESPERSON:
            self.filtered(lambda o: o.state in ("draft", "sent"))._agency_check_acceptance()
        return super().action_confirm()

    def _action_confirm(self):
        res = super()._action_confirm()
        self._agency_accept(self._agency_trigger())
        return res

    def _validate_order(self):
        # the portal's "Accept & Sign"
        trigger = self.env.context.get(quotes.CONTEXT_TRIGGER) or quotes.TRIGGER_SIGNATURE
        return super(SaleOrder, self.with_context(**{quotes.CONTEXT_TRIGGER: trigger}))._validate_order()

    def _action_cancel(self):
        self._agency_revoke_acceptance()
        return super()._action_cancel()

    def action_agency_mark_lost(self):
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "agency_billing.agency_quote_lost_wizard_action"
        )
        action["context"] = {"default_order_ids": self.ids}
        return action

    def action_agency_view_items(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("agency_billing.agency_billable_item_action")
        action["domain"] = [("sale_order_id", "=", self.id)]
        action["context"] = {"create": False}
        return action

    def action_agency_mark_delivered(self):
        """The work is done: every one-off line delivered in full (which bills the rest when it waits for it)."""
        for order in self:
            if order.state != "sale":
                raise UserError(self.env._("Only a confirmed order can be delivered."))
            lines = order._agency_one_off_lines().filtered(
                lambda line: (
                    line.qty_delivered_method == "manual"
                    and float_compare(
                        line.qty_delivered,
                        line.product_uom_qty,
                        precision_rounding=line.product_uom_id.rounding,
                    )
                    < 0
                )
            )
            for line in lines:
                line.qty_delivered = line.product_uom_qty
        return True

    def _agency_bill_delivered(self):
        """The rest waiting for delivery is invoiced as soon as the work is delivered."""
        charges = self.sudo().agency_quote_charge_ids.filtered(
            lambda c: c.invoice_trigger == quotes.DUE_ON_DELIVERY and c.state == quotes.CHARGE_PENDING
        )
        due = charges.filtered(lambda c: c._agency_is_due(fields.Date.context_today(c)))
        if due:
            due._agency_bill_now()

    def action_agency_accept(self):
        """Apply the acceptance of a confirmed order that could not be billed when it was accepted."""
        for order in self:
            if order.state != "sale":
                raise UserError(self.env._("Only a confirmed order is accepted."))
            if order._agency_acceptance():
                raise UserError(self.env._("%(quote)s has already been accepted.", quote=order.name))
        self._agency_check_acceptance()
        self._agency_accept(quotes.TRIGGER_SALESPERSON)
        return True

    # ------------------------------------------------------------------
    # ACCEPTANCE
    # ------------------------------------------------------------------
    def _agency_trigger(self):
        trigger = self.env.context.get(quotes.CONTEXT_TRIGGER)
        if trigger:
            return trigger
        return quotes.TRIGGER_SALESPERSON if self.env.user._is_internal() else quotes.TRIGGER_PORTAL

    def _agency_acceptance(self):
        self.ensure_one()
        return self.agency_acceptance_ids.filtered(lambda a: a.state == quotes.ACCEPTANCE_ACCEPTED)[:1]

    def _agency_accept(self, trigger):
        """Turn the accepted orders into quote invoices and billable items, once; bill what is due now.

        Done as a system action in the name of the salesperson (the billing run
        and its emails are theirs): a client accepting in the portal, or a
        salesperson without billing rights, needs no access to billing. In the
        portal a problem never stops the client's acceptance: the order says
        what went wrong, and "Bill Acceptance" applies it once fixed.
        """
        for order in self.filtered(lambda o: o.agency_acceptance_mode != quotes.ACCEPT_MANUAL):
            user = (
                self.env.user
                if trigger == quotes.TRIGGER_SALESPERSON and self.env.user._is_internal()
                else order.user_id
            )
            order_su = order.with_user(user or SUPERUSER_ID).sudo().with_company(order.company_id)
            try:
                with self.env.cr.savepoint():
                    to_bill = order_su._agency_accept_one(trigger)
            except (UserError, ValidationError) as error:
                if trigger == quotes.TRIGGER_SALESPERSON:
                    raise
                self.env.invalidate_all()
                order_su._agency_report_problem(error.args[0] if error.args else str(error))
                continue
            if to_bill:
                to_bill._agency_bill_now()

    def _agency_accept_one(self, trigger):
        """Record the acceptance and create what it makes; returns the quote invoices due at once."""
        self.ensure_one()
        self._agency_check_acceptance()
        acceptance = self.env["agency.quote.acceptance"]._agency_record(self, trigger)
        if not acceptance:
            return self.env["agency.quote.charge"]
        self.agency_acceptance_problem = False
        Charge = self.env["agency.quote.charge"]
        self._agency_create_items(self._agency_recurring_lines())
        one_off = self._agency_one_off_lines()
        charges = Charge
        if one_off and self.agency_acceptance_mode == quotes.ACCEPT_ITEMS:
            self._agency_create_items(one_off)
        elif one_off:
            paid = self._agency_prepayment_paid()
            whole = self.agency_acceptance_mode == quotes.ACCEPT_INVOICE or (
                paid and self.currency_id.compare_amounts(paid, self._agency_one_off_total()) >= 0
            )
            common = {"order_id": self.id, "acceptance_id": acceptance.id}
            if whole:
                vals_list = [{**common, "kind": quotes.KIND_FULL, "invoice_trigger": quotes.DUE_NOW}]
            else:
                deposit = (
                    {"deposit_type": quotes.DEPOSIT_FIXED, "deposit_value": paid}
                    if paid
                    else {
                        "deposit_type": self.agency_deposit_type,
                        "deposit_value": (
                            self.agency_deposit_percent
                            if self.agency_deposit_type == quotes.DEPOSIT_PERCENT
                            else self.agency_deposit_amount
                        ),
                    }
                )
                vals_list = [
                    {**common, **deposit, "kind": quotes.KIND_DEPOSIT, "invoice_trigger": quotes.DUE_NOW},
                    {
                        **common,
                        "kind": quotes.KIND_BALANCE,
                        "invoice_trigger": self.agency_balance_trigger,
                        "date_due": (
                            self.agency_balance_date
                            if self.agency_balance_trigger == quotes.DUE_ON_DATE
                            else False
                        ),
                    },
                ]
            charges = Charge.create(vals_list)
        self.message_post(
            body=self.env._(
                "Quote accepted (%(how)s). To invoice: %(planned)s",
                how=dict(acceptance._fields["trigger"]._description_selection(self.env)).get(
                    trigger, trigger
                ),
                planned=" ".join(self._agency_planned_sentences()) or self.env._("nothing"),
            ),
            subtype_xmlid="mail.mt_note",
        )
        return charges.filtered(lambda c: c.invoice_trigger == quotes.DUE_NOW)

    def _agency_create_items(self, lines):
        """Billable items (source "quote") for order lines: recurring services on their schedule."""
        if not lines:
            return self.env["agency.billable.item"]
        start = self.agency_recurring_start or fields.Date.context_today(self)
        vals_list = []
        for line in lines:
            product = line.product_id.product_tmpl_id
            vals = {
                "name": line._agency_item_name(),
                "partner_id": self.partner_id.commercial_partner_id.id,
                "company_id": self.company_id.id,
                "currency_id": self.currency_id.id,
                "product_id": line.product_id.id,
                "quantity": line.product_uom_qty,
                "price_unit": line.price_unit,
                "discount": line.discount,
                "tax_ids": [Command.set(line.tax_ids.ids)],
                "source": "quote",
                "sale_line_id": line.id,
            }
            if product.agency_is_recurring:
                vals.update(
                    invoice_action=const.ACTION_RECURRING,
                    date_start=start,
                    recurring_interval=product.agency_recurring_interval,
                    recurring_rule_type=product.agency_recurring_rule_type,
                    recurring_count=product.agency_recurring_count,
                    recurring_invoicing_type=product.agency_recurring_invoicing_type,
                )
            else:
                vals.update(
                    invoice_action=self.agency_items_action or const.ACTION_NEXT_RUN,
                    quantity=line.product_uom_qty - line.qty_invoiced,
                )
            vals_list.append(vals)
        return self.env["agency.billable.item"].create([v for v in vals_list if v["quantity"] > 0])

    def _agency_revoke_acceptance(self):
        """A cancelled order bills nothing more: its pending quote invoices are cancelled, its
        items never billed deleted, the others stopped. Its acceptance can then happen again."""
        acceptances = self.agency_acceptance_ids.filtered(lambda a: a.state == quotes.ACCEPTANCE_ACCEPTED)
        if not acceptances:
            return
        acceptances = acceptances.sudo()
        acceptances.order_id.agency_quote_charge_ids.filtered(
            lambda c: c.state == quotes.CHARGE_PENDING
        ).is_cancelled = True
        items = acceptances.order_id.sudo().agency_item_ids.filtered(
            lambda i: i.state in (const.STATE_PENDING, const.STATE_PAUSED)
        )
        items.filtered(lambda i: not i.billed_count).unlink()
        items.exists().write({"state": const.STATE_STOPPED})
        acceptances.state = quotes.ACCEPTANCE_CANCELLED

    def _agency_report_problem(self, message):
        """Acceptance could not be applied (in the portal): tell the salesperson on the order."""
        self.ensure_one()
        self.agency_acceptance_problem = message
        self.message_post(
            body=self.env._(
                "The client accepted %(quote)s, but nothing could be billed: %(reason)s Fix it, then "
                "click “Bill Acceptance”.",
                quote=self.name,
                reason=message,
            ),
            subtype_xmlid="mail.mt_note",
        )
        self.activity_schedule(
            "mail.mail_activity_data_todo",
            summary=self.env._("Accepted quote not billed"),
            note=message,
            user_id=self.user_id.id or SUPERUSER_ID,
        )

    # ------------------------------------------------------------------
    # LINES AND FIGURES
    # ------------------------------------------------------------------
    def _agency_recurring_lines(self):
        return self.order_line.filtered(
            lambda line: (
                not line.display_type
                and not line.is_downpayment
                and line.product_id.product_tmpl_id.agency_is_recurring
            )
        )

    def _agency_one_off_lines(self):
        """The product lines invoiced once (by a quote invoice or a one-off item).

        Lines invoiced on delivered quantities (time and materials, as
        sale_timesheet delivers them) stay Odoo's to invoice from the order.
        """
        return self.order_line.filtered(lambda line: line._agency_is_one_off())

    def _agency_base_lines(self, lines):
        AccountTax = self.env["account.tax"]
        base_lines = [line._prepare_base_line_for_taxes_computation() for line in lines]
        AccountTax._add_tax_details_in_base_lines(base_lines, self.company_id)
        AccountTax._round_base_lines_tax_details(base_lines, self.company_id)
        return base_lines

    def _agency_one_off_total(self):
        """What the one-off lines come to, taxes included (the deposit's base)."""
        self.ensure_one()
        return self.currency_id.round(sum(self._agency_one_off_lines().mapped("price_total")))

    def _agency_deposit_base_lines(self, deposit_type, value):
        """The down payment's base lines, from Odoo's own down payment computation on the one-off lines."""
        self.ensure_one()
        base_lines = self._agency_base_lines(self._agency_one_off_lines())
        return self.env["account.tax"]._prepare_down_payment_lines(
            base_lines=base_lines,
            company=self.company_id,
            amount_type="percent" if deposit_type == quotes.DEPOSIT_PERCENT else "fixed",
            amount=value,
            computation_key=f"down_payment,agency_quote_{self.id}",
        )

    def _agency_deposit_total(self, deposit_type, value):
        """(untaxed, total) of the deposit invoice these settings make."""
        base_lines = self._agency_deposit_base_lines(deposit_type, value)
        untaxed = sum(line["tax_details"]["total_excluded_currency"] for line in base_lines)
        total = sum(line["tax_details"]["total_included_currency"] for line in base_lines)
        return self.currency_id.round(untaxed), self.currency_id.round(total)

    def _agency_prepayment_paid(self):
        """What the client paid online for this quote (authorized or done), as Odoo counts it."""
        self.ensure_one()
        return self.currency_id.round(self.sudo().amount_paid)

    def _agency_acceptance_sentences(self):
        """What acceptance does, in plain words for the client and the salesperson."""
        self.ensure_one()
        if not self.agency_acceptance_mode or self.agency_acceptance_mode == quotes.ACCEPT_MANUAL:
            return []
        sentences = []
        if self._agency_one_off_lines():
            sentences.append(self._agency_one_off_sentence(self._agency_one_off_total()))
        if self.order_line.filtered(
            lambda line: (
                line.product_id
                and not line.display_type
                and not line.is_downpayment
                and line.product_id.product_tmpl_id.invoice_policy == "delivery"
                and not line.product_id.product_tmpl_id.agency_is_recurring
            )
        ):
            sentences.append(
                self.env._(
                    "Lines billed as delivered (time and materials) are invoiced as they are delivered."
                )
            )
        return [sentence for sentence in sentences if sentence] + self._agency_recurring_sentences()

    def _agency_one_off_sentence(self, total):
        env = self.env
        amount = format_amount(env, total, self.currency_id)
        mode = self.agency_acceptance_mode
        if mode == quotes.ACCEPT_INVOICE:
            return env._("The quote (%(amount)s) is invoiced as soon as it is accepted.", amount=amount)
        if mode == quotes.ACCEPT_ITEMS:
            if self.agency_items_action == const.ACTION_NEXT_INVOICE:
                return env._("Its lines (%(amount)s) join the client's next invoice.", amount=amount)
            return env._("Its lines (%(amount)s) are invoiced on the next billing run.", amount=amount)
        return self._agency_deposit_sentence(total)

    def _agency_deposit_sentence(self, total):
        env = self.env
        currency = self.currency_id
        when = {
            quotes.DUE_NEXT_RUN: env._("on the next billing run"),
            quotes.DUE_ON_DATE: env._(
                "on %(date)s",
                date=format_date(env, self.agency_balance_date) if self.agency_balance_date else "…",
            ),
            quotes.DUE_ON_DELIVERY: env._("when the work is delivered"),
        }.get(self.agency_balance_trigger, "")
        prepayment = self.require_payment and min(self._get_prepayment_required_amount(), total)
        if prepayment and currency.compare_amounts(prepayment, total) >= 0:
            return env._(
                "The quote (%(amount)s) is paid online when accepting, and invoiced at once.",
                amount=format_amount(env, total, currency),
            )
        if prepayment:
            return env._(
                "What is paid online when accepting (%(paid)s) is the deposit, invoiced at once; "
                "the rest (%(rest)s) %(when)s.",
                paid=format_amount(env, prepayment, currency),
                rest=format_amount(env, total - prepayment, currency),
                when=when,
            )
        deposit_type = self.agency_deposit_type
        value = (
            self.agency_deposit_percent
            if deposit_type == quotes.DEPOSIT_PERCENT
            else self.agency_deposit_amount
        )
        if not value or (deposit_type == quotes.DEPOSIT_PERCENT and not 0 < value < 100):
            return None  # not a deposit yet: saving the quote says why
        deposit_total = self._agency_deposit_total(deposit_type, value)[1]
        share = (
            env._("A deposit of %(percent)s %%", percent=f"{value:g}")
            if deposit_type == quotes.DEPOSIT_PERCENT
            else env._("A deposit")
        )
        return env._(
            "%(deposit)s (%(amount)s) is invoiced as soon as the quote is accepted; the rest (%(rest)s) %(when)s.",
            deposit=share,
            amount=format_amount(env, deposit_total, currency),
            rest=format_amount(env, total - deposit_total, currency),
            when=when,
        )

    def _agency_recurring_sentences(self):
        env = self.env
        start = self.agency_recurring_start
        sentences = []
        for line in self._agency_recurring_lines():
            product = line.product_id.product_tmpl_id
            count = product.agency_recurring_count
            sentences.append(
                env._(
                    "%(service)s: %(amount)s %(period)s, %(how)s, from %(start)s%(times)s.",
                    service=line.product_id.name,
                    amount=format_amount(env, line.price_subtotal, self.currency_id),
                    period=product._agency_period_label(),
                    how=(
                        env._("billed at the start of each period")
                        if product.agency_recurring_invoicing_type != schedule.POST_PAID
                        else env._("billed at the end of each period")
                    ),
                    start=format_date(env, start) if start else env._("the day the quote is accepted"),
                    times=(env._(", %(count)s times", count=count) if count else env._(" until stopped")),
                )
            )
        return sentences

    def _agency_planned_sentences(self):
        """What an accepted order still plans to invoice, in plain words for the client."""
        self.ensure_one()
        env = self.env
        sentences = []
        for charge in self.sudo().agency_quote_charge_ids.filtered(
            lambda c: c.state == quotes.CHARGE_PENDING
        ):
            when = charge.when_label
            sentences.append(
                env._(
                    "%(what)s (%(amount)s): %(when)s.",
                    what=dict(charge._fields["kind"]._description_selection(env))[charge.kind],
                    amount=format_amount(env, charge.amount_total, charge.currency_id),
                    when=when[:1].lower() + when[1:],
                )
            )
        for item in self.sudo().agency_item_ids.filtered(
            lambda i: i.state == const.STATE_PENDING and i.next_invoice_date
        ):
            sentences.append(
                env._(
                    "%(item)s (%(amount)s excl. taxes): next invoiced on %(date)s.",
                    item=item.name,
                    amount=format_amount(env, item.amount_untaxed, item.currency_id),
                    date=format_date(env, item.next_invoice_date),
                )
            )
        return sentences

    # ------------------------------------------------------------------
    # EXPIRY REMINDERS (CRON)
    # ------------------------------------------------------------------
    @api.model
    def _agency_reminder_candidates(self):
        """Sent quotes of every company whose reminder is due today (in the company's time zone)."""
        orders = self.browse()
        for company in self.env["res.company"].search([("agency_quote_reminder_days", ">", 0)]):
            today = fields.Date.context_today(self.with_company(company))
            orders |= self.search(
                [
                    ("company_id", "=", company.id),
                    ("state", "=", "sent"),
                    ("agency_expiry_reminder", "=", True),
                    ("agency_expiry_reminder_sent_on", "=", False),
                    ("validity_date", ">=", today),
                    ("validity_date", "<=", today + timedelta(days=company.agency_quote_reminder_days)),
                ],
                order="validity_date, id",
            )
        return orders

    @api.model
    def _cron_send_expiry_reminders(self):
        """Email each open quote's client once, a few days before it expires (committed in batches)."""
        template = self.env.ref(
            "agency_billing.mail_template_quote_expiry_reminder", raise_if_not_found=False
        )
        if not template:
            return
        Cron = self.env["ir.cron"]
        batch_size = self._agency_reminder_batch_size()
        ids = self._agency_reminder_candidates().ids
        for start in range(0, len(ids), batch_size):
            # read again after each commit: a quote accepted or reminded meanwhile is left alone
            batch = self.browse(ids[start : start + batch_size]).filtered(
                lambda o: o.state == "sent" and not o.agency_expiry_reminder_sent_on
            )
            for order in batch:
                order._agency_send_expiry_reminder(template)
            remaining = max(len(ids) - start - batch_size, 0)
            if Cron._commit_progress(len(batch), remaining=remaining) <= 0:
                return

    def _agency_send_expiry_reminder(self, template):
        self.ensure_one()
        order = self.with_company(self.company_id).with_context(lang=self.partner_id.lang)
        order.message_post_with_source(
            template,
            email_layout_xmlid="mail.mail_notification_layout_with_responsible_signature",
            subtype_xmlid="mail.mt_comment",
        )
        self.agency_expiry_reminder_sent_on = fields.Datetime.now()

    @api.model
    def _agency_reminder_batch_size(self):
        value = self.env["ir.config_parameter"].sudo().get_param(quotes.PARAM_REMINDER_BATCH_SIZE)
        try:
            return max(int(value), 1) if value else quotes.DEFAULT_REMINDER_BATCH_SIZE
        except ValueError:
            return quotes.DEFAULT_REMINDER_BATCH_SIZE

    # ------------------------------------------------------------------
    # HELPERS
    # ------------------------------------------------------------------
    def _agency_is_handled(self):
        """Whether the billing engine invoices this order (it was accepted with an acceptance that makes money)."""
        self.ensure_one()
        acceptance = self._agency_acceptance()
        return bool(acceptance) and acceptance.mode != quotes.ACCEPT_MANUAL
