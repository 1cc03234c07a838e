import { registry } from "@web/core/registry";

// Data comes from the Python test: "Acme Bakery" has a paid invoice of 100.00.
registry.category("web_tour.tours").add("agency_billing_transactions_refund", {
    steps: () => [
        {
            content: "Open the client's transactions",
            trigger: ".o_form_view button[name='action_agency_view_transactions']",
            run: "click",
        },
        {
            content: "The paid invoice is listed with the running balance",
            trigger: ".o_list_view .o_data_row:contains(Invoice):contains(100.00)",
        },
        {
            content: "Open the invoice from its row",
            trigger: ".o_list_view .o_data_row:contains(Invoice) td[name='display_name']",
            run: "click",
        },
        {
            content: "Refund it",
            trigger: ".o_form_view button[name='action_agency_refund']",
            run: "click",
        },
        {
            content: "Refund part of it",
            trigger: ".modal div[name='amount'] input",
            run: "edit 40",
        },
        {
            content: "As credit on the client's balance",
            trigger: ".modal div[name='method'] input[data-value='credit']",
            run: "click",
        },
        {
            trigger: ".modal button[name='action_refund']",
            run: "click",
        },
        {
            content: "Confirm",
            trigger: ".modal-footer button.btn-primary:contains(Ok)",
            run: "click",
        },
        {
            content: "The credit note opens",
            trigger: ".o_form_view .o_field_widget[name='name']:contains(RINV)",
        },
    ],
});
