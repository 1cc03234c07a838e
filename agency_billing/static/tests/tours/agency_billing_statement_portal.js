import { registry } from "@web/core/registry";

// Data comes from the Python test: Acme Bakery's portal user, invoices in
// February and March 2027, a balance of 100.00 at the end of March.
registry.category("web_tour.tours").add("agency_billing_statement_portal", {
    url: "/my",
    steps: () => [
        {
            content: "The portal home offers the statement of account",
            trigger: '.o_portal_index_card a[href="/my/statement"]',
            run: "click",
            expectUnloadPage: true,
        },
        {
            content: "Pick the start of the period",
            trigger: 'input[name="date_from"]',
            run() {
                // a date input takes the ISO date whatever the browser's format
                this.anchor.value = "2027-02-01";
            },
        },
        {
            content: "and its end",
            trigger: 'input[name="date_to"]',
            run() {
                this.anchor.value = "2027-03-31";
            },
        },
        {
            trigger: "button.o_agency_statement_show",
            run: "click",
            expectUnloadPage: true,
        },
        {
            content: "The statement of that period, with the client's invoice",
            trigger: ".o_agency_statement_line:contains(INV/2027/00002)",
        },
        {
            content: "Its closing balance",
            trigger: ".o_agency_statement_balance:contains(100.00)",
        },
        {
            content: "A PDF of the same period",
            trigger: 'a.o_agency_statement_pdf[href*="date_from=2027-02-01"][href*="date_to=2027-03-31"]',
        },
    ],
});
