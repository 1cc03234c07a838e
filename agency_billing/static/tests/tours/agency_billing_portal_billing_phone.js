import { registry } from "@web/core/registry";

// Data comes from the Python test: Acme Bakery owes 230.00 on two invoices (one
// overdue), has 25.00 of credit, a 49.00 monthly hosting plan and unbilled time.
registry.category("web_tour.tours").add("agency_billing_portal_billing_phone", {
    url: "/my/billing",
    steps: () => [
        {
            content: "The page has a title",
            trigger: "h3:contains(Billing)",
        },
        {
            content: "The balance due, with its overdue part",
            trigger: ".o_agency_billing_due:contains(230.00):contains(overdue)",
        },
        {
            content: "The credit on the account",
            trigger: ".o_agency_credit_amount:contains(25.00)",
        },
        {
            content: "The next periods of the plan, with their dates and amounts",
            trigger: ".o_agency_forecast_row:contains(Managed hosting plan):contains(49.00)",
        },
        {
            content: "The total of the next charges",
            trigger: ".o_agency_forecast_total",
        },
        {
            content: "The time not invoiced yet",
            trigger: ".o_agency_unbilled_time:contains(2.50 h)",
        },
        {
            content: "Nothing overflows the phone's width",
            trigger: "body",
            run() {
                const width = document.documentElement.clientWidth;
                const tables = [...document.querySelectorAll(".o_portal_my_doc_table")];
                const tooWide = [document.documentElement, ...tables.map((table) => table.parentElement)].filter(
                    (el) => el.scrollWidth > el.clientWidth + 1
                );
                const cutOff = [...document.querySelectorAll("main td, main th, main .card, main .btn")].filter(
                    (el) => {
                        const box = el.getBoundingClientRect();
                        return box.width > 0 && box.right > width + 1;
                    }
                );
                if (tooWide.length || cutOff.length) {
                    throw new Error(
                        `does not fit ${width}px: ${cutOff.map((el) => el.textContent.trim()).join(" | ")}`
                    );
                }
            },
        },
        {
            content: "Pay the balance",
            trigger: "a.o_agency_pay_balance",
            run: "click",
            expectUnloadPage: true,
        },
        {
            content: "Both invoices are paid at once",
            trigger: "h3:contains(Pay your invoices)",
        },
        {
            trigger: "#o_payment_summary_amount:contains(230.00), .o_payment_summary:contains(230.00), body:contains(230.00)",
        },
        {
            content: "Enter the card number",
            trigger: "input[name='customer_input']",
            run: "edit 4242424242424242",
        },
        {
            content: "Pay",
            trigger: "button[name='o_payment_submit_button']",
            run: "click",
            expectUnloadPage: true,
        },
        {
            content: "Back on the billing page: nothing left to pay",
            trigger: ".o_agency_billing_due:contains(Nothing to pay)",
        },
    ],
});
