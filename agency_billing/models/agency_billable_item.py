from collections import defaultdict

from odoo import api, fields, models, tools
from odoo.exceptions import UserError, ValidationError
from odoo.fields import Domain
from odoo.tools.misc import get_lang

from .. import const, dates, schedule
from ..charges import Charge
from ..exceptions import BillingError

# Changing these once a period is billed would move past periods under billed
# invoices; the user stops the item and creates a new one instead.
SCHEDULE_FIELDS = (
    "date_start",
    "recurring_interval",
    "recurring_rule_type",
    "recurring_invoicing_type",
    "is_aligned",
    "is_prorated",
)


class AgencyBillableItem(models.Model):
    _name = "agency.billable.item"
    _description = "Billable Item"
    _inherit = ["mail.thread", "mail.activity.mixin", "agency.charge.source"]
    _order = "partner_id, next_invoice_date, id"
    _check_company_auto = True

    name = fields.Char(string="Description", required=True, tracking=True)
    partner_id = fields.Many2one(
        "res.partner",
        string="Client",
        required=True,
        index=True,
        tracking=True,
        check_company=True,
        domain="[('parent_id', '=', False)]",
        help="The client's commercial entity: its invoices go to its invoice address.",
    )
    company_id = fields.Many2one(
        "res.company", required=True, index=True, default=lambda self: self.env.company
    )
    currency_id = fields.Many2one(
        "res.currency",
        required=True,
        compute="_compute_currency_id",
        store=True,
        readonly=False,
        precompute=True,
    )
    product_id = fields.Many2one(
        "product.product",
        check_company=True,
        domain="[('sale_ok', '=', True)]",
        help="Gives the income account and default taxes of the invoice line.",
    )
    quantity = fields.Float(default=1.0, digits="Product Unit", required=True)
    price_unit = fields.Float(
        string="Unit Price",
        digits="Product Price",
        compute="_compute_price_unit",
        store=True,
        readonly=False,
        precompute=True,
    )
    tax_ids = fields.Many2many(
        "account.tax",
        string="Taxes",
        compute="_compute_tax_ids",
        store=True,
        readonly=False,
        precompute=True,
        check_company=True,
        domain="[('type_tax_use', '=', 'sale')]",
    )
    amount_untaxed = fields.Monetary(
        string="Amount",
        compute="_compute_amount_untaxed",
        store=True,
        currency_field="currency_id",
        help="What one period (or the one charge) adds to an invoice, before tax.",
    )
    period_label = fields.Char(string="Per", compute="_compute_period_label")
    project_id = fields.Many2one("project.project", check_company=True, index="btree_not_null")
    source = fields.Selection(const.SOURCES, default="manual", required=True, readonly=True)

    invoice_action = fields.Selection(
        const.INVOICE_ACTIONS,
        required=True,
        default=const.ACTION_NEXT_RUN,
        tracking=True,
    )
    date_due = fields.Date(string="Invoice On", tracking=True)

    # Recurrence
    date_start = fields.Date(string="Start", tracking=True)
    date_end = fields.Date(string="End", tracking=True, help="Last day billed. Empty: until stopped.")
    recurring_interval = fields.Integer(string="Every", default=1)
    recurring_rule_type = fields.Selection(schedule.RULE_TYPES, string="Unit", default=schedule.MONTHLY)
    recurring_invoicing_type = fields.Selection(
        schedule.INVOICING_TYPES, string="Invoicing", default=schedule.PRE_PAID
    )
    recurring_count = fields.Integer(
        string="Times", default=0, help="How many periods to bill. 0: until stopped."
    )
    is_aligned = fields.Boolean(
        string="Align to Calendar",
        help="Periods follow calendar months, weeks (from Monday) or years; the first period "
        "runs from the start date to the next calendar boundary.",
    )
    is_prorated = fields.Boolean(
        string="Prorate Partial Periods",
        help="Bill a partial first (or last) period for the share of days it covers.",
    )

    # Status
    state = fields.Selection(const.ITEM_STATES, default=const.STATE_PENDING, required=True, tracking=True)
    next_invoice_date = fields.Date(index=True, readonly=True, copy=False)
    invoice_line_ids = fields.One2many(
        "account.move.line", "agency_item_id", string="Invoice Lines", readonly=True
    )
    invoice_ids = fields.Many2many("account.move", string="Invoices", compute="_compute_invoice_stats")
    invoice_count = fields.Integer(compute="_compute_invoice_stats")
    billed_count = fields.Integer(string="Times Billed", compute="_compute_invoice_stats")
    remaining_count = fields.Integer(
        string="Periods Left", compute="_compute_invoice_stats", help="-1: until stopped"
    )
    remaining_label = fields.Char(string="Times Left", compute="_compute_invoice_stats")
    display_state = fields.Selection(
        [
            ("active", "Active"),
            ("pending", "To invoice"),
            ("on_hold", "On hold"),
            ("paused", "Paused"),
            ("done", "Done"),
            ("stopped", "Stopped"),
        ],
        string="Status",
        compute="_compute_display_state",
        store=True,
        help="Active: a recurring plan being billed. To invoice: a one-off charge waiting for its invoice.",
    )
    billing_error = fields.Text(readonly=True, copy=False, help="Why the last billing run could not bill it.")
    billing_error_date = fields.Datetime(readonly=True, copy=False)

    _due_lookup = models.Index("(company_id, state, invoice_action, next_invoice_date)")

    # Late fees: the overdue invoice and the reminder level a fee
    # is for. The index lets each level of an invoice charge one fee, ever.
    overdue_move_id = fields.Many2one(
        "account.move", string="Overdue Invoice", readonly=True, index="btree_not_null", ondelete="restrict"
    )
    reminder_level_id = fields.Many2one("agency.reminder.level", readonly=True, ondelete="restrict")
    _late_fee_once = models.UniqueIndex(
        "(overdue_move_id, reminder_level_id) WHERE overdue_move_id IS NOT NULL",
        "A late fee has already been charged for this invoice at this reminder level.",
    )

    # ------------------------------------------------------------------
    # COMPUTE
    # ------------------------------------------------------------------
    @api.depends("company_id")
    def _compute_currency_id(self):
        for item in self:
            item.currency_id = item.currency_id or item.company_id.currency_id

    @api.depends("product_id")
    def _compute_price_unit(self):
        for item in self:
            if item.product_id and not item.price_unit:
                item.price_unit = item.product_id.lst_price

    @api.depends("product_id", "company_id")
    def _compute_tax_ids(self):
        for item in self:
            if item.product_id:
                item.tax_ids = item.product_id.taxes_id._filter_taxes_by_company(item.company_id)

    @api.depends("quantity", "price_unit", "tax_ids", "currency_id", "product_id")
    def _compute_amount_untaxed(self):
        for item in self:
            # as Odoo's tax engine will compute the invoice line (a price may include a tax)
            item.amount_untaxed = item.tax_ids.compute_all(
                item.price_unit, currency=item.currency_id, quantity=item.quantity, product=item.product_id
            )["total_excluded"]

    @api.depends("invoice_action", "recurring_interval", "recurring_rule_type")
    def _compute_period_label(self):
        units = {
            schedule.DAILY: (self.env._("day"), self.env._("days")),
            schedule.WEEKLY: (self.env._("week"), self.env._("weeks")),
            schedule.MONTHLY: (self.env._("month"), self.env._("months")),
            schedule.YEARLY: (self.env._("year"), self.env._("years")),
        }
        for item in self:
            if item.invoice_action != const.ACTION_RECURRING:
                item.period_label = self.env._("once")
                continue
            one, many = units.get(item.recurring_rule_type or schedule.MONTHLY)
            interval = item.recurring_interval or 1
            item.period_label = f"/ {one}" if interval == 1 else f"/ {interval} {many}"

    @api.depends("state", "invoice_action")
    def _compute_display_state(self):
        for item in self:
            if item.state != const.STATE_PENDING:
                item.display_state = item.state
            elif item.invoice_action == const.ACTION_RECURRING:
                item.display_state = "active"
            elif item.invoice_action == const.ACTION_HOLD:
                item.display_state = "on_hold"
            else:
                item.display_state = "pending"

    @api.depends("invoice_line_ids.parent_state")
    def _compute_invoice_stats(self):
        for item in self:
            live = item.invoice_line_ids.filtered(lambda line: line.parent_state != "cancel")
            item.invoice_ids = live.move_id
            item.invoice_count = len(live.move_id)
            item.billed_count = len(live)
            if item.invoice_action == const.ACTION_RECURRING and item.date_start:
                total = schedule.total_periods(item._get_schedule())
                item.remaining_count = -1 if total is None else max(total - len(live), 0)
            else:
                item.remaining_count = 0 if live else 1
            item.remaining_label = (
                self.env._("until stopped") if item.remaining_count < 0 else str(item.remaining_count)
            )

    @api.onchange("product_id")
    def _onchange_product_id(self):
        if self.product_id:
            self.price_unit = self.product_id.lst_price
            if not self.name:
                self.name = self.product_id.get_product_multiline_description_sale() or self.product_id.name

    # ------------------------------------------------------------------
    # CONSTRAINTS
    # ------------------------------------------------------------------
    @api.constrains("invoice_action", "date_due", "date_start", "date_end")
    def _check_dates(self):
        for item in self:
            if item.invoice_action == const.ACTION_ON_DATE and not item.date_due:
                raise ValidationError(
                    self.env._("“%(item)s” is to be invoiced on a date: set the date.", item=item.name)
                )
            if item.invoice_action == const.ACTION_RECURRING and not item.date_start:
                raise ValidationError(
                    self.env._("The recurring item “%(item)s” needs a start date.", item=item.name)
                )
            if item.date_start and item.date_end and item.date_end < item.date_start:
                raise ValidationError(
                    self.env._(
                        "“%(item)s” ends before it starts: the end date must be on or after the start date.",
                        item=item.name,
                    )
                )

    @api.constrains("quantity", "recurring_interval", "recurring_count", "invoice_action")
    def _check_amounts(self):
        for item in self:
            if item.quantity <= 0:
                raise ValidationError(
                    self.env._("The quantity of “%(item)s” must be more than zero.", item=item.name)
                )
            if item.invoice_action == const.ACTION_RECURRING and item.recurring_interval < 1:
                raise ValidationError(
                    self.env._(
                        "“%(item)s” must repeat at least every 1 day, week, month or year.", item=item.name
                    )
                )
            if item.recurring_count < 0:
                raise ValidationError(
                    self.env._(
                        "The number of times of “%(item)s” cannot be negative (0 means until stopped).",
                        item=item.name,
                    )
                )

    @api.constrains("currency_id")
    def _check_currency_active(self):
        for item in self:
            if not item.currency_id.active:
                raise ValidationError(
                    self.env._(
                        "The currency %(currency)s is not active: activate it in Accounting settings first.",
                        currency=item.currency_id.name,
                    )
                )

    @api.constrains("partner_id")
    def _check_partner_is_commercial(self):
        for item in self:
            if item.partner_id != item.partner_id.commercial_partner_id:
                raise ValidationError(
                    self.env._(
                        "Bill the company “%(company)s”, not its contact “%(contact)s”.",
                        company=item.partner_id.commercial_partner_id.display_name,
                        contact=item.partner_id.display_name,
                    )
                )

    @api.ondelete(at_uninstall=False)
    def _unlink_except_billed(self):
        billed = self.filtered(lambda i: i.billed_count)
        if billed:
            raise UserError(
                self.env._(
                    "“%(item)s” has been invoiced and cannot be deleted: stop it instead, "
                    "or cancel its invoices first.",
                    item=billed[0].name,
                )
            )

    # ------------------------------------------------------------------
    # CRUD
    # ------------------------------------------------------------------
    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            if vals.get("partner_id"):
                partner = self.env["res.partner"].browse(vals["partner_id"])
                vals["partner_id"] = partner.commercial_partner_id.id
        items = super().create(vals_list)
        items._update_billing_status()
        return items

    def write(self, vals):
        if self.env.context.get("agency_billing_status_update"):
            return super().write(vals)
        if any(f in vals for f in SCHEDULE_FIELDS):
            changed = self.filtered(
                lambda i: (
                    i.billed_count
                    and any(
                        i._fields[f].convert_to_write(i[f], i) != vals[f]
                        for f in SCHEDULE_FIELDS
                        if f in vals
                    )
                )
            )
            if changed:
                raise UserError(
                    self.env._(
                        "“%(item)s” has been billed: its schedule cannot change any more. Stop it and "
                        "create a new item with the new schedule.",
                        item=changed[0].name,
                    )
                )
        if "partner_id" in vals and self.filtered("billed_count"):
            raise UserError(self.env._("A billed item cannot move to another client."))
        res = super().write(vals)
        if {"invoice_action", "date_due", "date_end", "recurring_count", "state", *SCHEDULE_FIELDS} & set(
            vals
        ):
            self._update_billing_status()
        return res

    # ------------------------------------------------------------------
    # ACTIONS
    # ------------------------------------------------------------------
    def action_pause(self):
        self._check_lifecycle(const.STATE_PENDING)
        self.write({"state": const.STATE_PAUSED})

    def action_resume(self):
        self._check_lifecycle(const.STATE_PAUSED)
        self.write({"state": const.STATE_PENDING})

    def action_stop(self):
        for item in self:
            if item.state in (const.STATE_DONE, const.STATE_STOPPED):
                raise UserError(self.env._("“%(item)s” is already finished.", item=item.name))
        self.write({"state": const.STATE_STOPPED})

    def action_release(self):
        """Release items on hold: the next billing run invoices them."""
        held = self.filtered(lambda i: i.invoice_action == const.ACTION_HOLD)
        held.write({"invoice_action": const.ACTION_NEXT_RUN})

    def action_invoice_now(self):
        """Invoice the selected items at once (the "Invoice selected items now" action)."""
        run = self.env["agency.billing.run"]._run_for_items(self)
        return run._get_result_action()

    def action_view_invoices(self):
        action = self.env["ir.actions.act_window"]._for_xml_id("account.action_move_out_invoice_type")
        action["domain"] = [("id", "in", self.invoice_ids.ids)]
        action["context"] = {"create": False}
        return action

    def _portal_schedule_label(self):
        """ "every month", "every 3 months until 31 Dec 2027", "on 15 Apr 2027": how the client reads it."""
        self.ensure_one()
        if self.invoice_action == const.ACTION_ON_DATE:
            return self.env._(
                "once, on %(date)s", date=dates.format_day(get_lang(self.env).code, self.date_due)
            )
        if self.invoice_action != const.ACTION_RECURRING:
            return self.env._("once, on your next invoice")
        label = self.env._("every %(period)s", period=self.period_label.removeprefix("/ "))
        if self.date_end:
            label = self.env._(
                "%(schedule)s until %(date)s",
                schedule=label,
                date=dates.format_day(get_lang(self.env).code, self.date_end),
            )
        elif self.remaining_count > 0:
            label = self.env._(
                "%(schedule)s, %(count)s more times", schedule=label, count=self.remaining_count
            )
        return label

    def _check_lifecycle(self, expected_state):
        for item in self:
            if item.invoice_action != const.ACTION_RECURRING:
                raise UserError(self.env._("Only recurring items can be paused and resumed."))
            if item.state != expected_state:
                raise UserError(
                    self.env._(
                        "“%(item)s” is %(state)s.",
                        item=item.name,
                        state=dict(self._fields["state"]._description_selection(self.env))[item.state],
                    )
                )

    # ------------------------------------------------------------------
    # CHARGE SOURCE (see agency.charge.source)
    # ------------------------------------------------------------------
    _agency_charge_sequence = 10

    @api.model
    def _agency_source_description(self):
        return self.env._("Billable items")

    @api.model
    def _agency_run_domain(self, run):
        """The items ``run`` bills by themselves (``next_invoice`` ones ride along)."""
        domain = Domain("company_id", "=", run.company_id.id)
        if run.scope_item_ids:
            return (
                domain
                & Domain("id", "in", run.scope_item_ids.ids)
                & Domain("state", "=", const.STATE_PENDING)
            )
        domain &= self._get_due_domain(run.date)
        if run.scope_partner_ids:
            domain &= Domain("partner_id", "in", run.scope_partner_ids.ids)
        return domain

    @api.model
    def _agency_due_partner_ids(self, run):
        groups = self._read_group(self._agency_run_domain(run), groupby=["partner_id"])
        return {partner.id for (partner,) in groups}

    @api.model
    def _agency_get_charges(self, batch, partners):
        run = batch.run
        if isinstance(run.id, int):
            # late fees the company drops once their invoice is paid (or cancelled)
            # are never billed, however the payment came in since the reminder run
            self.env["account.move"]._agency_drop_unbilled_late_fees(run.company_id)
        Item = self.with_company(run.company_id)
        # the fields billing reads, with the search (not every column of an item)
        fnames = self._agency_charge_fields()
        items = Item.search_fetch(
            self._agency_run_domain(run) & Domain("partner_id", "in", partners.ids), fnames
        )
        if not run.scope_item_ids:
            # "add to the client's next invoice": on any invoice the run makes for the client
            items |= Item.search_fetch(
                [
                    ("company_id", "=", run.company_id.id),
                    ("partner_id", "in", partners.ids),
                    ("state", "=", const.STATE_PENDING),
                    ("invoice_action", "=", const.ACTION_NEXT_INVOICE),
                ],
                fnames,
            )
        charges = []
        for item, periods in items._get_due_periods(run.date, force=bool(run.scope_item_ids)).items():
            rides_along = item.invoice_action == const.ACTION_NEXT_INVOICE and not run.scope_item_ids
            charges.extend(
                Charge(
                    source=self._name,
                    partner=item.partner_id,
                    currency=item.currency_id,
                    project=item.project_id,
                    records=item,
                    period=period,
                    rides_along=rides_along,
                )
                for period in periods
            )
        return charges

    @api.model
    def _agency_charge_fields(self):
        """The fields of an item that billing it reads: its periods, its invoice line, its status."""
        return [
            "name",
            "partner_id",
            "currency_id",
            "project_id",
            "product_id",
            "tax_ids",
            "quantity",
            "price_unit",
            "discount",
            "state",
            "invoice_action",
            "date_due",
            *const.ITEM_SCHEDULE_FIELDS,
            "next_invoice_date",
            "billing_error",
            "sale_line_id",
            "sale_order_id",
        ]

    @api.model
    def _agency_check_charges(self, batch, partner, charges):
        no_fiscal_position = self.env["account.fiscal.position"]
        for item in self.concat(*(charge.records for charge in charges)):
            if not (
                batch.income_account(item.product_id, no_fiscal_position) or batch.journal.default_account_id
            ):
                raise BillingError(
                    self.env._(
                        "No income account for “%(item)s”: set one on its product or product category.",
                        item=item.name,
                    )
                )

    @api.model
    def _prepare_agency_invoice_line_vals(self, charge, invoice_vals):
        fiscal_position_id = invoice_vals.get("fiscal_position_id")
        fiscal_position = (
            self.env["account.fiscal.position"].browse(fiscal_position_id) if fiscal_position_id else None
        )
        lang = charge.partner.lang or self.env.lang
        return charge.records._prepare_invoice_line_vals(
            charge.period, fiscal_position=fiscal_position, lang=lang
        )

    @api.model
    def _agency_after_invoicing(self, batch, lines):
        items = lines.agency_item_id
        items._update_billing_status()
        items._clear_billing_error()
        return {"item_count": len(items)}

    @api.model
    def _agency_flag_failure(self, charges, message):
        self.concat(*(charge.records for charge in charges))._flag_billing_error(message)

    # ------------------------------------------------------------------
    # BILLING HELPERS
    # ------------------------------------------------------------------
    def _get_schedule(self):
        return schedule.Schedule(*self._get_schedule_values())

    def _get_schedule_values(self):
        """The fields of this item's ``schedule.Schedule``, in order (a tuple: items that share
        a schedule share its periods, without making a schedule per item)."""
        self.ensure_one()
        return (
            self.date_start,
            self.recurring_interval or 1,
            self.recurring_rule_type or schedule.MONTHLY,
            self.recurring_invoicing_type or schedule.PRE_PAID,
            self.recurring_count or 0,
            self.date_end or None,
            self.is_aligned,
            self.is_prorated,
        )

    def _get_billed_keys(self):
        """{item id: set of keys of its periods on invoices that are not cancelled}."""
        keys = {item.id: set() for item in self}
        if not self.ids:
            return keys
        self.env["account.move.line"].flush_model(["agency_item_id", "agency_period_key", "parent_state"])
        self.env.cr.execute(
            """SELECT agency_item_id, agency_period_key FROM account_move_line
                WHERE agency_item_id = ANY(%s) AND parent_state IS DISTINCT FROM 'cancel'""",
            [list(self.ids)],
        )
        for item_id, key in self.env.cr.fetchall():
            keys[item_id].add(key)
        return keys

    def _get_due_periods(self, up_to, billed_keys=None, force=False):
        """{item: [schedule.Period]} of what is due up to a date.

        One-off items have a single pseudo-period keyed ``once``. ``force``
        bills one-off items whatever their action (the user selected them).
        """
        billed_keys = billed_keys if billed_keys is not None else self._get_billed_keys()
        result = {}
        # many items share a schedule (same start, same rule): their periods are computed once
        known = {}
        for item in self:
            if item.state != const.STATE_PENDING:
                continue
            keys = billed_keys.get(item.id, set())
            if item.invoice_action == const.ACTION_RECURRING:
                known_key = (item._get_schedule_values(), frozenset(keys))
                if known_key not in known:
                    known[known_key] = schedule.due_periods(item._get_schedule(), up_to, keys)
                periods = known[known_key]
            else:
                if const.ONE_OFF_KEY in keys:
                    continue
                if not force and not item._is_one_off_due(up_to):
                    continue
                periods = [schedule.Period(0, up_to, up_to, up_to)]
            if periods:
                result[item] = list(periods)
        return result

    def _is_one_off_due(self, up_to):
        action = self.invoice_action
        return action in (const.ACTION_NEXT_RUN, const.ACTION_NEXT_INVOICE) or (
            action == const.ACTION_ON_DATE and self.date_due and self.date_due <= up_to
        )

    @api.model
    def _get_due_domain(self, up_to):
        """Items a run bills by themselves (``next_invoice`` ones ride along)."""
        return Domain("state", "=", const.STATE_PENDING) & (
            Domain("invoice_action", "=", const.ACTION_NEXT_RUN)
            | (
                Domain("invoice_action", "in", [const.ACTION_ON_DATE, const.ACTION_RECURRING])
                & Domain("next_invoice_date", "<=", up_to)
            )
        )

    def _prepare_invoice_line_vals(self, period, fiscal_position=None, lang=None):
        """The values of the invoice line that bills one period of this item."""
        self.ensure_one()
        taxes = fiscal_position.map_tax(self.tax_ids) if fiscal_position else self.tax_ids
        recurring = self.invoice_action == const.ACTION_RECURRING
        vals = {
            "name": self._get_line_description(period, lang),
            "quantity": self.quantity,
            # a partial period is billed at its share of the unit price
            "price_unit": self.price_unit * period.factor,
            "tax_ids": [fields.Command.set(taxes.ids)],
            "agency_item_id": self.id,
            "agency_period_key": period.key if recurring else const.ONE_OFF_KEY,
        }
        if recurring:
            vals["agency_period_start"] = period.date_start
            vals["agency_period_end"] = period.date_end
        product = self.product_id
        if product:
            vals["product_id"] = product.id
            vals["product_uom_id"] = product.uom_id.id
        project = self.project_id
        if project and project.account_id:
            vals["analytic_distribution"] = {str(project.account_id.id): 100}
        return vals

    def _get_line_description(self, period, lang=None):
        if self.invoice_action != const.ACTION_RECURRING:
            return self.name
        lang_code, label, prorated = self._get_period_label_formats(lang or self.env.lang) or (
            # not an installed language (none, or one deactivated since): Odoo's own fallback,
            # which depends on the context and the user's company, never cached
            self._get_period_label_formats(get_lang(self.env, lang).code)
        )
        text = label % {
            "name": self.name,
            "start": dates.format_day(lang_code, period.date_start),
            "end": dates.format_day(lang_code, period.date_end),
        }
        if period.factor != 1.0:
            text += " " + prorated % {"percent": round(period.factor * 100, 2)}
        return text

    @api.model
    @tools.ormcache("lang")
    def _get_period_label_formats(self, lang):
        """(language code, label, prorated label) of a period's line in the installed
        language ``lang``, or None when ``lang`` is not installed.

        Translated once per language (a run writes thousands of lines); the
        cache is cleared when languages change, as Odoo's own ``get_lang``.
        """
        if lang not in dict(self.env["res.lang"].get_installed()):
            return None
        env = self.with_context(lang=lang).env
        return (lang, env._("%(name)s — %(start)s to %(end)s"), env._("(prorated: %(percent)s%%)"))

    def _update_billing_status(self):
        """Recompute the state and next date from the billed periods."""
        billed = self._get_billed_keys()
        today = fields.Date.context_today(self)
        to_write = defaultdict(list)  # {(field, value) pairs: [item ids]}: one write per change
        for item in self:
            keys = billed.get(item.id, set())
            next_date = False
            finished = False
            if item.invoice_action == const.ACTION_RECURRING:
                if item.date_start:
                    period = schedule.next_unbilled(item._get_schedule(), keys)
                    # a paused plan has no next invoice until it is resumed
                    next_date = period.invoice_date if period and item.state != const.STATE_PAUSED else False
                    finished = period is None
            else:
                finished = const.ONE_OFF_KEY in keys
                if not finished:
                    next_date = {
                        const.ACTION_ON_DATE: item.date_due,
                        const.ACTION_NEXT_RUN: today,
                    }.get(item.invoice_action, False)
            state = item.state
            if finished and state == const.STATE_PENDING:
                state = const.STATE_DONE
            elif not finished and state == const.STATE_DONE:
                state = const.STATE_PENDING
            vals = []
            if item.next_invoice_date != next_date:
                vals.append(("next_invoice_date", next_date))
            if item.state != state:
                vals.append(("state", state))
            if vals:
                to_write[tuple(vals)].append(item.id)
        for vals, ids in to_write.items():
            self.browse(ids).with_context(agency_billing_status_update=True).write(dict(vals))

    def _flag_billing_error(self, message):
        self.write({"billing_error": message, "billing_error_date": fields.Datetime.now()})

    def _clear_billing_error(self):
        flagged = self.filtered("billing_error")
        if flagged:
            flagged.write({"billing_error": False, "billing_error_date": False})
