import json
import logging
import os
import uuid
from collections import defaultdict

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.fields import Command, Domain
from odoo.tools import SQL, float_round
from odoo.tools.misc import formatLang

from odoo.addons.account.models import account_move as odoo_account_move

from .. import const, dunning

_logger = logging.getLogger(__name__)

# account.move.line._compute_sequence: product lines first, then the taxes
PRODUCT_LINE_SEQUENCE = 100
TAX_LINE_SEQUENCE = 10000

# What the one-go creation knows how to make (see _agency_fast_refusal):
# invoice values and invoice line values with any other key go the ordinary way.
FAST_INVOICE_KEYS = frozenset(
    {
        "move_type",
        "partner_id",
        "company_id",
        "currency_id",
        "journal_id",
        "fiscal_position_id",
        "invoice_date",
        "invoice_origin",
        "invoice_payment_term_id",
        "invoice_user_id",
        "ref",
        "narration",
        "agency_billing_run_id",
        "invoice_line_ids",
    }
)
FAST_LINE_KEYS = frozenset(
    {
        "name",
        "product_id",
        "product_uom_id",
        "quantity",
        "price_unit",
        "discount",
        "tax_ids",
        "analytic_distribution",
        "display_type",
        "agency_item_id",
        "agency_period_key",
        "agency_period_start",
        "agency_period_end",
        "agency_timesheet_billing_ids",
    }
)
# Fields of journal items whose values the one-go creation gives (or has the
# tax engine give) instead of letting Odoo compute them: a module that
# overrides how Odoo computes one of them must be reviewed before its
# invoices can be made in one go.
FAST_PRECOMPUTED_LINE_FIELDS = (
    "account_id",
    "currency_id",
    "partner_id",
    "is_storno",
    "sequence",
    "analytic_distribution",
    "price_subtotal",
    "price_total",
    "balance",
    "amount_currency",
    "tax_tag_ids",
)
# Methods of Odoo's invoice synchronisation that the one-go creation stands in for.
FAST_REPLACED_METHODS = {
    "account.move": (
        "_sync_dynamic_lines",
        "_sync_dynamic_line",
        "_sync_tax_lines",
        "_sync_rounding_lines",
        "_sync_unbalanced_lines",
        "_sync_non_deductible_base_lines",
        "_sync_invoice",
        "_get_rounded_base_and_tax_lines",
        "_prepare_product_base_line_for_taxes_computation",
        "_get_product_base_line_currency_rate",
    ),
    "account.move.line": ("_sync_invoice",),
}
# Modules whose overrides of the methods above were read and make no difference
# for the invoices made in one go.
FAST_REVIEWED_MODULES = {
    "account": "Odoo's own accounting: what the one-go creation reproduces",
    "analytic": "the analytic mixin's lookup of distribution models, excluded when a company has any",
    "agency_billing": "this addon",
    "sale": "is_storno of down payments: only with storno accounting, which the one-go creation excludes",
    "sale_project": "analytic distribution from a project in the context or a project's sales order line, "
    "both excluded from the one-go creation",
}
ACCOUNT_MOVE_FILE = os.path.realpath(odoo_account_move.__file__)


class FastRefusedError(Exception):
    """An invoice made in one go is not what the ordinary way would make: make it that way."""


