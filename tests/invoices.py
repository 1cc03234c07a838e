"""Generated invoices, made both ways and compared: the one-go way and Odoo's.

`invoice_specs()` is a hypothesis strategy of invoice *specs*: plain data that
index into pools of records (products, taxes, partners, payment terms, …), so
that the same spec can be made in any company. `make_both_ways()` creates an
invoice from a spec with the billing run's `_agency_create_invoices` (one go
where it can) and with Odoo's ordinary `account.move.create`, posts both when
asked, and returns them; `journal_items()` and `invoice_totals()` are what
`assert_same_invoices()` compares.
"""

import copy
import os
from decimal import Decimal

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from odoo import Command
from odoo.exceptions import UserError, ValidationError

# `make test` runs a few hundred generated invoices; AGENCY_BILLING_EXAMPLES=5000
# runs thousands, AGENCY_BILLING_RANDOM=1 new ones each time (else the same).
EXAMPLES = int(os.environ.get("AGENCY_BILLING_EXAMPLES", "200"))
HYPOTHESIS_SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=not os.environ.get("AGENCY_BILLING_RANDOM"),
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    print_blob=True,
)


def _decimal(low, high, places):
    return st.decimals(
        min_value=low, max_value=high, places=places, allow_nan=False, allow_infinity=False
    ).map(float)


@st.composite
def line_specs(draw, taxes_in_pool, products_in_pool, allow_discount=True):
    negative = draw(st.booleans()) if draw(st.integers(0, 9)) == 0 else False
    quantity = draw(
        st.one_of(
            st.sampled_from([1.0, 2.0, 0.5, 1.333333, 10.0]),
            _decimal(Decimal("0.000001"), Decimal("40"), 6),
        )
    )
    price = draw(
        st.one_of(
            st.sampled_from([90.0, 49.99, 0.01, 121.0, 33.33, 1000.0]),
            _decimal(Decimal("0"), Decimal("2500"), draw(st.integers(0, 4))),
        )
    )
    tax_count = draw(st.integers(0, min(2, taxes_in_pool)))
    taxes = draw(
        st.lists(st.integers(0, taxes_in_pool - 1), min_size=tax_count, max_size=tax_count, unique=True)
    )
    discount = 0.0
    if allow_discount and draw(st.integers(0, 39)) == 0:
        discount = draw(_decimal(Decimal("0"), Decimal("100"), 2))
    return {
        "analytic": draw(st.integers(0, 3)) == 0,
        "product": draw(st.integers(0, products_in_pool - 1)),
        "quantity": -quantity if negative else quantity,
        "price_unit": price,
        "discount": discount,
        "taxes": taxes,
        "name": draw(st.sampled_from(["Hosting", "Design — March", "Support 1:20 h", "Émail ✓"])),
    }


@st.composite
def invoice_specs(draw, pools, allow_discount=True, allow_cash_rounding=True, allow_foreign_currency=True):
    """An invoice: 1 to 15 lines, and the invoice-level choices, as indexes into ``pools`` sizes."""
    return {
        "lines": draw(
            st.lists(
                line_specs(pools["taxes"], pools["products"], allow_discount=allow_discount),
                min_size=1,
                max_size=15,
            )
        ),
        "partner": draw(st.integers(0, pools["partners"] - 1)),
        "fiscal_position": draw(st.integers(0, pools["fiscal_positions"])),  # 0: none
        "payment_term": draw(st.integers(0, pools["payment_terms"])),  # 0: the partner's
        "term_from_default": draw(st.booleans()),
        # 1: in the values, 2: from a default
        "cash_rounding": draw(st.sampled_from([0] * 8 + [1, 2])) if allow_cash_rounding else 0,
        "foreign_currency": draw(st.integers(0, 7)) == 0 if allow_foreign_currency else False,
        "post": draw(st.integers(0, 3)) > 0,
    }


def invoice_values(env, spec, pools):
    """The values the billing run would hand to invoice creation for ``spec``."""
    company = pools["company"]
    Journal = env["account.journal"]
    journal = Journal.search([*Journal._check_company_domain(company), ("type", "=", "sale")], limit=1)
    partner = pools["partner_records"][spec["partner"]]
    fiscal_position = (
        pools["fiscal_position_records"][spec["fiscal_position"] - 1]
        if spec["fiscal_position"]
        else env["account.fiscal.position"]
    )
    lines = []
    for line in spec["lines"]:
        product = pools["product_records"][line["product"]]
        taxes = env["account.tax"].concat(*(pools["tax_records"][index] for index in line["taxes"]))
        if fiscal_position:
            taxes = fiscal_position.map_tax(taxes)
        lines.append(
            Command.create(
                {
                    "name": line["name"],
                    "product_id": product.id,
                    "product_uom_id": product.uom_id.id,
                    "quantity": line["quantity"],
                    "price_unit": line["price_unit"],
                    "tax_ids": [Command.set(taxes.ids)],
                    **({"discount": line["discount"]} if line["discount"] else {}),
                    **(
                        {"analytic_distribution": {str(pools["analytic_account"].id): 100}}
                        if line["analytic"] and pools.get("analytic_account")
                        else {}
                    ),
                }
            )
        )
    vals = {
        "move_type": "out_invoice",
        "partner_id": partner.id,
        "company_id": company.id,
        "currency_id": (pools["foreign_currency"] if spec["foreign_currency"] else company.currency_id).id,
        "journal_id": journal.id,
        "fiscal_position_id": fiscal_position.id,
        "invoice_date": pools["date"],
        "invoice_origin": "Generated",
        "invoice_line_ids": lines,
    }
    if spec["payment_term"] and not spec["term_from_default"]:
        vals["invoice_payment_term_id"] = pools["payment_term_records"][spec["payment_term"] - 1].id
    if spec["cash_rounding"] == 1:
        vals["invoice_cash_rounding_id"] = pools["cash_rounding"].id
    return vals


