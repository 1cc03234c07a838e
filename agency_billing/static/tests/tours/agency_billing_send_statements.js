import { registry } from "@web/core/registry";

// Data comes from the Python test: clients "Acme Bakery" and "Birch Legal".
registry.category("web_tour.tours").add("agency_billing_send_statements", {
    url: "/odoo/agency-clients",
    steps: () => [
        {
            content: "Pick Acme Bakery",
            trigger: ".o_data_row:contains(Acme Bakery) td.o_list_record_selector input",
            run: "click",
        },
        {
            content: "and Birch Legal",
            trigger: ".o_data_row:contains(Birch Legal) td.o_list_record_selector input",
            run: "click",
        },
        {
            content: "Open the Actions menu",
            trigger: ".o_cp_action_menus button:has(.fa-cog)",
            run: "click",
        },
        {
            trigger: ".o-dropdown--menu .dropdown-item:contains(Send Statements)",
            run: "click",
        },
        {
            content: "The two selected clients get a statement",
            trigger: '.modal .o_field_widget[name="client_count"]:contains(2)',
        },
        {
            trigger: '.modal button[name="action_send"]',
            run: "click",
        },
        {
            content: "The statements are made in the background; the run shows how far it got",
            trigger: '.o_form_view .o_field_widget[name="state"] .o_arrow_button_current:contains(Queued)',
        },
        {
            trigger: '.o_form_view .o_field_widget[name="client_count"]:contains(2)',
        },
    ],
});
