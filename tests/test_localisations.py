"""Invoices of companies on real localisations, made both ways and compared.

Runs on a database of its own with Odoo's Swiss, Belgian, German, French,
Indian and US localisations installed (`make test` prepares it). A company
per chart of accounts bills generated invoices with that chart's own sales
taxes, fiscal positions and accounts; each invoice is made by the run's
creation and by Odoo's ordinary one, and compared field by field. Nothing
is committed.
"""

import os
from collections import Counter
from datetime import date

import pytest
from hypothesis import given, settings

from odoo import SUPERUSER_ID, Command, api
from odoo.modules.registry import Registry

from .invoices import EXAMPLES, HYPOTHESIS_SETTINGS, assert_same_invoices, invoice_specs, make_both_ways
from .scratch import production_mode

# chart of accounts, country, currency of the company
CHARTS = [
    ("ch", "CH", "CHF"),
    ("be_comp", "BE", "EUR"),
    ("de_skr03", "DE", "EUR"),
    ("fr", "FR", "EUR"),
    ("in", "IN", "INR"),
    ("generic_coa", "US", "USD"),
]
RUN_DATE = date(2027, 3, 10)
# each chart gets its share of the examples (at least 15)
CHART_EXAMPLES = max(15, EXAMPLES // 8)


@pytest.fixture(scope="module")
def l10n_env():
    dbname = os.environ.get("AGENCY_BILLING_L10N_DB")
    if not dbname:
        pytest.fail("AGENCY_BILLING_L10N_DB is not set: run the suite with `make test`.")
    with production_mode():  # loads the registry as a server does (no test of its own)
        registry = Registry(dbname)
    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        yield env
        cr.rollback()


def make_company(env, chart, country_code, currency_code):
    currency = env["res.currency"].with_context(active_test=False).search([("name", "=", currency_code)])
    currency.active = True
    company = env["res.company"].create(
        {
            "name": f"Agency {country_code}",
            "country_id": env["res.country"].search([("code", "=", country_code)]).id,
            "currency_id": currency.id,
        }
    )
    env.user.company_ids = [Command.link(company.id)]
    env["account.chart.template"].try_loading(chart, company=company, install_demo=False)
    return company


def make_pools(env, company):
    env = env(context={"allowed_company_ids": [company.id]})
    Tax = env["account.tax"]
    taxes = Tax.with_context(active_test=False).search(
        [("company_id", "=", company.id), ("type_tax_use", "=", "sale")], order="sequence, id", limit=8
    )
    taxes.active = True
    assert taxes, f"the chart of {company.name} has no sales tax"
    products = env["product.product"].create(
        [
            {
                "name": "Hosting",
                "type": "service",
                "list_price": 50.0,
                "taxes_id": [Command.set(taxes[:1].ids)],
            },
            {
                "name": "Design",
                "type": "service",
                "list_price": 95.0,
                "taxes_id": [Command.set(taxes[:1].ids)],
            },
        ]
    )
    client = env["res.partner"].create(
        {"name": "Client", "is_company": True, "country_id": company.country_id.id, "customer_rank": 1}
    )
    abroad = env["res.partner"].create(
        {
            "name": "Client abroad",
            "is_company": True,
            "country_id": env["res.country"].search([("code", "=", "JP")]).id,
        }
    )
    contact = env["res.partner"].create({"name": "Accounts", "type": "invoice", "parent_id": client.id})
    fiscal_positions = env["account.fiscal.position"].search([("company_id", "=", company.id)], limit=2)
    term_epd = env["account.payment.term"].create(
        {
            "name": "2/10 net 30",
            "company_id": company.id,
            "early_discount": True,
            "discount_percentage": 2.0,
            "discount_days": 10,
            "line_ids": [Command.create({"value": "percent", "value_amount": 100.0, "nb_days": 30})],
        }
    )
    foreign = (
        env["res.currency"]
        .with_context(active_test=False)
        .search([("name", "=", "USD" if company.currency_id.name != "USD" else "EUR")])
    )
    foreign.active = True
    env["res.currency.rate"].create(
        {"currency_id": foreign.id, "company_id": company.id, "rate": 1.1, "name": "2027-01-01"}
    )
    records = {
        "company": company,
        "date": RUN_DATE,
        "product_records": list(products),
        "tax_records": list(taxes),
        "partner_records": [client, contact, abroad],
        "fiscal_position_records": list(fiscal_positions),
        "payment_term_records": [env.ref("account.account_payment_term_30days"), term_epd],
        "cash_rounding": env["account.cash.rounding"].create(
            {"name": "0.05", "rounding": 0.05, "strategy": "biggest_tax", "rounding_method": "HALF-UP"}
        ),
        "foreign_currency": foreign,
    }
    sizes = {
        "taxes": len(taxes),
        "products": len(products),
        "partners": 3,
        "fiscal_positions": len(fiscal_positions),
        "payment_terms": 2,
    }
    return env, records, sizes


@pytest.mark.parametrize(("chart", "country_code", "currency_code"), CHARTS, ids=[c[1] for c in CHARTS])
def test_localised_invoices_equal_odoo(l10n_env, chart, country_code, currency_code):
    env = l10n_env
    savepoint = env.cr.savepoint()
    try:
        company = make_company(env, chart, country_code, currency_code)
        env, records, sizes = make_pools(env, company)
        refusal = env["account.move"]._agency_fast_company_refusal(company)
        if country_code == "IN":
            # l10n_in adds its own step (the GST section) to Odoo's line synchronisation
            assert refusal == "a module adds its own line synchronisation"
        else:
            assert refusal is None, refusal
        ways = Counter()

        @settings(HYPOTHESIS_SETTINGS, max_examples=CHART_EXAMPLES)
        @given(spec=invoice_specs(sizes))
        def check(spec):
            example = env.cr.savepoint()
            try:
                ours, fast, reference, errors = make_both_ways(env, spec, records)
                ways["fast" if fast else "ordinary"] += 1
                assert_same_invoices(ours, reference, errors)
            finally:
                example.close(rollback=True)
                env.invalidate_all()
                env.registry.clear_cache()

        check()
        if country_code != "IN":
            assert ways["fast"] >= CHART_EXAMPLES // 5, ways
    finally:
        savepoint.close(rollback=True)
        env.invalidate_all()
