import { registry } from "@web/core/registry";
import { stepUtils } from "@web_tour/tour_utils";

// Data comes from the Python test: Acme Bakery owes 120.00 not due yet and has a
// 100.00 monthly plan; Birch Legal owes 300.00, 45 days late.
registry.category("web_tour.tours").add("agency_billing_overview", {
    url: "/odoo",
    steps: () => [
        stepUtils.showAppsMenuItem(),
        {
            content: "Open the Billing app",
            trigger: '.o_app[data-menu-xmlid="agency_billing.menu_agency_billing_root"]',
            run: "click",
        },
        {
            content: "The app opens on the Overview: open amounts",
            trigger: ".o_agency_overview [data-figure=open] .o_agency_figure_value:contains(420.00)",
        },
        {
            content: "Overdue",
            trigger: ".o_agency_overview [data-figure=overdue] .o_agency_figure_value:contains(300.00)",
        },
        {
            content: "Monthly recurring revenue",
            trigger: ".o_agency_overview [data-figure=mrr] .o_agency_figure_value:contains(100.00)",
        },
        {
            content: "Aging: nothing between 1 and 30 days late",
            trigger: ".o_agency_overview [data-figure=aging_1_30] .o_agency_figure_value:contains(0.00)",
        },
        {
            content: "Open the invoices 31 to 60 days late",
            trigger: ".o_agency_overview [data-figure=aging_31_60]:contains(300.00)",
            run: "click",
        },
        {
            content: "The list shows Birch's invoice, and only it",
            trigger: ".o_list_view .o_data_row:contains(Birch Legal)",
            run() {
                const rows = document.querySelectorAll(".o_list_view .o_data_row");
                if (rows.length !== 1) {
                    throw new Error(`expected one invoice 31 to 60 days late, got ${rows.length}`);
                }
            },
        },
        {
            content: "The list says what it is",
            trigger: ".o_breadcrumb:contains(Invoices 31 to 60 Days Late)",
        },
        {
            content: "Back to the Overview",
            trigger: ".o_breadcrumb .breadcrumb-item a:contains(Billing Overview)",
            run: "click",
        },
        {
            content: "Open the figures per client",
            trigger: ".o_agency_overview button[data-figure=clients]",
            run: "click",
        },
        {
            content: "Each client has its row, with its figures",
            trigger: ".o_list_view .o_data_row:contains(Birch Legal):contains(300.00)",
        },
        {
            trigger: ".o_list_view .o_data_row:contains(Acme Bakery):contains(120.00)",
        },
    ],
});