def set_defaults(env, spec, pools):
    """The spec's choices that come from defaults (ir.default) rather than the values."""
    company = pools["company"]
    if spec["payment_term"] and spec["term_from_default"]:
        term = pools["payment_term_records"][spec["payment_term"] - 1]
        env["ir.default"].set("account.move", "invoice_payment_term_id", term.id, company_id=company.id)
    if spec["cash_rounding"] == 2:
        env["ir.default"].set(
            "account.move", "invoice_cash_rounding_id", pools["cash_rounding"].id, company_id=company.id
        )


def _refused(env, step):
    """The message of the error Odoo refuses ``step()`` with, or None; nothing of it is kept."""
    try:
        with env.cr.savepoint():
            step()
    except (UserError, ValidationError) as error:
        env.invalidate_all()
        return f"{type(error).__name__}: {error}"
    return None


def make_both_ways(env, spec, pools):
    """(ours, fast, reference, errors): the invoice made by the run's creation and by Odoo's.

    Each is created from a copy of the same values, then posted when the spec
    says so (ours with the run's ``_agency_post``); a posting refused by Odoo
    (e.g. a negative total) must be refused both ways with the same message.
    """
    quiet = {"tracking_disable": True, "mail_create_nolog": True, "mail_notrack": True}
    Move = env["account.move"].with_company(pools["company"]).with_context(**quiet)
    set_defaults(env, spec, pools)
    vals = invoice_values(env, spec, pools)
    made = {}

    def create_ours():
        made["ours"], made["fast"] = Move._agency_create_invoices([copy.deepcopy(vals)])

    def create_reference():
        made["reference"] = Move.with_context(default_move_type="out_invoice").create(copy.deepcopy(vals))

    errors = (_refused(env, create_ours), _refused(env, create_reference))
    if spec["post"] and errors == (None, None):
        errors = (
            _refused(env, lambda: made["ours"]._agency_post(fast=made["fast"])),
            _refused(env, lambda: made["reference"]._post(soft=False)),
        )
    env.flush_all()
    env.invalidate_all()
    Move = env["account.move"]
    return made.get("ours", Move), made.get("fast", Move), made.get("reference", Move), errors


def _without_references(text, move):
    text = text or ""
    for reference, placeholder in ((move.payment_reference, "<reference>"), (move.name, "<number>")):
        if reference and reference != "/":
            text = text.replace(reference, placeholder)
    return text


def journal_items(move):
    """Every journal item of ``move``, as what could differ, sorted."""
    return sorted(
        (
            line.display_type,
            line.sequence,
            line.journal_id.id,
            line.company_id.id,
            line.account_id.id,
            line.partner_id.id,
            line.product_id.id,
            line.product_uom_id.id,
            line.quantity,
            line.price_unit,
            line.discount,
            line.is_storno,
            line.tax_group_id.id,
            line.currency_id.id,
            line.balance,
            line.debit,
            line.credit,
            line.amount_currency,
            line.amount_residual,
            line.amount_residual_currency,
            line.price_subtotal,
            line.price_total,
            line.tax_base_amount,
            str(line.date),
            str(line.date_maturity),
            str(line.discount_date),
            line.discount_balance,
            line.discount_amount_currency,
            # a receivable line is named after its invoice's number or payment
            # reference (e.g. Belgium's structured one, made from its id)
            _without_references(line.name, move),
            tuple(line.tax_ids.ids),
            tuple(line.tax_tag_ids.ids),
            line.tax_repartition_line_id.id,
            line.tax_line_id.id,
            str(line.analytic_distribution or {}),
            tuple(sorted((a.account_id.id, a.amount) for a in line.analytic_line_ids)),
        )
        for line in move.line_ids
    )


def invoice_totals(move):
    """The invoice's figures a client or an accountant reads."""
    tax_totals = dict(move.tax_totals or {})
    return {
        "amount_untaxed": move.amount_untaxed,
        "amount_tax": move.amount_tax,
        "amount_total": move.amount_total,
        "amount_residual": move.amount_residual,
        "amount_total_signed": move.amount_total_signed,
        "amount_untaxed_signed": move.amount_untaxed_signed,
        "invoice_date_due": str(move.invoice_date_due),
        "date": str(move.date),
        "state": move.state,
        "payment_state": move.payment_state,
        "partner": move.partner_id.id,
        "commercial_partner": move.commercial_partner_id.id,
        "journal": move.journal_id.id,
        "currency": move.currency_id.id,
        "fiscal_position": move.fiscal_position_id.id,
        "payment_term": move.invoice_payment_term_id.id,
        "cash_rounding": move.invoice_cash_rounding_id.id,
        "sequence_prefix": move.sequence_prefix,
        "tax_totals": tax_totals,
        "payment_term_details": move.payment_term_details,
    }


def assert_same_invoices(ours, reference, errors=(None, None)):
    assert errors[0] == errors[1], "refused one way only, or differently"
    if not ours and not reference:
        return  # Odoo refuses these values, both ways alike
    assert len(ours) == 1
    assert invoice_totals(ours) == invoice_totals(reference)
    assert journal_items(ours) == journal_items(reference)
