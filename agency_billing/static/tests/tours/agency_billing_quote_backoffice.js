import { registry } from "@web/core/registry";
import { stepUtils } from "@web_tour/tour_utils";

// Data comes from the Python test: Acme Bakery's sent quote S-BO-1 (a
// website build of 5,000.00 + 15 %), nothing set to happen on acceptance.
registry.category("web_tour.tours").add("agency_billing_quote_backoffice", {
    url: "/odoo",
    steps: () => [
        stepUtils.showAppsMenuItem(),
        {
            trigger: '.o_app[data-menu-xmlid="agency_billing.menu_agency_billing_root"]',
            run: "click",
        },
        {
            trigger: '.o_main_navbar button[data-menu-xmlid="agency_billing.menu_agency_billing_quotes"]',
            run: "click",
        },
        {
            trigger: '.dropdown-item[data-menu-xmlid="agency_billing.menu_agency_billing_quote_list"]',
            run: "click",
        },
        {
            content: "The quote is listed as sent, with its total",
            trigger: ".o_data_row:contains(S-BO-1):contains(Sent):contains(5,750.00)",
        },
        {
            trigger: ".o_data_row .o_data_cell:contains(S-BO-1)",
            run: "click",
        },
        {
            content: "Say what acceptance does",
            trigger: ".o_notebook .nav-link:contains(On Acceptance)",
            run: "click",
        },
        {
            trigger: '.o_field_widget[name="agency_acceptance_mode"] input[data-value="deposit"]',
            run: "click",
        },
        {
            trigger: '.o_field_widget[name="agency_deposit_percent"] input',
            run: "edit 40",
        },
        {
            content: "The rest is invoiced when the work is delivered",
            trigger: '.o_field_widget[name="agency_balance_trigger"] .o_select_menu_toggler',
            run: "click",
        },
        {
            trigger: ".o_select_menu_item:contains(When the work is delivered)",
            run: "click",
        },
        {
            content: "The quote says it in plain words, with Odoo's figures",
            trigger: '.o_field_widget[name="agency_acceptance_summary"]:contains(A deposit of 40 %):contains(2,300.00):contains(3,450.00)',
        },
        {
            trigger: ".o_form_button_save",
            run: "click",
        },
        {
            content: "Confirm it",
            trigger: '.o_statusbar_buttons button[name="action_confirm"]',
            run: "click",
        },
        {
            content: "The deposit is invoiced",
            trigger: 'button[name="action_view_invoice"] .o_stat_value:contains(1)',
        },
        {
            content: "the rest waits for the delivery of the work",
            trigger: '.o_field_widget[name="agency_quote_charge_ids"] .o_data_row:contains(Rest of the quote):contains(On delivery):contains(3,450.00)',
        },
        {
            content: "The work is done",
            trigger: '.o_statusbar_buttons button[name="action_agency_mark_delivered"]',
            run: "click",
        },
        {
            trigger: ".modal-footer button.btn-primary:contains(Ok)",
            run: "click",
        },
        {
            content: "The rest is invoiced",
            trigger: 'button[name="action_view_invoice"] .o_stat_value:contains(2)',
        },
    ],
});
