import { registry } from "@web/core/registry";

// Data comes from the Python test: Acme Bakery's quote S-TOUR-1 (a website
// build and a monthly care plan), a deposit of 30 % and the rest on delivery.
registry.category("web_tour.tours").add("agency_billing_quote_portal", {
    steps: () => [
        {
            content: "The quote says what accepting it does",
            trigger: "#agency_acceptance:contains(A deposit of 30 %)",
        },
        {
            content: "and when the care plan starts",
            trigger: "#agency_acceptance:contains(Website care plan)",
        },
        {
            content: "Accept and sign",
            trigger: "#sale_order_sidebar_button a:contains(Accept & Sign)",
            run: "click",
        },
        {
            content: "The signature dialog repeats it",
            trigger: ".modal .o_agency_acceptance_sign:contains(A deposit of 30 %)",
        },
        {
            content: "Sign with the client's name",
            trigger: ".modal .o_web_sign_name_and_signature input",
            run: "edit Alice Baker",
        },
        {
            trigger: ".modal canvas.o_web_sign_signature",
            run: "canvasNotEmpty",
        },
        {
            content: "Submit the signature",
            trigger: ".modal .o_portal_sign_submit:enabled",
            run: "click",
            expectUnloadPage: true,
        },
        {
            content: "Signed: the order's deposit invoice is listed",
            trigger: "#sale_invoices a:contains(INV/)",
            run: "click",
            expectUnloadPage: true,
        },
        {
            content: "The deposit invoice, for 30 % of the build",
            trigger: ":iframe #wrapwrap:contains(Deposit of 30 % on S-TOUR-1)",
        },
        {
            content: "Go to the portal home",
            trigger: "body",
            run() {
                window.location.href = "/my/charges";
            },
            expectUnloadPage: true,
        },
        {
            content: "The care plan is an upcoming charge",
            trigger: ".o_agency_charge:contains(Website care plan)",
        },
        {
            content: "and the rest of the quote is planned, on delivery",
            trigger: ".o_agency_quote_charge:contains(S-TOUR-1):contains(On delivery)",
        },
    ],
});
