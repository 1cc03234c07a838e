"""Installing from the Apps menu, and uninstalling, on a real database.

Module operations commit and reload the registry, so they run on a database
of their own (a copy of one that has only the addon's dependencies, made by
`make test`), never inside a test transaction.
"""

import os
import threading
from contextlib import contextmanager
from datetime import timedelta
from unittest import mock

import pytest

import odoo
from odoo import SUPERUSER_ID, api, fields
from odoo.modules.registry import Registry

ADDON = "agency_billing"


@contextmanager
def _deps_env():
    dbname = os.environ.get("AGENCY_BILLING_DEPS_DB")
    if not dbname:
        pytest.fail(
            "AGENCY_BILLING_DEPS_DB is not set: run the suite with `make test`, "
            "which prepares a database with only the addon's dependencies."
        )
    # Outside a test case: the install must behave as in production.
    thread = threading.current_thread()
    testing = getattr(thread, "testing", False)
    thread.testing = False
    try:
        with mock.patch.dict(odoo.tools.config.options, {"test_enable": False}):
            registry = Registry(dbname)
            with registry.cursor() as cr:
                yield api.Environment(cr, SUPERUSER_ID, {})
    finally:
        thread.testing = testing
        Registry.delete(dbname)


def test_install_from_apps_then_uninstall_keeps_invoices():
    with _deps_env() as deps_env:
        Module = deps_env["ir.module.module"]
        Module.update_list()
        module = Module.search([("name", "=", ADDON)])
        assert module, "the addon is not listed in Apps"
        assert module.state == "uninstalled"
        assert module.application, "the addon must show as an application in Apps"
        assert module.icon == f"/{ADDON}/static/description/icon.png"
        assert "Agency Billing" in (module.description_html or "")

        # a database that already has timesheets: time from before the addon
        old_client = deps_env["res.partner"].create({"name": "Old Client", "is_company": True})
        old_project = deps_env["project.project"].create({"name": "Old site", "partner_id": old_client.id})
        employee = deps_env["hr.employee"].create({"name": "Old Hand"})
        old_time = deps_env["account.analytic.line"].create(
            {
                "name": "Before us",
                "project_id": old_project.id,
                "employee_id": employee.id,
                "unit_amount": 5.0,
                "date": fields.Date.today() - timedelta(days=3),
            }
        )
        deps_env.cr.commit()

        module.button_immediate_install()
        deps_env.invalidate_all()
        assert module.state == "installed"
        env = deps_env(context={})  # the registry was reloaded
        # time logged before the addon existed is never billed by surprise
        company = env.ref("base.main_company")
        assert company.agency_time_bill_from == fields.Date.context_today(env["res.users"].browse(env.uid))
        assert env["account.analytic.line"].browse(old_time.id).agency_billing_state == "before_start"
        menu = env.ref(f"{ADDON}.menu_agency_billing_root")
        assert menu.name == "Billing"
        manager = env.ref(f"{ADDON}.group_agency_billing_manager")
        assert env.ref(f"{ADDON}.group_agency_billing_user") in manager.all_implied_ids
        assert env.ref("base.user_admin") in manager.all_user_ids

        # Accounting data made while the addon is installed.
        client = env["res.partner"].create(
            {"name": "Uninstall Client", "customer_rank": 1, "billing_automation": "draft"}
        )
        invoice = env["account.move"].create(
            {
                "move_type": "out_invoice",
                "partner_id": client.id,
                "invoice_line_ids": [(0, 0, {"name": "Hosting", "quantity": 2, "price_unit": 60.0})],
            }
        )
        invoice.action_post()
        name, total = invoice.name, invoice.amount_total
        env.cr.commit()

        module.button_immediate_uninstall()
        env = deps_env(context={})
        env.invalidate_all()
        assert env["ir.module.module"].search([("name", "=", ADDON)]).state == "uninstalled"
        assert "billing_automation" not in env["res.partner"]._fields
        kept = env["account.move"].search([("name", "=", name)])
        assert kept.state == "posted"
        assert kept.partner_id.name == "Uninstall Client"
        assert kept.amount_total == total
        assert kept.invoice_line_ids.mapped("price_unit") == [60.0]
        assert not env.ref(f"{ADDON}.menu_agency_billing_root", raise_if_not_found=False)
