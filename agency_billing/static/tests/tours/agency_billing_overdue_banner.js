import { registry } from "@web/core/registry";

// Data comes from the Python test: a quotation of "Acme Bakery", which has an overdue invoice.
registry.category("web_tour.tours").add("agency_billing_overdue_banner", {
    steps: () => [
        {
            content: "The quotation warns about the client's overdue invoices",
            trigger: ".o_form_view .o_agency_overdue_warning:contains(Acme Bakery has an overdue invoice):contains(300.00)",
        },
        {
            content: "See them",
            trigger: '.o_agency_overdue_warning button[name="action_agency_view_overdue_invoices"]',
            run: "click",
        },
        {
            content: "The overdue invoice is listed",
            trigger: ".o_list_view .o_data_row:contains(Acme Bakery):contains(300.00)",
        },
    ],
});
