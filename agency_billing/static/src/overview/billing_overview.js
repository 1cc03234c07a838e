import { Component, onWillStart, useState } from "@odoo/owl";
import { _t } from "@web/core/l10n/translation";
import { deserializeDate, formatDate } from "@web/core/l10n/dates";
import { registry } from "@web/core/registry";
import { useService } from "@web/core/utils/hooks";
import { formatFloat, formatMonetary } from "@web/views/fields/formatters";
import { Layout } from "@web/search/layout";
import { View } from "@web/views/view";
import { standardActionServiceProps } from "@web/webclient/actions/action_service";

const { DateTime } = luxon;

/**
 * The Billing Overview: the cash position of the current company in one page.
 *
 * Every figure comes from `agency.billing.overview.get_overview_data` (one
 * call, aggregated in the database) and opens the records behind it through
 * `action_open`; the two graphs are Odoo's own graph view of the billing
 * forecast and of what was invoiced and collected.
 */
export class BillingOverview extends Component {
    static template = "agency_billing.BillingOverview";
    static components = { Layout, View };
    static props = { ...standardActionServiceProps };

    setup() {
        this.orm = useService("orm");
        this.actionService = useService("action");
        this.state = useState({ data: null });
        this.agingLabels = {
            current: _t("Not due yet"),
            "1_30": _t("1–30 days"),
            "31_60": _t("31–60 days"),
            "61_90": _t("61–90 days"),
            over_90: _t("Over 90 days"),
        };
        onWillStart(() => this.load());
    }

    async load() {
        this.state.data = await this.orm.call("agency.billing.overview", "get_overview_data", []);
    }

    get data() {
        return this.state.data;
    }

    money(value) {
        return formatMonetary(value, { currencyId: this.data.currency_id });
    }

    hours(value) {
        return formatFloat(value, { digits: [16, 2] });
    }

    date(value) {
        return value ? formatDate(deserializeDate(value)) : "";
    }

    /** "+12%" / "−5%" of this month against last month, or "" when last month is not positive. */
    change(current, previous) {
        if (!(previous > 0)) {
            return "";
        }
        const percent = Math.round(((current - previous) / previous) * 100);
        return `${percent > 0 ? "+" : percent < 0 ? "−" : "±"}${Math.abs(percent)}%`;
    }

    get agingMax() {
        return Math.max(...this.data.aging.map((bucket) => bucket.amount), 0);
    }

    agingWidth(bucket) {
        return this.agingMax ? Math.max((100 * bucket.amount) / this.agingMax, bucket.amount ? 2 : 0) : 0;
    }

    async open(key, param = null) {
        const action = await this.orm.call("agency.billing.overview", "action_open", [key, param]);
        return this.actionService.doAction(action);
    }

    graphProps(resModel, measure, groupBys, domain) {
        return {
            resModel,
            type: "graph",
            domain: [["company_id", "=", this.data.company_id], ...domain],
            context: {
                graph_measure: measure,
                graph_groupbys: groupBys,
                graph_mode: "bar",
                graph_stacked: false,
            },
            display: { controlPanel: false },
            useSampleModel: false,
        };
    }

    get forecastGraph() {
        return this.graphProps("agency.billing.forecast.total", "amount_company", ["date:month"], []);
    }

    get trendGraph() {
        const start = DateTime.fromISO(this.data.today).startOf("month").minus({ months: 11 });
        return this.graphProps("agency.billing.trend", "amount", ["date:month", "kind"], [
            ["date", ">=", start.toISODate()],
        ]);
    }
}

registry.category("actions").add("agency_billing.overview", BillingOverview);