class AccountMove(models.Model):
    _inherit = "account.move"

    agency_billing_run_id = fields.Many2one(
        "agency.billing.run", string="Billing Run", copy=False, readonly=True, index="btree_not_null"
    )

    agency_credited_time_count = fields.Integer(compute="_compute_agency_credited_time_count")

    def _compute_agency_credited_time_count(self):
        for move in self:
            move.agency_credited_time_count = len(move._agency_credited_time())

    def _agency_credited_time(self):
        """On a credit note: the billed time of the credited invoice not released yet."""
        self.ensure_one()
        if self.move_type != "out_refund":
            return self.env["agency.timesheet.billing"]
        return self.reversed_entry_id.line_ids.agency_timesheet_billing_ids.filtered(
            lambda billing: not billing.is_released
        )

    def action_agency_release_credited_time(self):
        """On a credit note: the credited invoice's time can be billed again."""
        for move in self:
            if move.move_type != "out_refund" or move.state != "posted" or not move.reversed_entry_id:
                raise UserError(
                    self.env._("Only a posted credit note releases the time of the invoice it credits.")
                )
            billed = move._agency_credited_time()
            if not billed:
                raise UserError(self.env._("The credited invoice has no billed time left to release."))
            billed.sudo().write({"is_released": True})
            move.message_post(
                body=self.env._(
                    "%(count)s timesheet entries of %(invoice)s were released to be billed again.",
                    count=len(billed),
                    invoice=move.reversed_entry_id.display_name,
                )
            )
        return True

    def _agency_portal_shows_time(self):
        self.ensure_one()
        return bool(
            self.move_type == "out_invoice"
            and self.commercial_partner_id.agency_portal_show_time
            and self.line_ids.agency_timesheet_billing_ids
        )

    def _agency_items(self):
        return self.line_ids.agency_item_id

    def write(self, vals):
        # Cancelling (or reviving) an invoice frees (or takes back) its periods:
        # the items' next date and state follow.
        if vals.get("state") not in ("cancel", "draft"):
            return super().write(vals)
        items = self._agency_items()
        res = super().write(vals)
        if items:
            items._update_billing_status()
        return res

    def unlink(self):
        items = self._agency_items()
        res = super().unlink()
        if items:
            items.exists()._update_billing_status()
        return res

    # ------------------------------------------------------------------
    # ONE-GO INVOICE CREATION (the billing run's)
    # ------------------------------------------------------------------
    # Odoo's account.move.create() recomputes an invoice line by line through
    # its synchronisation (one write per line), which is most of what a
    # billing run costs. For the invoices it knows how to make, the run asks
    # Odoo's tax engine (account.tax) for the amounts, tags and tax lines of
    # a whole invoice at once, creates the invoice with them as Odoo does for
    # an imported invoice, adds the receivable lines from Odoo's own
    # needed_terms, and checks the balance. Anything else goes the ordinary
    # way. tests/test_billing_accounting.py proves both ways equal.

    @api.model
    def _agency_create_invoices(self, vals_list):
        """Create customer invoices from ``vals_list``, as ``create()`` would.

        Returns ``(moves, fast)``: the invoices in the order of ``vals_list``
        (so in the order of their ids, and later of their numbers) and those
        made in one go. Runs of consecutive invoices are created together.
        """
        Move = self.with_context(**const.QUIET_CONTEXT, default_move_type="out_invoice")
        contexts = {}
        chunks = []  # [(fast?, [vals])], consecutive invoices of the same way
        for vals in vals_list:
            company = self.env["res.company"].browse(vals["company_id"])
            if company not in contexts:
                contexts[company] = Move._agency_fast_context(company)
            is_fast = not Move._agency_fast_refusal(vals, contexts[company])
            if chunks and chunks[-1][0] == is_fast:
                chunks[-1][1].append(vals)
            else:
                chunks.append((is_fast, [vals]))
        moves, fast = self.browse(), self.browse()
        for is_fast, chunk in chunks:
            if is_fast:
                try:
                    with self.env.cr.savepoint():
                        made = Move._agency_create_fast(chunk, contexts)
                except FastRefusedError:
                    self.env.invalidate_all()
                    made = Move.create(chunk)
                else:
                    fast |= made
            else:
                made = Move.create(chunk)
            moves |= made
        return moves, fast

    def _agency_post(self, fast=None):
        """Post the invoices; numbers follow their order, as one ``_post()`` would give them.

        ``fast``: those made in one go, posted without Odoo's line
        synchronisation (all their lines are in company currency: posting
        changes nothing it would have to follow), as point_of_sale does.
        """
        fast = fast or self.browse()
        chunks = []
        for move in self.sorted("id"):
            is_fast = move in fast
            if chunks and chunks[-1][0] == is_fast:
                chunks[-1][1].append(move.id)
            else:
                chunks.append((is_fast, [move.id]))
        quiet = self.with_context(**const.QUIET_CONTEXT)
        for is_fast, ids in chunks:
            moves = quiet.browse(ids)
            if is_fast:
                moves = moves.with_context(skip_invoice_sync=True)
            moves._post(soft=False)
        return True

    @api.model
    def _agency_fast_context(self, company):
        """What the invoices of one company in one call share."""
        Journal = self.env["account.journal"]
        params = self.env["ir.config_parameter"].sudo()
        defaults = self.default_get(["invoice_payment_term_id", "invoice_cash_rounding_id"])
        return {
            "company": company,
            "enabled": params.get_param(const.PARAM_FAST_INVOICES, "1") not in ("0", "false", "False"),
            "defaults": defaults,
            "journal": Journal.search(
                [*Journal._check_company_domain(company), ("type", "=", "sale")], limit=1
            ),
            "refusal": self._agency_fast_company_refusal(company),
            "income_accounts": {},
            "line_totals": {},
        }

    @api.model
    def _agency_fast_company_refusal(self, company):
        """Why no invoice of ``company`` can be made in one go, or None."""

        def overridden():
            overrides = self._agency_fast_unreviewed_overrides()
            return "overridden by " + ", ".join(sorted(overrides)) if overrides else None

        def own_synchronisation():
            probe = self.new({"move_type": "out_invoice", "company_id": company.id})
            return (
                None
                if self._agency_sync_stack_is_odoo(probe)
                else "a module adds its own line synchronisation"
            )

        checks = (
            lambda: (
                "tax rounding method"
                if company.tax_calculation_rounding_method not in ("round_per_line", "round_globally")
                else None
            ),
            lambda: "storno accounting" if company.account_storno else None,
            # a model's distribution reaches the lines, and the tax lines,
            # through Odoo's own per-line lookup
            lambda: (
                "analytic distribution models"
                if self.env["account.analytic.distribution.model"].search_count(
                    [("company_id", "in", [company.id, False])], limit=1
                )
                else None
            ),
            lambda: "project in the context" if self.env.context.get("project_id") else None,
            overridden,
            own_synchronisation,
        )
        return next(filter(None, (check() for check in checks)), None)

    @api.model
    def _agency_fast_unreviewed_overrides(self):
        """Modules that change what the one-go creation stands in for and nobody reviewed."""
        Line = self.env["account.move.line"]
        methods = {model: set(names) for model, names in FAST_REPLACED_METHODS.items()}
        for fname in FAST_PRECOMPUTED_LINE_FIELDS:
            compute = Line._fields[fname].compute
            if isinstance(compute, str):
                methods["account.move.line"].add(compute)
        modules = set()
        for model, names in methods.items():
            for cls in type(self.env[model]).__mro__:
                module = getattr(cls, "_module", None)
                if module and module not in FAST_REVIEWED_MODULES and names & set(vars(cls)):
                    modules.add(module)
        return modules

    @api.model
    def _agency_sync_stack_is_odoo(self, moves):
        """Whether Odoo's line synchronisation of ``moves`` is Odoo's own, step by step."""
        stack, _update = moves._get_sync_stack({"records": moves})
        for _sequence, step in stack:
            generator = getattr(step, "gen", None)
            code = getattr(generator, "gi_code", None)
            if code is None or os.path.realpath(code.co_filename) != ACCOUNT_MOVE_FILE:
                return False
            generator.close()
        return True

    @api.model
    def _agency_fast_refusal(self, vals, context):
        """Why ``vals`` cannot be made in one go (a short reason), or None.

        Decided on the final values, after every ``_prepare_*_vals`` hook,
        by what the one-go creation knows how to make: anything else (another
        key, a discount, a cash rounding, an early-payment discount from any
        source, a foreign currency, special taxes) goes the ordinary way.
        """
        refusal = self._agency_fast_invoice_refusal(vals, context)
        if refusal:
            return refusal
        fiscal_position = self.env["account.fiscal.position"].browse(vals.get("fiscal_position_id"))
        lines = (
            self._agency_fast_line_refusal(command, fiscal_position, context)
            for command in vals.get("invoice_line_ids") or ()
        )
        return next(filter(None, lines), None)

    @api.model
    def _agency_fast_invoice_refusal(self, vals, context):
        company = context["company"]

        def payment_term():
            term_id = vals.get("invoice_payment_term_id") or context["defaults"].get(
                "invoice_payment_term_id"
            )
            partner = self.env["res.partner"].browse(vals["partner_id"])
            term = (
                self.env["account.payment.term"].browse(term_id)
                if term_id
                else partner.with_company(company).property_payment_term_id
            )
            return "early-payment discount" if term.early_discount else None

        unknown = set(vals) - self._agency_fast_invoice_keys()
        checks = (
            lambda: "switched off" if not context["enabled"] else None,
            lambda: context["refusal"],
            lambda: "invoice values " + ", ".join(sorted(unknown)) if unknown else None,
            lambda: "not a customer invoice" if vals.get("move_type") != "out_invoice" else None,
            lambda: "foreign currency" if vals.get("currency_id") != company.currency_id.id else None,
            lambda: "another journal" if vals.get("journal_id") != context["journal"].id else None,
            payment_term,
            lambda: "cash rounding" if context["defaults"].get("invoice_cash_rounding_id") else None,
        )
        return next(filter(None, (check() for check in checks)), None)

    @api.model
    def _agency_fast_line_refusal(self, command, fiscal_position, context):
        if command[0] != Command.CREATE:
            return "line command"
        line = command[2]
        product = self.env["product.product"].browse(line.get("product_id"))

        def taxes():
            tax_ids = self._agency_command_ids(line.get("tax_ids"))
            special = any(
                tax.tax_exigibility != "on_invoice" or tax.amount_type == "code"
                for tax in self.env["account.tax"].browse(tax_ids).flatten_taxes_hierarchy()
            )
            return "cash-basis or Python-coded tax" if special else None

        unknown = set(line) - self._agency_fast_line_keys()
        checks = (
            lambda: "line values " + ", ".join(sorted(unknown)) if unknown else None,
            lambda: "section or note" if line.get("display_type", "product") != "product" else None,
            # without them Odoo computes them (from the product, the display type)
            lambda: "line without quantity or price" if not {"quantity", "price_unit"} <= set(line) else None,
            lambda: "discount" if line.get("discount") else None,
            lambda: "line without product" if not product else None,
            lambda: (
                "another unit of measure"
                if line.get("product_uom_id", product.uom_id.id) != product.uom_id.id
                else None
            ),
            taxes,
            lambda: (
                "no income account"
                if not self._agency_fast_income_account(product, fiscal_position, context)
                else None
            ),
        )
        return next(filter(None, (check() for check in checks)), None)

    @api.model
    def _agency_fast_invoice_keys(self):
        """Invoice values the one-go creation knows: an addon whose extra field
        changes no amount (a link, a note) adds it here to keep the one-go way."""
        return FAST_INVOICE_KEYS

    @api.model
    def _agency_fast_line_keys(self):
        """Invoice line values the one-go creation knows (see ``_agency_fast_invoice_keys``)."""
        return FAST_LINE_KEYS

    @api.model
    def _agency_command_ids(self, commands):
        """The ids an x2many value of ``[Command.set(ids)]`` (or plain ids) gives."""
        ids = []
        for command in commands or ():
            if isinstance(command, int):
                ids.append(command)
            elif command[0] == Command.SET:
                ids = list(command[2])
            elif command[0] == Command.LINK:
                ids.append(command[1])
            elif command[0] == Command.CLEAR:
                ids = []
        return ids

    @api.model
    def _agency_fast_income_account(self, product, fiscal_position, context):
        key = (product.id, fiscal_position.id)
        accounts = context["income_accounts"]
        if key not in accounts:
            accounts[key] = (
                product.product_tmpl_id.with_company(context["company"])
                .get_product_accounts(fiscal_pos=fiscal_position)
                .get("income")
            )
        return accounts[key]

    @api.model
    def _agency_create_fast(self, vals_list, contexts):
        """Create invoices in one go; raise ``FastRefusedError`` if one is not what Odoo would make."""
        prepared = [self._agency_prepare_fast_vals(vals, contexts) for vals in vals_list]
        unsynced = {"skip_invoice_sync": True, "skip_invoice_line_sync": True, "check_move_validity": False}
        moves = self.with_context(**unsynced).create(prepared)
        # Their subtotals and totals came with them, from the same per-line
        # computation as account.move.line._compute_totals: Odoo need not make
        # it again (it does not keep given values of read-only computed fields).
        lines = moves.line_ids.filtered(lambda line: line.display_type == "product")
        for fname in ("price_subtotal", "price_total"):
            self.env.remove_to_compute(lines._fields[fname], lines)
        self._agency_check_fast_moves(moves)
        needed = self._sync_dynamic_line_needed_values(moves.mapped("needed_terms"))
        self.env["account.move.line"].with_context(**const.QUIET_CONTEXT, **unsynced).create(
            [{**key, **values, "display_type": "payment_term"} for key, values in needed.items()]
        )
        with self._check_balanced({"records": moves}):
            pass
        return moves

    def _agency_check_fast_moves(self, moves):
        """The invoices made in one go, as Odoo made them: anything the one-go way does not do refuses them."""
        for move in moves:
            if (
                move.currency_id != move.company_id.currency_id
                or move.invoice_payment_term_id.early_discount
                or move.invoice_cash_rounding_id
                or move.is_storno
                or any(line.discount or line.is_storno for line in move.line_ids)
                or set(move.line_ids.mapped("display_type")) - {"product", "tax"}
            ):
                raise FastRefusedError(move)
        if not self._agency_sync_stack_is_odoo(moves):
            raise FastRefusedError(moves)

    @api.model
    def _agency_prepare_fast_vals(self, vals, contexts):
        """The invoice's values with every journal item but the receivable ones, from Odoo's tax engine."""
        context = contexts[self.env["res.company"].browse(vals["company_id"])]
        company = context["company"]
        AccountTax = self.env["account.tax"]
        Line = self.env["account.move.line"]
        partner = self.env["res.partner"].browse(vals["partner_id"]).commercial_partner_id
        fiscal_position = self.env["account.fiscal.position"].browse(vals.get("fiscal_position_id"))
        vals = dict(vals)
        product_lines = [dict(command[2]) for command in vals.pop("invoice_line_ids")]
        base_lines = []
        for line in product_lines:
            product = self.env["product.product"].browse(line["product_id"])
            # what Odoo stores, hence computes with: values at the fields' precision
            for fname in ("quantity", "price_unit", "discount"):
                line[fname] = Line._fields[fname].convert_to_cache(line.get(fname) or 0.0, Line)
            taxes = AccountTax.browse(self._agency_command_ids(line.get("tax_ids")))
            # no analytic distribution model (see _agency_fast_company_refusal):
            # Odoo's per-line lookup would find nothing
            line.setdefault("analytic_distribution", False)
            line["display_type"] = "product"
            line.setdefault("product_uom_id", product.uom_id.id)
            base_lines.append(
                AccountTax._prepare_base_line_for_taxes_computation(
                    line,
                    price_unit=line["price_unit"],
                    quantity=line["quantity"],
                    discount=line["discount"],
                    currency_id=company.currency_id,
                    product_id=product,
                    product_uom_id=product.uom_id,
                    tax_ids=taxes,
                    partner_id=partner,
                    account_id=self._agency_fast_income_account(product, fiscal_position, context),
                    analytic_distribution=line["analytic_distribution"],
                    rate=1.0,
                    sign=-1,  # customer invoice: income is a credit
                    is_refund=False,
                    special_mode=False,
                    name=line.get("name"),
                )
            )
        for base_line in base_lines:
            # each line alone, as account.move.line._compute_totals does; the
            # same price, quantity, discount, product and taxes give the same totals
            key = (
                base_line["price_unit"],
                base_line["quantity"],
                base_line["discount"],
                base_line["product_id"].id,
                base_line["product_uom_id"].id,
                tuple(base_line["tax_ids"].ids),
            )
            if key not in context["line_totals"]:
                AccountTax._add_tax_details_in_base_line(base_line, company)
                AccountTax._round_base_lines_tax_details([base_line], company)
                details = base_line["tax_details"]
                context["line_totals"][key] = {
                    "price_subtotal": details["total_excluded_currency"],
                    "price_total": details["total_included_currency"],
                }
            base_line["record"].update(context["line_totals"][key])
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
        # the values Odoo would precompute one line at a time on a temporary
        # record, the same as its computations for an invoice in the company's
        # currency without storno accounting
        common = {"currency_id": company.currency_id.id, "partner_id": partner.id, "is_storno": False}
        for line in product_lines:
            line.update(common, sequence=PRODUCT_LINE_SEQUENCE)
        for line in tax_lines:
            line.update(
                common, sequence=TAX_LINE_SEQUENCE, quantity=0.0, price_unit=0.0, product_uom_id=False
            )
        vals["line_ids"] = [Command.create(line) for line in product_lines + tax_lines]
        return vals

    @api.model
    def _agency_estimate_totals(self, vals_list):
        """[(untaxed, total)] of the invoices ``vals_list`` would make, in their currency.

        Odoo's tax engine on the same values as the invoices (at the fields'
        precision, taxes as given), without creating anything: for previews
        and figures. When taxes are rounded per line (Odoo's default), an
        invoice's totals are the sums of its lines' subtotals and totals, each
        computed once per price, quantity, discount, taxes and currency. When
        taxes are rounded globally, the totals are computed once per invoice
        with the same lines in the same order (many clients have the same plan).

        An invoice with a cash rounding or an early-payment discount (from its
        values, a default or the client's payment term) is totalled as Odoo's
        own invoice form totals it before saving (``_agency_estimate_as_form``).
        """
        AccountTax = self.env["account.tax"]
        known = {}  # {line key or invoice key: (untaxed, total)}
        context = self._agency_estimate_context()

        def base_line(key):
            price_unit, quantity, discount, tax_ids, product_id, currency_id, _company_id = key
            return AccountTax._prepare_base_line_for_taxes_computation(
                None,
                price_unit=price_unit,
                quantity=quantity,
                discount=discount,
                currency_id=self.env["res.currency"].browse(currency_id),
                product_id=self.env["product.product"].browse(product_id),
                tax_ids=AccountTax.browse(tax_ids),
                rate=1.0,
                sign=1,
                special_mode=False,
            )

        stored = self._agency_line_rounder()
        results = []
        for vals in vals_list:
            if self._agency_estimate_needs_form(vals, context):
                results.append(self._agency_estimate_as_form(vals, context))
                continue
            company = self.env["res.company"].browse(vals["company_id"])
            currency = self.env["res.currency"].browse(vals["currency_id"])
            line_keys = []
            for command in vals.get("invoice_line_ids") or ():
                line = command[2]
                if line.get("display_type", "product") != "product":
                    continue
                values = stored(line)
                tax_ids = tuple(self._agency_command_ids(line.get("tax_ids")))
                line_keys.append((*values, tax_ids, line.get("product_id") or False, currency.id, company.id))
            if company.tax_calculation_rounding_method == "round_per_line":
                untaxed = total = 0.0
                for key in line_keys:
                    if key not in known:
                        line = base_line(key)
                        AccountTax._add_tax_details_in_base_line(line, company)
                        AccountTax._round_base_lines_tax_details([line], company)
                        details = line["tax_details"]
                        known[key] = (details["total_excluded_currency"], details["total_included_currency"])
                    untaxed, total = untaxed + known[key][0], total + known[key][1]
            else:
                invoice_key = ("invoice", *line_keys)
                if invoice_key not in known:
                    lines = [base_line(key) for key in line_keys]
                    AccountTax._add_tax_details_in_base_lines(lines, company)
                    AccountTax._round_base_lines_tax_details(lines, company)
                    summary = AccountTax._get_tax_totals_summary(lines, currency, company)
                    known[invoice_key] = (summary["base_amount_currency"], summary["total_amount_currency"])
                untaxed, total = known[invoice_key]
            results.append((currency.round(untaxed), currency.round(total)))
        return results

    @api.model
    def _agency_line_rounder(self):
        """A function giving [price_unit, quantity, discount] of an invoice line's values as the
        line's fields store them (``convert_to_cache``: float, then rounded to the field's digits);
        the fields' precisions are looked up once, each value rounded once (invoices repeat
        their prices)."""
        Line = self.env["account.move.line"]
        precisions = []
        for fname, default in (("price_unit", 0.0), ("quantity", 1.0), ("discount", 0.0)):
            digits = Line._fields[fname].get_digits(self.env)
            precisions.append((fname, default, digits[1] if digits else None))
        rounded = {}

        def stored(line):
            values = []
            for fname, default, precision in precisions:
                value = float(line.get(fname, default) or 0.0)
                if precision is not None:
                    key = (value, precision)
                    if key not in rounded:
                        rounded[key] = float_round(value, precision_digits=precision)
                    value = rounded[key]
                values.append(value)
            return values

        return stored

    @api.model
    def _agency_estimate_context(self):
        """What the estimates of one call share: the defaults an invoice would take, and
        whether any payment term has an early-payment discount."""
        defaults = self.default_get(["invoice_payment_term_id", "invoice_cash_rounding_id"])
        return {
            "defaults": {name: value for name, value in defaults.items() if value},
            "early_discounts": bool(
                self.env["account.payment.term"].sudo().search_count([("early_discount", "=", True)], limit=1)
            ),
        }

    @api.model
    def _agency_estimate_needs_form(self, vals, context):
        """Whether the invoice of ``vals`` has a cash rounding or an early-payment discount."""
        if vals.get("invoice_cash_rounding_id") or context["defaults"].get("invoice_cash_rounding_id"):
            return True
        if not context["early_discounts"]:
            return False
        term_id = vals.get("invoice_payment_term_id") or context["defaults"].get("invoice_payment_term_id")
        if term_id:
            term = self.env["account.payment.term"].browse(term_id)
        else:
            partner = self.env["res.partner"].browse(vals.get("partner_id"))
            company = self.env["res.company"].browse(vals["company_id"])
            term = partner.commercial_partner_id.with_company(company).property_payment_term_id
        return bool(term.early_discount)

    @api.model
    def _agency_estimate_as_form(self, vals, context):
        """(untaxed, total) of the invoice of ``vals`` as Odoo's invoice form shows it before
        saving: an unsaved record, whose tax summary anticipates the cash rounding and the
        early-payment discount lines."""
        move = self.new({"move_type": "out_invoice", **context["defaults"], **vals})
        totals = move.tax_totals
        untaxed = totals["base_amount_currency"] + totals.get("cash_rounding_base_amount_currency", 0.0)
        currency = move.currency_id
        return currency.round(untaxed), currency.round(totals["total_amount_currency"])

    # ------------------------------------------------------------------
    # INVOICE LAYOUT AND BRANDING
    # ------------------------------------------------------------------
    # The layout (Odoo's invoice report) and the client's branding an
    # invoice was posted with: a reprint, the email attachment and the
    # portal show the same document whatever the client's settings become.
    agency_branding_id = fields.Many2one(
        "agency.invoice.branding",
        string="Layout Used",
        copy=False,
        readonly=True,
        ondelete="restrict",
        help="The invoice layout and client branding this invoice was posted with.",
    )

    def button_draft(self):
        # back to draft, the document may change: posting it again takes the
        # client's settings of that moment, as Odoo makes its PDF again
        res = super().button_draft()
        self.filtered("agency_branding_id").agency_branding_id = False
        return res

    def _agency_snapshot_layout(self):
        """Keep on each customer invoice the layout and branding it is posted with."""
        invoices = self.filtered(
            lambda m: m.is_sale_document(include_receipts=True) and not m.agency_branding_id
        )
        if invoices:
            self.env["agency.invoice.branding"]._snapshot(invoices)

    def _agency_layout_values(self):
        """What the invoice layouts print for this invoice: the snapshot once
        posted, the client's current settings before."""
        self.ensure_one()
        Branding = self.env["agency.invoice.branding"]
        if self.agency_branding_id:
            return self.agency_branding_id._get_layout_values()
        return Branding._get_partner_layout_values(self.commercial_partner_id)

    def _agency_document_lang(self):
        """The language the invoice is printed in: the snapshot's, else the client's."""
        self.ensure_one()
        return (
            self.agency_branding_id.lang
            or self.commercial_partner_id.agency_document_lang
            or self.partner_id.lang
            or self.env.lang
        )

    def _agency_billing_period(self):
        """(first day, last day) of what the invoice bills: item periods and timesheet dates."""
        self.ensure_one()
        starts, ends = [], []
        for line in self.invoice_line_ids:
            if line.agency_period_start:
                starts.append(line.agency_period_start)
                ends.append(line.agency_period_end or line.agency_period_start)
            dates = line.agency_timesheet_billing_ids.analytic_line_id.mapped("date")
            if dates:
                starts.append(min(dates))
                ends.append(max(dates))
        return (min(starts), max(ends)) if starts else (False, False)

    def _agency_lines_by_project(self):
        """The invoice lines in blocks per project, projects by name, lines of
        no project last: [{name, lines, subtotal, total}]. A block's subtotal
        adds up its lines' own, as Odoo does for a section."""
        self.ensure_one()
        blocks = {}
        lines = self.invoice_line_ids.filtered(lambda line: line.display_type == "product")
        for line in lines.sorted(lambda line: (line.sequence, line.id)):
            project = line._agency_project()
            blocks[project] = blocks.get(project, self.env["account.move.line"]) | line
        ordered = sorted(blocks.items(), key=lambda kv: (not kv[0], kv[0].name or ""))
        return [
            {
                "name": project.name if project else False,
                "lines": block,
                "subtotal": self.currency_id.round(sum(block.mapped("price_subtotal"))),
                "total": self.currency_id.round(sum(block.mapped("price_total"))),
            }
            for project, block in ordered
        ]

    def _agency_time_appendix(self):
        """The timesheet entries billed on the invoice, by project and task:
        [{project, hours, tasks: [{task, hours, entries}]}]."""
        self.ensure_one()
        billed = self.invoice_line_ids.agency_timesheet_billing_ids.filtered(lambda b: not b.is_released)
        projects = {}
        for entry in billed.sorted(lambda b: (b.analytic_line_id.date, b.id)):
            timesheet = entry.analytic_line_id
            tasks = projects.setdefault(timesheet.project_id, {})
            tasks.setdefault(timesheet.task_id, []).append(entry)
        appendix = []
        for project, tasks in sorted(projects.items(), key=lambda kv: kv[0].name or ""):
            task_blocks = [
                {"task": task, "entries": entries, "hours": round(sum(e.quantity for e in entries), 2)}
                for task, entries in sorted(tasks.items(), key=lambda kv: (not kv[0], kv[0].name or ""))
            ]
            appendix.append(
                {
                    "project": project,
                    "tasks": task_blocks,
                    "hours": round(sum(block["hours"] for block in task_blocks), 2),
                }
            )
        return appendix

    def _get_invoice_pdf_proforma(self):
        # Odoo's pro forma (the portal download before the invoice was sent)
        # is printed with Odoo's layout: with the invoice's own instead
        report = self.env["account.move.send"]._get_default_pdf_report_id(self)
        if report.report_name == "account.report_invoice_with_payments":
            return super()._get_invoice_pdf_proforma()
        content, report_type = self.env["ir.actions.report"]._pre_render_qweb_pdf(
            report.report_name, self.ids, data={"proforma": True}
        )
        content_by_id = self.env["ir.actions.report"]._get_splitted_report(
            report.report_name, content, report_type
        )
        return {
            "filename": self._get_invoice_proforma_pdf_report_filename(),
            "filetype": "pdf",
            "content": content_by_id[self.id],
        }

    # ------------------------------------------------------------------
    # SENDING: what the billing run's "post and send" asks Odoo
    # ------------------------------------------------------------------
    def _agency_get_sending_data(self, author):
        """The sending of this invoice, decided when it is queued: Odoo's own
        picks for the client (sending method, e-invoice format) and the
        invoice's layout. Odoo's sending cron follows it (see account.move.send)."""
        self.ensure_one()
        Send = self.env["account.move.send"]
        methods = Send._get_default_sending_methods(self)
        return {
            "author_user_id": author.id,
            "author_partner_id": author.partner_id.id,
            "sending_methods": sorted(methods),
            "invoice_edi_format": Send._get_default_invoice_edi_format(self, sending_methods=methods)
            or False,
            "pdf_report_id": Send._get_default_pdf_report_id(self).id,
            "agency_billing": True,
        }

    def _agency_queue_sending(self, author):
        """Queue these posted invoices for Odoo's sending cron, each the client's way."""
        no_email = self.browse()
        groups = {}  # one write per distinct decision: clients mostly share one
        for move in self:
            data = move._agency_get_sending_data(author)
            key = json.dumps(data, sort_keys=True)
            groups.setdefault(key, (data, []))[1].append(move.id)
            if "email" in data["sending_methods"] and not move.partner_id.email:
                no_email |= move
        for data, move_ids in groups.values():
            self.browse(move_ids).sending_data = data
        for move in no_email:
            move.message_post(
                body=self.env._(
                    "This invoice will not be emailed: %(contact)s has no email address. "
                    "Its PDF is made all the same.",
                    contact=move.partner_id.display_name,
                ),
                subtype_xmlid="mail.mt_note",
            )
        cron = self.env.ref("account.ir_cron_account_move_send", raise_if_not_found=False)
        if cron and self:
            cron.sudo()._trigger()

    # ------------------------------------------------------------------
    # PAYMENTS: CREDIT, REFUNDS AND AUTOMATIC CHARGING
    # ------------------------------------------------------------------
    agency_charge_date = fields.Date(
        string="Automatic Charge On",
        copy=False,
        readonly=True,
        index="btree_not_null",
        help="When the client's saved payment method is charged for what is left to pay.",
    )
    agency_payment_attempt_ids = fields.One2many(
        "agency.payment.attempt", "move_id", string="Charge Attempts", readonly=True
    )
    agency_payment_attempt_count = fields.Integer(compute="_compute_agency_payment_attempt_count")
    agency_can_charge = fields.Boolean(compute="_compute_agency_can_charge")
    agency_refunded_invoice_id = fields.Many2one(
        "account.move",
        string="Refund Of",
        copy=False,
        readonly=True,
        index="btree_not_null",
        help="On a credit note made by a refund: the invoice whose payment it refunds.",
    )
    agency_refund_credit_note_ids = fields.One2many(
        "account.move", "agency_refunded_invoice_id", string="Refunds", readonly=True
    )
    agency_refundable_amount = fields.Monetary(
        string="Refundable",
        compute="_compute_agency_refundable_amount",
        currency_field="currency_id",
        help="What was paid on this invoice and not refunded or credited yet.",
    )

    @api.depends("agency_payment_attempt_ids")
    def _compute_agency_payment_attempt_count(self):
        for move in self:
            move.agency_payment_attempt_count = len(move.agency_payment_attempt_ids)

    @api.depends("state", "move_type", "payment_state", "commercial_partner_id")
    def _compute_agency_can_charge(self):
        for move in self:
            client = move.commercial_partner_id.with_company(move.company_id)
            move.agency_can_charge = bool(
                move.state == "posted"
                and move.move_type == "out_invoice"
                and move.payment_state in ("not_paid", "partial")
                and client.agency_autopay
                and client.sudo().agency_autopay_token_id.active
            )

    @api.depends(
        "amount_total",
        "amount_residual",
        "state",
        "move_type",
        "reversal_move_ids.state",
        "reversal_move_ids.amount_total",
        "agency_refund_credit_note_ids.state",
        "agency_refund_credit_note_ids.amount_total",
    )
    def _compute_agency_refundable_amount(self):
        # Settled on the invoice (payments, applied credit), less what credit
        # notes of this invoice already gave back; both read from Odoo.
        for move in self:
            if move.move_type != "out_invoice" or move.state != "posted":
                move.agency_refundable_amount = 0.0
                continue
            credited = sum(
                (move.reversal_move_ids | move.agency_refund_credit_note_ids)
                .filtered(lambda m: m.move_type == "out_refund" and m.state == "posted")
                .mapped("amount_total")
            )
            settled = move.amount_total - move.amount_residual
            move.agency_refundable_amount = max(move.currency_id.round(settled - credited), 0.0)

    def _compute_payment_state(self):
        # Odoo calls an invoice settled only by credit notes "reversed"; one
        # paid with the client's credit (a credit note of another invoice,
        # applied to it) is paid, as the client and the accountant see it.
        res = super()._compute_payment_state()
        for invoice in self.filtered(
            lambda m: m.payment_state == "reversed" and m.move_type in ("out_invoice", "out_receipt")
        ):
            credit_moves = invoice.line_ids.matched_credit_ids.credit_move_id.move_id
            if credit_moves and invoice not in credit_moves.reversed_entry_id:
                invoice.payment_state = "paid"
        return res

    def _post(self, soft=True):
        posted = super()._post(soft=soft)
        # the layout and branding each invoice is posted with (its document from now on)
        posted._agency_snapshot_layout()
        invoices = posted.filtered(lambda move: move.move_type == "out_invoice")
        if invoices:
            # the billing run posts without Odoo's invoice synchronisation;
            # reconciling and charging go through Odoo's ordinary way
            invoices = invoices.with_context(
                skip_invoice_sync=False, skip_invoice_line_sync=False, check_move_validity=True
            )
            invoices._agency_apply_outstanding_credit()
            invoices._agency_schedule_automatic_charge()
        return posted

    def _agency_apply_outstanding_credit(self):
        """Use the clients' open credit on these new invoices, oldest credit first.

        Credit is any open credit on the client's receivable account in the
        invoice's currency: a credit note, an overpayment, a prepayment. It is
        reconciled with the invoice as Odoo's "Outstanding credits" widget
        does, one credit after the other, until the invoice is paid.
        """
        invoices = self.filtered(
            lambda m: (
                m.commercial_partner_id.with_company(m.company_id)._agency_applies_credit_automatically()
                and not m.currency_id.is_zero(m.amount_residual)
            )
        )
        if not invoices:
            return
        receivable = invoices.line_ids.filtered(
            lambda line: line.account_id.account_type == "asset_receivable" and not line.reconciled
        )
        credit_lines = self.env["account.move.line"].search(
            [
                ("account_id", "in", receivable.account_id.ids),
                ("partner_id", "in", invoices.commercial_partner_id.ids),
                ("company_id", "in", invoices.company_id.ids),
                ("parent_state", "=", "posted"),
                ("reconciled", "=", False),
                ("balance", "<", 0.0),
                ("move_id", "not in", invoices.ids),
            ],
            order="date, id",
        )
        if not credit_lines:
            return
        by_client = defaultdict(list)
        for line in credit_lines:
            by_client[line.partner_id, line.company_id, line.account_id, line.currency_id].append(line)
        for invoice in invoices.sorted(lambda m: (m.invoice_date or m.date, m.id)):
            open_lines = invoice.line_ids.filtered(
                lambda line: line.account_id.account_type == "asset_receivable" and not line.reconciled
            )
            key = (
                invoice.commercial_partner_id,
                invoice.company_id,
                open_lines.account_id[:1],
                invoice.currency_id,
            )
            open_credit = by_client.get(key)
            if not open_credit or invoice.currency_id.is_zero(invoice.amount_residual):
                continue
            try:
                with self.env.cr.savepoint():
                    applied = invoice._agency_reconcile_credit(open_credit)
            except Exception as error:  # the invoice is posted all the same; credit stays open
                _logger.warning("open credit not applied to %s", invoice.name, exc_info=True)
                invoice.message_post(
                    body=self.env._(
                        "The client's open credit could not be applied automatically (%(error)s): apply it "
                        "from Outstanding credits below the totals.",
                        error=error,
                    ),
                    subtype_xmlid="mail.mt_note",
                )
                continue
            if applied:
                invoice.message_post(
                    body=self.env._(
                        "Credit applied automatically: %(credits)s.",
                        credits=", ".join(
                            f"{move.name} ({formatLang(self.env, amount, currency_obj=invoice.currency_id)})"
                            for move, amount in applied
                        ),
                    ),
                    subtype_xmlid="mail.mt_note",
                )

    def _agency_reconcile_credit(self, credit_lines):
        """Reconcile credit lines with this invoice one after the other, as
        Odoo's "Outstanding credits" widget does, until it is paid.
        Returns [(credit move, amount applied)]."""
        self.ensure_one()
        applied = []
        for credit in credit_lines:
            if self.currency_id.is_zero(self.amount_residual):
                break
            if credit.reconciled:
                continue
            before = self.amount_residual
            (
                credit
                + self.line_ids.filtered(
                    lambda line, c=credit: line.account_id == c.account_id and not line.reconciled
                )
            ).reconcile()
            applied.append((credit.move_id, before - self.amount_residual))
        return applied

    def _agency_schedule_automatic_charge(self):
        """Invoices of clients on automatic payment get the date their saved
        payment method is charged; the charging job does the rest."""
        by_date = defaultdict(list)
        for invoice in self:
            client = invoice.commercial_partner_id.with_company(invoice.company_id)
            if not client.agency_autopay or invoice.currency_id.is_zero(invoice.amount_residual):
                continue
            by_date[client._agency_charge_date_for(invoice)].append(invoice.id)
        if not by_date:
            return
        for charge_date, ids in by_date.items():
            self.browse(ids).write({"agency_charge_date": charge_date})
        today = fields.Date.context_today(self)
        if min(by_date) <= today:
            self.env.ref("agency_billing.ir_cron_charge_due_invoices").sudo()._trigger()

    def action_agency_refund(self):
        """Open the refund wizard on a paid (or partly paid) invoice."""
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Refund %(invoice)s", invoice=self.name),
            "res_model": "agency.refund.wizard",
            "view_mode": "form",
            "target": "new",
            "context": {"default_move_id": self.id},
        }

    def action_agency_charge_now(self):
        """Charge the client's saved payment method for this invoice now."""
        self.ensure_one()
        run = self.env["agency.payment.run"]._charge_now(self)
        attempt = run.attempt_ids[:1]
        ok = attempt.state in ("done", "pending")
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "type": "success" if ok else "danger",
                "title": dict(attempt._fields["state"]._description_selection(self.env)).get(attempt.state),
                "message": attempt.message or "",
                "sticky": not ok,
                "next": {"type": "ir.actions.client", "tag": "soft_reload"},
            },
        }

    def action_agency_view_payment_attempts(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("agency_billing.agency_payment_attempt_action")
        action["domain"] = [("move_id", "=", self.id)]
        action["context"] = {"create": False}
        return action

    def _agency_refundable_transactions(self):
        """The confirmed online payments of this invoice, newest first."""
        self.ensure_one()
        return (
            self.sudo()
            .transaction_ids.filtered(
                lambda tx: (
                    tx.state == "done" and tx.operation not in ("refund", "validation") and tx.payment_id
                )
            )
            .sorted("id", reverse=True)
        )

    # REMINDERS AND LATE FEES
    # ------------------------------------------------------------------
    agency_is_disputed = fields.Boolean(
        string="Disputed / On Hold",
        copy=False,
        tracking=True,
        help="The client disputes this invoice or it is on hold: no reminder and no late fee while set.",
    )
    agency_reminder_level_id = fields.Many2one(
        "agency.reminder.level",
        string="Reminder Level",
        copy=False,
        readonly=True,
        help="The last reminder level sent for this invoice.",
    )
    agency_reminder_date = fields.Date(string="Last Reminder", copy=False, readonly=True)
    agency_reminder_line_ids = fields.One2many(
        "agency.reminder.line", "move_id", string="Reminders Sent", readonly=True
    )
    agency_late_fee_item_ids = fields.One2many(
        "agency.billable.item", "overdue_move_id", string="Late Fees", readonly=True
    )
    agency_days_overdue = fields.Integer(string="Days Overdue", compute="_compute_agency_reminder_status")
    agency_next_reminder_level_id = fields.Many2one(
        "agency.reminder.level", string="Next Reminder", compute="_compute_agency_reminder_status"
    )
    agency_next_reminder_date = fields.Date(
        string="Next Reminder On", compute="_compute_agency_reminder_status"
    )

    @api.model
    def _agency_open_invoice_domain(self, with_refunds=False):
        """Posted customer invoices still owed (Odoo's "To pay", never in payment or blocked)."""
        move_types = dunning.REMINDED_MOVE_TYPES + (("out_refund",) if with_refunds else ())
        return (
            Domain("state", "=", "posted")
            & Domain("move_type", "in", move_types)
            & Domain("payment_state", "in", dunning.OPEN_PAYMENT_STATES)
        )

    @api.model
    def _agency_overdue_domain(self, today=None):
        today = today or fields.Date.context_today(self)
        return self._agency_open_invoice_domain() & Domain("invoice_date_due", "<", today)

    @api.model
    def _agency_remindable_domain(self):
        return self._agency_open_invoice_domain() & Domain("agency_is_disputed", "=", False)

    def _agency_is_remindable(self):
        self.ensure_one()
        return bool(
            self.state == "posted"
            and self.move_type in dunning.REMINDED_MOVE_TYPES
            and self.payment_state in dunning.OPEN_PAYMENT_STATES
            and not self.agency_is_disputed
        )

    @api.depends("invoice_date_due", "payment_state", "agency_reminder_level_id", "agency_is_disputed")
    @api.depends_context("company")
    def _compute_agency_reminder_status(self):
        today = fields.Date.context_today(self)
        Level = self.env["agency.reminder.level"]
        plans = {}
        for move in self:
            open_invoice = move._agency_is_remindable() or (
                move.agency_is_disputed and move.payment_state in dunning.OPEN_PAYMENT_STATES
            )
            move.agency_days_overdue = (
                (today - move.invoice_date_due).days
                if open_invoice and move.invoice_date_due and move.invoice_date_due < today
                else 0
            )
            move.agency_next_reminder_level_id = False
            move.agency_next_reminder_date = False
            if not move._agency_is_remindable() or not move.id:
                continue
            client = move.commercial_partner_id.with_company(move.company_id)
            key = (client.id, move.company_id.id)
            if key not in plans:
                plans[key] = client._agency_reminder_plans()[client.id]
            plan = plans[key]
            if not plan:
                continue
            levels = plan._get_levels()[plan.id]
            reached = move.agency_reminder_level_id.days if move.agency_reminder_level_id else None
            # what "send reminder now" would send, and when the daily run will
            level = dunning.next_level(levels, move.invoice_date_due, today, reached)
            if level:
                move.agency_next_reminder_level_id = Level.browse(level.id)
                move.agency_next_reminder_date = max(dunning.level_date(move.invoice_date_due, level), today)

    def _agency_check_reminder_now(self):
        """{(client, level): invoices} of "send reminder now", or a UserError saying what stops it."""
        groups = defaultdict(self.browse)
        for move in self:
            client = move.commercial_partner_id.with_company(move.company_id)
            if move.state != "posted" or move.move_type not in dunning.REMINDED_MOVE_TYPES:
                raise UserError(
                    self.env._(
                        "Only posted customer invoices get reminders: %(move)s.", move=move.display_name
                    )
                )
            if move.payment_state not in dunning.OPEN_PAYMENT_STATES:
                raise UserError(
                    self.env._(
                        "%(move)s is %(state)s: there is nothing to remind the client of.",
                        move=move.name,
                        state=dict(move._fields["payment_state"]._description_selection(self.env))[
                            move.payment_state
                        ].lower(),
                    )
                )
            if move.agency_is_disputed:
                raise UserError(
                    self.env._(
                        "%(move)s is disputed or on hold: clear “Disputed / On Hold” before reminding the client.",
                        move=move.name,
                    )
                )
            if client.agency_no_reminders:
                raise UserError(
                    self.env._(
                        "Reminders are switched off for %(client)s (Billing tab of the client).",
                        client=client.display_name,
                    )
                )
            plan = client._agency_reminder_plans()[client.id]
            if not plan or not plan.level_ids:
                raise UserError(
                    self.env._(
                        "No reminder plan applies to %(client)s: choose one in Settings > Billing, or on "
                        "the client's Billing tab.",
                        client=client.display_name,
                    )
                )
            reached = move.agency_reminder_level_id.days if move.agency_reminder_level_id else None
            level = dunning.next_level(
                plan._get_levels()[plan.id], move.invoice_date_due, fields.Date.context_today(self), reached
            )
            if not level:
                raise UserError(
                    self.env._(
                        "Every level of the plan “%(plan)s” has been sent for %(move)s.",
                        plan=plan.name,
                        move=move.name,
                    )
                )
            contact = client._agency_reminder_contact()
            if not contact.email:
                raise UserError(
                    self.env._(
                        "%(contact)s has no email address: add one, or choose who receives reminders on "
                        "the Billing tab of %(client)s.",
                        contact=contact.display_name,
                        client=client.display_name,
                    )
                )
            groups[(move.commercial_partner_id, self.env["agency.reminder.level"].browse(level.id))] |= move
        return dict(groups)

    def _agency_ensure_access_tokens(self):
        """Give the invoices without one the access token of their customer link.

        What portal.mixin's _portal_ensure_token does, for many invoices in one
        statement: it writes them one by one through account.move.write, whose
        checks and line synchronisation have nothing to do with a token and
        cost several queries an invoice.
        """
        missing = self.filtered(lambda move: not move.access_token)
        if not missing:
            return
        self.flush_recordset(["access_token"])
        values = SQL(", ").join(SQL("(%s, %s)", move.id, str(uuid.uuid4())) for move in missing)
        self.env.cr.execute(
            SQL(
                "UPDATE account_move AS move SET access_token = token.value FROM (VALUES %s) AS token(id, value) "
                "WHERE move.id = token.id AND move.access_token IS NULL",
                values,
            )
        )
        missing.invalidate_recordset(["access_token"])

    def action_agency_send_reminder(self):
        """ "Send reminder now": the next level of each selected invoice, grouped per client."""
        return self.env["agency.reminder.run"]._send_now(self)

    def action_agency_toggle_disputed(self):
        for move in self:
            move.agency_is_disputed = not move.agency_is_disputed

    def action_agency_view_reminders(self):
        action = self.env["ir.actions.act_window"]._for_xml_id("agency_billing.agency_reminder_action")
        action["domain"] = [("line_ids.move_id", "in", self.ids)]
        action["context"] = {}
        return action

    def _invoice_paid_hook(self):
        res = super()._invoice_paid_hook()
        self._agency_drop_unbilled_late_fees()
        return res

    def button_cancel(self):
        res = super().button_cancel()
        self._agency_drop_unbilled_late_fees()
        return res

    @api.model
    def _agency_drop_unbilled_late_fees(self, company=None):
        """Stop the late fees not billed yet of cancelled invoices, and of paid
        ones in companies that say so.

        Called when invoices are paid or cancelled (on ``self``) and by the
        daily reminder run (for ``company``), which catches payments made any
        other way; the reminder run is scheduled before the billing run.
        """
        paid = Domain("overdue_move_id.payment_state", "in", ("paid", "in_payment", "reversed")) & Domain(
            "company_id.agency_late_fee_cancel_if_paid", "=", True
        )
        domain = (
            Domain("source", "=", "late_fee")
            & Domain("state", "=", const.STATE_PENDING)
            & (paid | Domain("overdue_move_id.state", "=", "cancel"))
        )
        if self:
            domain &= Domain("overdue_move_id", "in", self.ids)
        elif company:
            domain &= Domain("company_id", "=", company.id)
        else:
            return
        Item = self.env["agency.billable.item"].sudo()
        fees = Item.search(domain).filtered(lambda item: not item.billed_count)
        if not fees:
            return
        fees.write({"state": const.STATE_STOPPED})
        for fee in fees:
            invoice = fee.overdue_move_id
            if invoice.state == "cancel":
                body = self.env._("Not billed: %(invoice)s was cancelled.", invoice=invoice.name)
            else:
                body = self.env._(
                    "Not billed: %(invoice)s was paid before the fee was invoiced.", invoice=invoice.name
                )
            fee.message_post(body=body)
