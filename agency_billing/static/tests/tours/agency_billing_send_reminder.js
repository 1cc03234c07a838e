import { registry } from "@web/core/registry";
import { stepUtils } from "@web_tour/tour_utils";

// Data comes from the Python test: "Acme Bakery" has an invoice 10 days overdue.
registry.category("web_tour.tours").add("agency_billing_send_reminder", {
    url: "/odoo",
    steps: () => [
        stepUtils.showAppsMenuItem(),
        {
            trigger: '.o_app[data-menu-xmlid="agency_billing.menu_agency_billing_root"]',
            run: "click",
        },
        {
            content: "Open Collections",
            trigger: '.o_main_navbar button[data-menu-xmlid="agency_billing.menu_agency_billing_collections"]',
            run: "click",
        },
        {
            content: "Open the overdue invoices",
            trigger: '.dropdown-item[data-menu-xmlid="agency_billing.menu_agency_billing_overdue"]',
            run: "click",
        },
        {
            content: "The invoice is listed with its days overdue and next reminder",
            trigger: ".o_data_row:contains(Acme Bakery):contains(First reminder) td[name=agency_days_overdue]:contains(10)",
        },
        {
            content: "Open it",
            trigger: ".o_data_row:contains(Acme Bakery) td[name=name]",
            run: "click",
        },
        {
            content: "Send the reminder",
            trigger: '.o_form_view .o_form_statusbar button[name="action_agency_send_reminder"]',
            run: "click",
        },
        {
            content: "Confirm",
            trigger: ".modal-footer button.btn-primary:contains(Ok)",
            run: "click",
        },
        {
            content: "Odoo says it was sent",
            trigger: ".o_notification:contains(Reminder sent):contains(accounts@acme-bakery.example.com)",
        },
        {
            content: "Open the invoice's reminders tab",
            trigger: '.o_form_view .o_notebook a[name="agency_reminders"]',
            run: "click",
        },
        {
            content: "The reminder sent is in the invoice's history",
            trigger: '.o_form_view div[name="agency_reminder_line_ids"] .o_data_row:contains(First reminder):contains(Acme Bakery)',
        },
    ],
});
