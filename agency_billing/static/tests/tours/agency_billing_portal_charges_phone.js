import { registry } from "@web/core/registry";

// Data comes from the Python test: Acme's hosting plan (49.00 a month) and an SEO retainer (750.00).
registry.category("web_tour.tours").add("agency_billing_portal_charges_phone", {
    url: "/my/charges",
    steps: () => [
        {
            content: "The page has a title",
            trigger: "h3:contains(Upcoming Charges)",
        },
        {
            content: "The plan reads as people say it",
            trigger: ".o_agency_charge:contains(Managed hosting plan):contains(every month)",
        },
        {
            content: "The total of the next charges is shown",
            trigger: ".o_agency_charges_total:contains(799.00)",
        },
        {
            content: "Nothing overflows the phone's width",
            trigger: "body",
            run() {
                const width = document.documentElement.clientWidth;
                const table = document.querySelector(".o_portal_my_doc_table");
                const tooWide = [document.documentElement, table.parentElement].filter(
                    (el) => el.scrollWidth > el.clientWidth + 1
                );
                // every cell on screen, none cut off at the right edge
                const cutOff = [...table.querySelectorAll("td, th")].filter((cell) => {
                    const box = cell.getBoundingClientRect();
                    return box.width > 0 && box.right > width + 1;
                });
                if (tooWide.length || cutOff.length) {
                    throw new Error(`does not fit ${width}px: ${cutOff.map((cell) => cell.textContent.trim()).join(" | ")}`);
                }
            },
        },
    ],
});
