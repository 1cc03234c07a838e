import { registry } from "@web/core/registry";
import { stepUtils } from "@web_tour/tour_utils";

// A billing manager sets up a reminder plan; a negative fee is refused at save.
registry.category("web_tour.tours").add("agency_billing_reminder_plan", {
    url: "/odoo",
    steps: () => [
        stepUtils.showAppsMenuItem(),
        {
            trigger: '.o_app[data-menu-xmlid="agency_billing.menu_agency_billing_root"]',
            run: "click",
        },
        {
            trigger: '.o_main_navbar button[data-menu-xmlid="agency_billing.menu_agency_billing_config"]',
            run: "click",
        },
        {
            content: "Open the reminder plans",
            trigger: '.dropdown-item[data-menu-xmlid="agency_billing.menu_agency_billing_reminder_plans"]',
            run: "click",
        },
        {
            trigger: ".o_list_button_add",
            run: "click",
        },
        {
            content: "Name the plan",
            trigger: '.o_form_view div[name="name"] input',
            run: "edit Tour plan",
        },
        {
            content: "Add a level",
            trigger: '.o_form_view div[name="level_ids"] .o_field_x2many_list_row_add a',
            run: "click",
        },
        {
            trigger: '.modal div[name="name"] input',
            run: "edit Gentle nudge",
        },
        {
            trigger: '.modal div[name="days"] input',
            run: "edit 5",
        },
        {
            content: "A fixed late fee",
            trigger: '.modal div[name="fee_type"] input[data-value="fixed"]',
            run: "click",
        },
        {
            content: "A negative amount, by mistake",
            trigger: '.modal div[name="fee_fixed"] input',
            run: "edit -5",
        },
        {
            trigger: ".modal .o_form_button_save",
            run: "click",
        },
        {
            content: "The level is in the plan",
            trigger: '.o_form_view div[name="level_ids"] .o_data_row:contains(Gentle nudge)',
        },
        {
            content: "Save the plan",
            trigger: ".o_form_view .o_form_button_save",
            run: "click",
        },
        {
            content: "Odoo refuses it and says why",
            trigger: ".modal:contains(cannot be negative)",
        },
        {
            trigger: ".modal .modal-footer .btn-primary",
            run: "click",
        },
        {
            content: "Open the level again",
            trigger: '.o_form_view div[name="level_ids"] .o_data_row:contains(Gentle nudge) td[name="name"]',
            run: "click",
        },
        {
            trigger: '.modal div[name="fee_fixed"] input',
            run: "edit 5",
        },
        {
            trigger: ".modal .o_form_button_save",
            run: "click",
        },
        {
            trigger: "body:not(:has(.modal))",
        },
        {
            trigger: ".o_form_view .o_form_button_save",
            run: "click",
        },
        {
            content: "Saved: make it the company's plan",
            trigger: '.o_form_view .o_form_statusbar button[name="action_make_company_default"]',
            run: "click",
        },
        {
            trigger: ".o_form_view .alert-info:contains(Clients without a plan of their own get these reminders)",
        },
    ],
});
