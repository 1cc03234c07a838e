{
    "name": "Agency Billing",
    "version": "19.0.2.0.0",
    "summary": "Client billing for agencies: billable items, recurring charges and "
    "time billing, invoiced once by a daily billing run",
    "category": "Accounting/Accounting",
    "author": "agency_billing developers",
    "website": "https://github.com/agency-billing/agency_billing",
    "license": "LGPL-3",
    "post_init_hook": "_post_init_hook",
    "application": True,
    "depends": [
        "account",
        "sale_management",
        "hr_timesheet",
        # time sold through a sales order is Odoo's to invoice: this addon must see it
        "sale_timesheet",
        "portal",
        "account_payment",
    ],
    "data": [
        "security/agency_billing_security.xml",
        "security/ir.model.access.csv",
        "data/agency_billing_data.xml",
        "views/agency_billable_item_views.xml",
        "views/agency_billing_run_views.xml",
        "views/agency_rate_views.xml",
        "views/account_analytic_line_views.xml",
        "views/res_config_settings_views.xml",
        "views/res_partner_views.xml",
        "views/agency_billing_portal_templates.xml",
        "views/agency_billing_menus.xml",
        # invoice layouts and statements
        "security/agency_statement_security.xml",
        "data/agency_statement_data.xml",
        "report/agency_document_layout.xml",
        "report/agency_invoice_templates.xml",
        "report/agency_statement_templates.xml",
        "report/agency_reports.xml",
        "wizards/agency_statement_wizard_views.xml",
        "views/agency_statement_views.xml",
        "views/account_move_layout_views.xml",
        "views/res_partner_layout_views.xml",
        "views/agency_statement_portal_templates.xml",
    ],
    "demo": [
        "demo/agency_billing_demo.xml",
        "demo/agency_billing_demo_layouts.xml",
    ],
    "assets": {
        "web.assets_backend": [
            "agency_billing/static/src/js/*.js",
        ],
        "web.assets_tests": [
            "agency_billing/static/tests/tours/*.js",
        ],
    },
}
