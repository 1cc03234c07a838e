import { registry } from "@web/core/registry";

// Data comes from the Python test: the client's contact is logged in and an
// invoice of the client is open; the company's only provider is Odoo's demo one.
registry.category("web_tour.tours").add("agency_billing_portal_pay", {
    steps: () => [
        {
            content: "Pay the invoice online",
            trigger: "a[data-bs-target='#pay_with']",
            run: "click",
        },
        {
            content: "Enter the card number",
            trigger: "#pay_with input[name='customer_input']",
            run: "edit 4242424242424242",
        },
        {
            content: "Pay",
            trigger: "#pay_with button[name='o_payment_submit_button']",
            run: "click",
            expectUnloadPage: true,
        },
        {
            content: "Back on the invoice, which is paid",
            trigger: "div[name='invoice_paid_badge']",
        },
    ],
});

// Several overdue invoices paid at once from the list of invoices.
registry.category("web_tour.tours").add("agency_billing_portal_pay_overdue", {
    steps: () => [
        {
            content: "Pay every overdue invoice",
            trigger: "a.btn[href='/my/invoices/overdue']",
            run: "click",
            expectUnloadPage: true,
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
            content: "Back on the list of invoices",
            trigger: "table.o_portal_my_doc_table",
        },
        {
            content: "Nothing is overdue any more",
            trigger: "body:not(:has(a.btn[href='/my/invoices/overdue']))",
        },
    ],
});
