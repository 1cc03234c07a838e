import { registry } from "@web/core/registry";
import { stepUtils } from "@web_tour/tour_utils";

// Data comes from the Python test: a client named "Acme Bakery".
registry.category("web_tour.tours").add("agency_billing_open_client", {
    url: "/odoo",
    steps: () => [
        stepUtils.showAppsMenuItem(),
        {
            content: "Open the Billing app",
            trigger: '.o_app[data-menu-xmlid="agency_billing.menu_agency_billing_root"]',
            run: "click",
        },
        {
            content: "Open the Clients section",
            trigger: '.o_main_navbar button[data-menu-xmlid="agency_billing.menu_agency_billing_clients"]',
            run: "click",
        },
        {
            content: "Open the list of clients",
            trigger: '.dropdown-item[data-menu-xmlid="agency_billing.menu_agency_billing_client_list"]',
            run: "click",
        },
        {
            content: "Search for the client",
            trigger: ".o_searchview_input",
            run: "edit Acme Bakery",
        },
        {
            trigger: ".o_searchview_input",
            run: "press Enter",
        },
        {
            content: "Open the client",
            trigger: ".o_kanban_record:contains(Acme Bakery), .o_data_row:contains(Acme Bakery) td.o_data_cell",
            run: "click",
        },
        {
            content: "The client form shows the Billing tab",
            trigger: '.o_form_view .o_notebook a[name="agency_billing"]',
            run: "click",
        },
        {
            content: "The client's billing settings are shown",
            trigger: '.o_form_view div[name="billing_automation_effective"]:contains(Post and send by email)',
        },
    ],
});
