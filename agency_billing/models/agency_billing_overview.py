from datetime import timedelta

from dateutil.relativedelta import relativedelta

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.fields import Domain
from odoo.tools import SQL

from .. import const, documents, overview, payments

OVERVIEW_GROUP = "agency_billing.group_agency_billing_user"


class AgencyBillingOverview(models.AbstractModel):
    """The figures of the Billing Overview (the Billing app's landing page) and
    the records behind each of them.

    Every figure is of the current company, in its currency, and aggregates in
    the database (``overview``): the number of queries does not depend on the
    number of clients.
    """

    _name = "agency.billing.overview"
    _description = "Billing Overview"

    # ------------------------------------------------------------------
    # FIGURES
    # ------------------------------------------------------------------
    @api.model
    def get_overview_data(self):
        """The Overview's figures for the current company (see README, "The Billing Overview")."""
        self._check_overview_access()
        company = self.env.company
        today = fields.Date.context_today(self)
        self.env.flush_all()
        overview.disable_jit(self.env.cr)
        data = {
            "company_id": company.id,
            "company_name": company.name,
            "currency_id": company.currency_id.id,
            "today": fields.Date.to_string(today),
        }
        data.update(self._get_charge_figures(company, today))
        data.update(self._get_receivable_figures(company, today))
        data.update(self._get_invoicing_figures(company, today))
        data.update(self._get_run_figures(company))
        # days sales outstanding: what is owed against what was invoiced lately
        invoiced = data["dso_invoiced"]
        data["dso"] = (
            round(max(data["balance"], 0.0) / invoiced * overview.DSO_DAYS) if invoiced > 0 else False
        )
        return data

    @api.model
    def _get_charge_figures(self, company, today):
        """Unbilled work and charges, recurring revenue and the scheduled charges."""
        rates = overview.rate_table(self.env, company, today)
        this_month = today.replace(day=1)
        near, far = (today + timedelta(days=days) for days in overview.UPCOMING_DAYS)
        self.env.cr.execute(
            SQL(
                """WITH ft AS (%(totals)s),
                        tm AS (%(time)s),
                        due AS (%(due)s),
                        pending AS (%(pending)s),
                        mrr AS (%(mrr)s)
                   SELECT (SELECT amount_company FROM due),
                          (SELECT client_count FROM due),
                          (SELECT COALESCE(SUM(hours), 0) FROM tm),
                          (SELECT COALESCE(SUM(amount), 0) FROM tm),
                          (SELECT COUNT(DISTINCT partner_id) FROM tm),
                          (SELECT COUNT(*) FROM pending),
                          (SELECT COALESCE(SUM(amount_company), 0) FROM pending),
                          (SELECT COALESCE(SUM(mrr), 0) FROM mrr),
                          (SELECT COUNT(*) FROM mrr),
                          (SELECT COALESCE(SUM(amount_company), 0) FROM ft WHERE date <= %(near)s),
                          (SELECT COALESCE(SUM(charge_count), 0) FROM ft WHERE date <= %(near)s),
                          (SELECT COALESCE(SUM(amount_company), 0) FROM ft),
                          (SELECT COALESCE(SUM(charge_count), 0) FROM ft)""",
                # in totals, not client by client: the same few queries whatever the number of clients
                totals=overview.forecast_totals(self.env, company, today, far, rates=rates),
                time=overview.time_to_bill(company, today),
                due=overview.due_totals(self.env, company, today, rates, "ft"),
                pending=overview.pending_items(company, rates),
                mrr=overview.mrr(self.env, company, today, this_month, this_month, rates=rates),
                near=near,
            )
        )
        (
            due_amount,
            due_clients,
            hours,
            time_amount,
            time_clients,
            pending_count,
            pending_amount,
            mrr_amount,
            mrr_count,
            near_amount,
            near_count,
            far_amount,
            far_count,
        ) = self.env.cr.fetchone()
        currency = company.currency_id
        return {
            "unbilled": {"amount": currency.round(due_amount), "client_count": due_clients},
            "time": {
                "hours": round(hours, 2),
                "amount": currency.round(time_amount),
                "client_count": time_clients,
            },
            "items": {"count": pending_count, "amount": currency.round(pending_amount)},
            "mrr": {"amount": currency.round(mrr_amount), "count": mrr_count},
            "upcoming": [
                {
                    "days": overview.UPCOMING_DAYS[0],
                    "amount": currency.round(near_amount),
                    "count": near_count,
                },
                {"days": overview.UPCOMING_DAYS[1], "amount": currency.round(far_amount), "count": far_count},
            ],
        }

    @api.model
    def _get_receivable_figures(self, company, today):
        """Open and overdue amounts by aging bucket, credit and days sales outstanding."""
        self.env.cr.execute(
            SQL(
                """SELECT %(bucket)s AS bucket,
                          COALESCE(SUM(residual) FILTER (WHERE residual > 0), 0),
                          COUNT(DISTINCT move_id) FILTER (WHERE residual > 0),
                          COALESCE(SUM(-residual) FILTER (WHERE residual < 0), 0),
                          COUNT(DISTINCT move_id) FILTER (WHERE residual > 0 AND date_due < %(today)s),
                          COUNT(DISTINCT partner_id) FILTER (WHERE residual > 0 AND date_due < %(today)s),
                          MIN(date_due) FILTER (WHERE residual > 0 AND date_due < %(today)s)
                     FROM (%(receivables)s) receivable
                    GROUP BY GROUPING SETS ((1), ())""",
                bucket=overview.aging_bucket(SQL("(%s::date - date_due)", today)),
                today=today,
                receivables=overview.receivables(company),
            )
        )
        currency = company.currency_id
        buckets = dict.fromkeys(documents.AGING_BUCKETS, (0.0, 0))
        totals = (0.0, 0, 0.0, 0, 0, None)
        for bucket, amount, count, credit, overdue_count, overdue_clients, oldest in self.env.cr.fetchall():
            if bucket is None:
                totals = (amount, count, credit, overdue_count, overdue_clients, oldest)
            else:
                buckets[bucket] = (amount, count)
        open_amount, open_count, credit, overdue_count, overdue_clients, oldest = totals
        overdue_amount = sum(
            amount for key, (amount, _count) in buckets.items() if key != documents.AGING_CURRENT
        )
        return {
            "aging": [
                {"key": key, "amount": currency.round(amount), "count": count}
                for key, (amount, count) in buckets.items()
            ],
            "open": {"amount": currency.round(open_amount), "count": open_count},
            "overdue": {
                "amount": currency.round(overdue_amount),
                "count": overdue_count,
                "client_count": overdue_clients,
                "oldest_days": (today - oldest).days if oldest else 0,
            },
            "credit": currency.round(credit),
            "balance": currency.round(open_amount - credit),
        }

    @api.model
    def _get_invoicing_figures(self, company, today):
        """Invoiced and collected this month and last month; days sales outstanding."""
        this_month, last_month = self._months(today)
        dso_from = today - timedelta(days=overview.DSO_DAYS - 1)
        self.env.cr.execute(
            SQL(
                """SELECT COALESCE(SUM(amount_total_signed) FILTER (WHERE invoice_date BETWEEN %(t0)s AND %(t1)s), 0),
                          COUNT(*) FILTER (WHERE invoice_date BETWEEN %(t0)s AND %(t1)s),
                          COALESCE(SUM(amount_total_signed) FILTER (WHERE invoice_date BETWEEN %(l0)s AND %(l1)s), 0),
                          COUNT(*) FILTER (WHERE invoice_date BETWEEN %(l0)s AND %(l1)s),
                          COALESCE(SUM(amount_total_signed) FILTER (WHERE invoice_date BETWEEN %(d0)s AND %(d1)s), 0)
                     FROM account_move
                    WHERE move_type IN %(documents)s AND state = 'posted' AND company_id = %(company)s
                      AND invoice_date BETWEEN LEAST(%(l0)s, %(d0)s) AND %(t1)s""",
                t0=this_month[0],
                t1=this_month[1],
                l0=last_month[0],
                l1=last_month[1],
                d0=dso_from,
                d1=today,
                documents=overview.CUSTOMER_DOCUMENTS,
                company=company.id,
            )
        )
        invoiced_this, count_this, invoiced_last, count_last, invoiced_dso = self.env.cr.fetchone()
        self.env.cr.execute(
            SQL(
                """SELECT COALESCE(SUM(amount) FILTER (WHERE date BETWEEN %(t0)s AND %(t1)s), 0),
                          COALESCE(SUM(amount) FILTER (WHERE date BETWEEN %(l0)s AND %(l1)s), 0)
                     FROM (%(collected)s) paid
                    WHERE date BETWEEN %(l0)s AND %(t1)s""",
                t0=this_month[0],
                t1=this_month[1],
                l0=last_month[0],
                l1=last_month[1],
                collected=overview.collected(company),
            )
        )
        collected_this, collected_last = self.env.cr.fetchone()
        currency = company.currency_id
        return {
            "invoiced": {
                "this_month": currency.round(invoiced_this),
                "this_month_count": count_this,
                "last_month": currency.round(invoiced_last),
                "last_month_count": count_last,
            },
            "collected": {
                "this_month": currency.round(collected_this),
                "last_month": currency.round(collected_last),
            },
            "dso_invoiced": currency.round(invoiced_dso),
            "dso_days": overview.DSO_DAYS,
        }

    @api.model
    def _get_run_figures(self, company):
        """The last billing run and the clients whose items could not be billed."""
        run = self.env["agency.billing.run"].search([("company_id", "=", company.id)], limit=1)
        states = dict(run._fields["state"]._description_selection(self.env))
        [(item_count, client_count)] = self.env["agency.billable.item"]._read_group(
            self._get_to_fix_domain(company), aggregates=["__count", "partner_id:count_distinct"]
        )
        last_run = False
        if run:
            last_run = {
                "id": run.id,
                "name": run.name,
                "date": fields.Date.to_string(run.date),
                "date_started": fields.Datetime.to_string(run.date_started),
                "state": run.state,
                "state_label": states.get(run.state, run.state),
                "invoice_count": run.invoice_count,
                "client_count": run.client_count,
                "skipped_count": run.skipped_count,
                "error_count": run.error_count,
                "progress": run.progress,
            }
        return {"last_run": last_run, "to_fix": {"item_count": item_count, "client_count": client_count}}

    # ------------------------------------------------------------------
    # THE RECORDS BEHIND A FIGURE
    # ------------------------------------------------------------------
    @api.model
    def action_open(self, key, param=None):
        """The records behind the figure ``key`` (``param``: a number of days, an
        aging bucket, "this" or "last" month), as an action."""
        self._check_overview_access()
        company = self.env.company
        today = fields.Date.context_today(self)
        openers = {
            "unbilled": self._action_unbilled,
            "time": self._action_time,
            "items": self._action_items,
            "mrr": self._action_mrr,
            "upcoming": self._action_upcoming,
            "open": self._action_open_amounts,
            "overdue": self._action_overdue,
            "aging": self._action_aging,
            "credit": self._action_credit,
            "invoiced": self._action_invoiced,
            "collected": self._action_collected,
            "last_run": self._action_last_run,
            "to_fix": self._action_to_fix,
            "clients": self._action_clients,
            "forecast": self._action_forecast,
            "trends": self._action_trends,
            "mrr_trend": self._action_mrr_trend,
        }
        if key not in openers:
            raise UserError(self.env._("The Overview has no figure “%(key)s”.", key=key))
        return openers[key](company, today, param)

    def _window(self, xmlid, domain, name=None, context=None):
        action = self.env["ir.actions.act_window"]._for_xml_id(xmlid)
        action["domain"] = list(Domain(domain))
        if name:
            action["display_name"] = action["name"] = name
        if context is not None:
            action["context"] = context
        return action

    def _action_clients(self, company, today, param=None, name=None, context=None):
        return self._window(
            "agency_billing.agency_billing_client_summary_action",
            [("company_id", "=", company.id)],
            name=name,
            context=context,
        )

    def _action_unbilled(self, company, today, param=None):
        return self._action_clients(
            company,
            today,
            name=self.env._("Unbilled, per Client"),
            context={"search_default_filter_unbilled": 1},
        )

    def _action_time(self, company, today, param=None):
        return self._window(
            "agency_billing.account_analytic_line_action_time_to_bill",
            [
                ("company_id", "=", company.id),
                ("project_id", "!=", False),
                ("partner_id", "!=", False),
                ("agency_billing_state", "=", "to_bill"),
                ("date", "<=", today),
            ],
            context={"search_default_group_by_client": 1},
        )

    def _action_items(self, company, today, param=None):
        return self._window(
            "agency_billing.agency_billable_item_action",
            [("company_id", "=", company.id), ("display_state", "=", "pending")],
            name=self.env._("Pending Billable Items"),
            context={"search_default_group_by_partner": 1},
        )

    def _action_to_fix(self, company, today, param=None):
        return self._window(
            "agency_billing.agency_billable_item_action",
            self._get_to_fix_domain(company),
            name=self.env._("Items that Could Not Be Billed"),
            context={"search_default_group_by_partner": 1},
        )

    def _get_to_fix_domain(self, company):
        return Domain.AND(
            [
                Domain("company_id", "=", company.id),
                Domain("state", "=", const.STATE_PENDING),
                Domain("billing_error", "!=", False),
            ]
        )

    def _action_mrr(self, company, today, param=None):
        return self._window(
            "agency_billing.agency_billing_mrr_action_items",
            [("company_id", "=", company.id), ("date", "=", today.replace(day=1))],
        )

    def _action_mrr_trend(self, company, today, param=None):
        return self._window("agency_billing.agency_billing_mrr_action", [("company_id", "=", company.id)])

    def _action_forecast(self, company, today, param=None):
        return self._window(
            "agency_billing.agency_billing_forecast_action", [("company_id", "=", company.id)]
        )

    def _action_upcoming(self, company, today, param=None):
        days = int(param or overview.UPCOMING_DAYS[0])
        return self._window(
            "agency_billing.agency_billing_forecast_action",
            [("company_id", "=", company.id), ("date", "<=", today + timedelta(days=days))],
            name=self.env._("Scheduled in the Next %(days)s Days", days=days),
            context={"search_default_group_by_partner": 1},
        )

    def _action_trends(self, company, today, param=None):
        return self._window("agency_billing.agency_billing_trend_action", [("company_id", "=", company.id)])

    def _receivable_moves(self, company, line_domain, name):
        """The documents with open receivable journal items matching ``line_domain``."""
        line_domain = Domain.AND(
            [
                Domain("account_id.account_type", "=", "asset_receivable"),
                Domain("parent_state", "=", "posted"),
                Domain("reconciled", "=", False),
                Domain(line_domain),
            ]
        )
        return self._window(
            "agency_billing.account_move_action_overdue",
            [("company_id", "=", company.id), ("line_ids", "any", list(line_domain))],
            name=name,
            context={"create": False},
        )

    def _action_open_amounts(self, company, today, param=None):
        return self._receivable_moves(company, [("amount_residual", ">", 0)], self.env._("Open Invoices"))

    def _action_overdue(self, company, today, param=None):
        return self._receivable_moves(
            company,
            [("amount_residual", ">", 0), ("date_maturity", "<", today)],
            self.env._("Overdue Invoices"),
        )

    def _action_aging(self, company, today, param=None):
        ranges = {key: (first, last) for key, first, last in overview.AGING_RANGES}
        if param not in ranges:
            raise UserError(self.env._("There is no aging bucket “%(bucket)s”.", bucket=param))
        first, last = ranges[param]
        domain = [("amount_residual", ">", 0)]
        if first is not None:
            domain.append(("date_maturity", "<=", today - timedelta(days=first)))
        if last is not None:
            domain.append(("date_maturity", ">=", today - timedelta(days=last)))
        labels = {
            documents.AGING_CURRENT: self.env._("Open Invoices Not Due Yet"),
            documents.AGING_1_30: self.env._("Invoices 1 to 30 Days Late"),
            documents.AGING_31_60: self.env._("Invoices 31 to 60 Days Late"),
            documents.AGING_61_90: self.env._("Invoices 61 to 90 Days Late"),
            documents.AGING_OVER_90: self.env._("Invoices over 90 Days Late"),
        }
        return self._receivable_moves(company, domain, labels[param])

    def _action_credit(self, company, today, param=None):
        return self._window(
            "agency_billing.agency_client_transaction_action",
            [("company_id", "=", company.id), ("credit", ">", 0), ("amount_open", ">", 0)],
            name=self.env._("Credit Not Used Yet"),
            context={"create": False},
        )

    def _months(self, today):
        """((first, last) day of this month, (first, last) day of last month)."""
        first = today.replace(day=1)
        last_first = first - relativedelta(months=1)
        return (first, first + relativedelta(months=1, days=-1)), (last_first, first - timedelta(days=1))

    def _month(self, today, param):
        this_month, last_month = self._months(today)
        return last_month if param == "last" else this_month

    def _action_invoiced(self, company, today, param=None):
        start, end = self._month(today, param)
        action = self._window(
            "account.action_move_out_invoice_type",
            [
                ("company_id", "=", company.id),
                ("move_type", "in", overview.CUSTOMER_DOCUMENTS),
                ("state", "=", "posted"),
                ("invoice_date", ">=", start),
                ("invoice_date", "<=", end),
            ],
            name=self.env._("Invoiced Last Month") if param == "last" else self.env._("Invoiced This Month"),
            context={"create": False},
        )
        return action

    def _action_collected(self, company, today, param=None):
        start, end = self._month(today, param)
        return self._window(
            "agency_billing.agency_client_transaction_action",
            [
                ("company_id", "=", company.id),
                ("transaction_type", "in", [payments.TX_PAYMENT, payments.TX_REFUND]),
                ("date", ">=", start),
                ("date", "<=", end),
            ],
            name=self.env._("Collected Last Month")
            if param == "last"
            else self.env._("Collected This Month"),
            context={"create": False},
        )

    def _action_last_run(self, company, today, param=None):
        run = self.env["agency.billing.run"].search([("company_id", "=", company.id)], limit=1)
        if not run:
            return self._window("agency_billing.agency_billing_run_action", [("company_id", "=", company.id)])
        return run._get_result_action()

    # ------------------------------------------------------------------
    # ACCESS
    # ------------------------------------------------------------------
    @api.model
    def _check_overview_access(self):
        if not self.env.user.has_group(OVERVIEW_GROUP):
            raise AccessError(
                self.env._("Only billing users and billing managers can open the Billing Overview.")
            )
