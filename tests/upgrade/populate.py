"""Data made with the previous release, before the suite upgrades it (tests/test_upgrade.py).

Run by `odoo-bin shell` on a database where the previous release of the addon
is installed (tools/common.sh, ensure_upgrade_template), with that release's
code: only its API is used here.
"""

from datetime import date

from odoo import Command

env = env  # given by odoo-bin shell
company = env["res.company"].create({"name": "Upgrade Agency", "currency_id": env.ref("base.USD").id})
env.user.company_ids = [Command.link(company.id)]
env["account.chart.template"].try_loading("generic_coa", company=company, install_demo=False)
env = env(context={"allowed_company_ids": [company.id]})
company = env["res.company"].browse(company.id)
tax = company.account_sale_tax_id
hosting = env["product.product"].create(
    {"name": "Hosting", "type": "service", "list_price": 50.0, "taxes_id": [Command.set(tax.ids)]}
)
hour = env["product.product"].create(
    {
        "name": "Consulting hour",
        "type": "service",
        "list_price": 90.0,
        "uom_id": env.ref("uom.product_uom_hour").id,
    }
)
company.agency_time_product_id = hour
acme, birch = env["res.partner"].create(
    [
        {"name": "Upgrade Acme", "is_company": True, "customer_rank": 1},
        {"name": "Upgrade Birch", "is_company": True, "customer_rank": 1},
    ]
)
Item = env["agency.billable.item"]
Item.create(
    [
        {"name": "Setup", "partner_id": acme.id, "product_id": hosting.id, "price_unit": 400.0},
        {
            "name": "Hosting",
            "partner_id": acme.id,
            "product_id": hosting.id,
            "price_unit": 50.0,
            "invoice_action": "recurring",
            "date_start": date(2026, 1, 1),
        },
        {"name": "Later", "partner_id": acme.id, "product_id": hosting.id, "invoice_action": "hold"},
        {
            "name": "Birch hosting",
            "partner_id": birch.id,
            "product_id": hosting.id,
            "price_unit": 30.0,
            "invoice_action": "recurring",
            "date_start": date(2026, 1, 1),
        },
    ]
)
project = env["project.project"].create({"name": "Shop", "partner_id": acme.id})
employee = env["hr.employee"].create({"name": "Dana", "company_id": company.id})
AAL = env["account.analytic.line"]
AAL.create(
    {
        "name": "Checkout",
        "project_id": project.id,
        "employee_id": employee.id,
        "unit_amount": 2.0,
        "date": date(2026, 1, 5),
    }
)
Run = env["agency.billing.run"]
Run._run_now(company, date(2026, 2, 10))
AAL.create(
    {
        "name": "Cart",
        "project_id": project.id,
        "employee_id": employee.id,
        "unit_amount": 1.5,
        "date": date(2026, 2, 11),
    }
)
Run._run_now(company, date(2026, 2, 12), partners=acme, trigger="time", time_only=True)
# a cancelled invoice released Birch's periods
birch_invoice = env["account.move"].search([("commercial_partner_id", "=", birch.id)])
birch_invoice.button_draft()
birch_invoice.button_cancel()
env.cr.commit()
print("populated", company.id)
