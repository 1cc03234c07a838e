import { registry } from "@web/core/registry";
import { stepUtils } from "@web_tour/tour_utils";

// Data comes from the Python test: "Acme Bakery" has a due item "Web hosting".
registry.category("web_tour.tours").add("agency_billing_run_now", {
    url: "/odoo",
    steps: () => [
        stepUtils.showAppsMenuItem(),
        {
            trigger: '.o_app[data-menu-xmlid="agency_billing.menu_agency_billing_root"]',
            run: "click",
        },
        {
            trigger: '.o_main_navbar button[data-menu-xmlid="agency_billing.menu_agency_billing_runs"]',
            run: "click",
        },
        {
            content: "Open Run Billing Now",
            trigger: '.dropdown-item[data-menu-xmlid="agency_billing.menu_agency_billing_run_now"]',
            run: "click",
        },
        {
            content: "Preview what would be invoiced",
            trigger: '.modal button[name="action_preview"]',
            run: "click",
        },
        {
            content: "The preview lists the client with its amount",
            trigger: '.modal .o_data_row:contains(Acme Bakery):contains(50.00)',
        },
        {
            content: "Before anything happens, it says what will: how many invoices, for whom, the total, posted or not",
            trigger: ".modal .alert-primary:contains(Nothing is invoiced yet):contains(1 invoice for 1 client, $ 57.50 in all: 1 posted (0 of them emailed), 0 left in draft)",
        },
        {
            content: "Create the invoices",
            trigger: '.modal button[name="action_run"]',
            run: "click",
        },
        {
            content: "Confirm",
            trigger: '.modal-footer button.btn-primary:contains(Ok)',
            run: "click",
        },
        {
            content: "The run shows the invoice it made",
            trigger: '.o_form_view button[name="action_view_invoices"]:contains(1)',
        },
        {
            trigger: '.o_form_view .o_field_widget[name="state"] .o_arrow_button_current:contains(Done)',
        },
    ],
});
