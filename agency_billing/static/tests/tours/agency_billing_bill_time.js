import { registry } from "@web/core/registry";
import { stepUtils } from "@web_tour/tour_utils";

// Data comes from the Python test: "Acme Bakery" has 2.5 unbilled hours on "Shop".
registry.category("web_tour.tours").add("agency_billing_bill_time", {
    url: "/odoo",
    steps: () => [
        stepUtils.showAppsMenuItem(),
        {
            trigger: '.o_app[data-menu-xmlid="agency_billing.menu_agency_billing_root"]',
            run: "click",
        },
        {
            trigger: '.o_main_navbar button[data-menu-xmlid="agency_billing.menu_agency_billing_time"]',
            run: "click",
        },
        {
            content: "Open the unbilled time",
            trigger: '.dropdown-item[data-menu-xmlid="agency_billing.menu_agency_billing_time_unbilled"]',
            run: "click",
        },
        {
            content: "The client's unbilled time is listed with its amount",
            trigger: ".o_group_header:contains(Acme Bakery):contains(250.00)",
        },
        {
            trigger: '.o_main_navbar button[data-menu-xmlid="agency_billing.menu_agency_billing_time"]',
            run: "click",
        },
        {
            content: "Open Bill Time",
            trigger: '.dropdown-item[data-menu-xmlid="agency_billing.menu_agency_billing_time_bill"]',
            run: "click",
        },
        {
            content: "Preview it",
            trigger: '.modal button[name="action_preview"]',
            run: "click",
        },
        {
            content: "The preview says what will be invoiced",
            trigger: ".modal .alert-primary:contains(1 invoice for 1 client)",
        },
        {
            content: "Bill it",
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
    ],
});
