"""The Billing Overview: each figure against what the test computes from its own
data, or against what Odoo (partner balance, statements) and the billing run
themselves report; the records behind each figure; access and companies."""

from datetime import date, timedelta

from dateutil.relativedelta import relativedelta

from odoo import Command
from odoo.exceptions import AccessError, UserError
from odoo.tests import freeze_time, tagged

from odoo.addons.agency_billing import schedule

from .common import AgencyBillingCase, AgencyPaymentCase

TODAY = date(2027, 3, 15)


def _days(n):
    return TODAY - timedelta(days=n)


@tagged("post_install", "-at_install")
@freeze_time("2027-03-15")
class TestOverviewReceivables(AgencyPaymentCase):
    """Open and overdue amounts by age, credit, days sales outstanding, invoiced and
    collected this month against last month, at a frozen date."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.client_c = cls.env["res.partner"].create({"name": "Cedar Cafe", "is_company": True})
        invoice = cls._create_invoice_for
        # Acme: one not due yet (with 15% tax), one 10 days late, a credit note not applied
        cls.inv_current = invoice(
            cls.client_a, 100.0, date=date(2027, 3, 1), due=_days(-10), taxes=cls.tax_sale_a
        )
        cls.inv_10 = invoice(cls.client_a, 200.0, date=date(2027, 2, 3), due=_days(10))
        cls.refund = invoice(cls.client_a, 30.0, date=date(2027, 3, 10), move_type="out_refund")
        # Birch: 45, 75 and 120 days late, the oldest partly paid this month
        cls.inv_45 = invoice(cls.client_b, 300.0, date=date(2026, 12, 30), due=_days(45))
        cls.inv_75 = invoice(cls.client_b, 400.0, date=date(2026, 11, 30), due=_days(75))
        cls.inv_120 = invoice(cls.client_b, 500.0, date=date(2026, 10, 16), due=_days(120))
        cls._pay(cls.inv_120, amount=50.0, date=date(2027, 3, 2))
        # Cedar: money received last month, on no invoice (credit)
        cls._receive(cls.client_c, 80.0, date=date(2027, 2, 10))
        cls.Overview = cls.env["agency.billing.overview"]

    def _data(self, user=None):
        overview = self.Overview.with_user(user) if user else self.Overview
        return overview.with_company(self.company).get_overview_data()

    def test_aging_at_a_frozen_date(self):
        data = self._data()
        aging = {bucket["key"]: (bucket["amount"], bucket["count"]) for bucket in data["aging"]}
        self.assertEqual(
            aging,
            {
                "current": (115.0, 1),
                "1_30": (200.0, 1),
                "31_60": (300.0, 1),
                "61_90": (400.0, 1),
                "over_90": (450.0, 1),
            },
        )
        self.assertEqual(data["open"], {"amount": 1465.0, "count": 5})
        self.assertEqual(data["overdue"]["amount"], 1350.0)
        self.assertEqual(data["overdue"]["count"], 4)
        self.assertEqual(data["overdue"]["client_count"], 2)
        self.assertEqual(data["overdue"]["oldest_days"], 120)
        self.assertEqual(data["credit"], 110.0, "the credit note (30) and the payment on no invoice (80)")

    def test_balance_equals_odoo_and_the_statements(self):
        data = self._data()
        clients = self.client_a | self.client_b | self.client_c
        odoo_balance = sum(self._client_balance(client) for client in clients)
        self.assertAlmostEqual(data["balance"], odoo_balance, places=2)
        self.assertAlmostEqual(data["balance"], 1465.0 - 110.0, places=2)
        # Birch has no credit: its statement's aging is the Overview's, bucket by bucket
        statement = self.env["agency.statement"]._get_statement_values(
            self.client_b, self.company, date(2026, 1, 1), TODAY
        )[self.client_b.id]
        statement_aging = statement["sections"][0]["aging"]
        summary = self.env["agency.billing.client.summary"].search([("partner_id", "=", self.client_b.id)])
        self.assertAlmostEqual(summary.open_amount, sum(statement_aging.values()), places=2)
        self.assertEqual(statement_aging["31_60"], 300.0)
        self.assertEqual(statement_aging["over_90"], 450.0)

    def test_days_sales_outstanding(self):
        data = self._data()
        # invoiced in the last 90 days (16 Dec - 15 Mar): 115 + 200 + 300 - 30
        self.assertEqual(data["dso_invoiced"], 585.0)
        self.assertEqual(data["dso"], round((1465.0 - 110.0) / 585.0 * 90))

    def test_invoiced_and_collected_this_month_and_last(self):
        data = self._data()
        self.assertEqual(
            data["invoiced"]["this_month"], 115.0 - 30.0, "invoices less credit notes, taxes included"
        )
        self.assertEqual(data["invoiced"]["this_month_count"], 2)
        self.assertEqual(data["invoiced"]["last_month"], 200.0)
        self.assertEqual(data["collected"], {"this_month": 50.0, "last_month": 80.0})
        # the trends report says the same for these months
        Trend = self.env["agency.billing.trend"]
        for month, invoiced, collected in ((date(2027, 3, 1), 85.0, 50.0), (date(2027, 2, 1), 200.0, 80.0)):
            domain = [("date", ">=", month), ("date", "<", month + relativedelta(months=1))]
            [(amount_invoiced, amount_collected)] = Trend._read_group(
                domain, aggregates=["amount_invoiced:sum", "amount_collected:sum"]
            )
            self.assertAlmostEqual(amount_invoiced, invoiced, places=2)
            self.assertAlmostEqual(amount_collected, collected, places=2)

    def test_trends_per_client(self):
        Trend = self.env["agency.billing.trend"]
        invoiced = dict(
            Trend._read_group(
                [("kind", "=", "invoiced")], groupby=["partner_id"], aggregates=["amount_invoiced:sum"]
            )
        )
        self.assertAlmostEqual(invoiced[self.client_a], 115.0 + 200.0 - 30.0, places=2)
        self.assertAlmostEqual(invoiced[self.client_b], 1200.0, places=2)
        collected = dict(
            Trend._read_group(
                [("kind", "=", "collected")], groupby=["partner_id"], aggregates=["amount_collected:sum"]
            )
        )
        self.assertEqual(collected, {self.client_b: 50.0, self.client_c: 80.0})

    def test_per_client_table(self):
        rows = {
            row.partner_id: row
            for row in self.env["agency.billing.client.summary"].search(
                [("company_id", "=", self.company.id)]
            )
        }
        self.assertEqual(set(rows), {self.client_a, self.client_b, self.client_c})
        acme, birch, cedar = rows[self.client_a], rows[self.client_b], rows[self.client_c]
        self.assertEqual((acme.open_amount, acme.overdue_amount, acme.credit_amount), (315.0, 200.0, 30.0))
        self.assertEqual(acme.overdue_days, 10)
        self.assertEqual((birch.open_amount, birch.overdue_amount, birch.overdue_days), (1150.0, 1150.0, 120))
        self.assertEqual((cedar.open_amount, cedar.credit_amount, cedar.balance), (0.0, 80.0, -80.0))
        for client, row in rows.items():
            self.assertAlmostEqual(row.balance, self._client_balance(client), places=2)
        # sortable, as an Odoo list
        ordered = self.env["agency.billing.client.summary"].search([], order="overdue_days desc")
        self.assertEqual(ordered[0].partner_id, self.client_b)

    def test_each_figure_opens_its_records(self):
        def records(key, param=None):
            action = self.Overview.action_open(key, param)
            return self.env[action["res_model"]].search(action["domain"])

        self.assertEqual(records("aging", "current"), self.inv_current)
        self.assertEqual(records("aging", "1_30"), self.inv_10)
        self.assertEqual(records("aging", "31_60"), self.inv_45)
        self.assertEqual(records("aging", "61_90"), self.inv_75)
        self.assertEqual(records("aging", "over_90"), self.inv_120)
        self.assertEqual(records("overdue"), self.inv_10 | self.inv_45 | self.inv_75 | self.inv_120)
        self.assertEqual(len(records("open")), 5)
        self.assertEqual(records("invoiced", "this"), self.inv_current | self.refund)
        self.assertEqual(records("invoiced", "last"), self.inv_10)
        self.assertEqual(records("credit").partner_id, self.client_a | self.client_c)
        self.assertEqual(sum(records("collected", "this").mapped("credit")), 50.0)
        self.assertEqual(records("clients").partner_id, self.client_a | self.client_b | self.client_c)
        with self.assertRaises(UserError):
            self.Overview.action_open("no_such_figure")
        with self.assertRaises(UserError):
            self.Overview.action_open("aging", "2_years")

    def test_other_company_is_not_counted(self):
        other = self.setup_other_company(name="Other Agency")["company"]
        self.env.user.company_ids |= other
        elsewhere = (
            self.env["account.move"]
            .with_company(other)
            .create(
                {
                    "move_type": "out_invoice",
                    "partner_id": self.client_a.id,
                    "invoice_date": date(2027, 3, 1),
                    "invoice_date_due": _days(20),
                    "invoice_line_ids": [
                        Command.create({"name": "Other work", "quantity": 1, "price_unit": 999.0})
                    ],
                }
            )
        )
        elsewhere.action_post()
        self.assertEqual(self._data()["open"]["amount"], 1465.0)
        other_data = self.Overview.with_company(other).get_overview_data()
        self.assertEqual(other_data["open"], {"amount": 999.0, "count": 1})
        self.assertEqual(other_data["invoiced"]["this_month"], 999.0)
        self.assertEqual(other_data["credit"], 0.0)
        # the per-client list of one company shows that company's figures only
        Summary = self.env["agency.billing.client.summary"].with_context(allowed_company_ids=self.company.ids)
        acme = Summary.search([("partner_id", "=", self.client_a.id)])
        self.assertEqual(acme.open_amount, 315.0)

    def test_query_count_does_not_grow_with_clients(self):
        self._data()  # warm the caches
        queries = self.cr.sql_log_count
        self._data()
        few = self.cr.sql_log_count - queries
        partners = self.env["res.partner"].create(
            [{"name": f"Client {n}", "is_company": True} for n in range(15)]
        )
        for n, partner in enumerate(partners):
            self._create_invoice_for(partner, 10.0 + n, date=date(2027, 3, 1), due=_days(n * 7))
            self._create_item(partner_id=partner.id, price_unit=5.0)
            self._create_recurring(date(2027, 1, 1), partner_id=partner.id, price_unit=20.0)
        self._data()
        queries = self.cr.sql_log_count
        self._data()
        self.assertEqual(self.cr.sql_log_count - queries, few)


@tagged("post_install", "-at_install")
@freeze_time("2027-03-15")
class TestOverviewCharges(AgencyBillingCase):
    """Unbilled work, monthly recurring revenue and the forecast of every period."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Overview = cls.env["agency.billing.overview"]
        cls.Forecast = cls.env["agency.billing.forecast"]
        cls.product_hosting.taxes_id = False

    def _data(self):
        return self.Overview.with_company(self.company).get_overview_data()

    def _expected_forecast(self, item, after=None):
        """Every period of ``item`` up to the forecast's last day (end of February 2028)
        by the schedule maths, as (start, end, invoice date, factor, amount)."""
        horizon = date(2028, 2, 29)
        rows = []
        for period in schedule.iter_periods(item._get_schedule()):
            if period.invoice_date > horizon:
                break
            if after and period.invoice_date <= after:
                continue
            amount = item.currency_id.round(item.amount_untaxed * period.factor)
            rows.append((period.date_start, period.date_end, period.invoice_date, period.factor, amount))
        return rows

    def _assert_totals_equal_the_forecast(self):
        """The forecast's totals (graphs, Overview) add up what it lists, day by day."""
        listed = {}
        for row in self.Forecast.search([]):
            amount, count = listed.get(row.date, (0.0, 0))
            listed[row.date] = (round(amount + row.amount_company, 2), count + 1)
        totals = {
            row.date: (round(row.amount_company, 2), row.charge_count)
            for row in self.env["agency.billing.forecast.total"].search([])
        }
        self.assertEqual(totals, listed)

    def _forecast(self, item):
        return [
            (row.period_start, row.period_end, row.date_scheduled, row.factor, row.amount)
            for row in self.Forecast.search([("item_id", "=", item.id)], order="period_start")
        ]

    def test_monthly_recurring_revenue_weekly_monthly_yearly(self):
        plans = (
            self._create_recurring(date(2027, 3, 1), price_unit=70.0, recurring_rule_type="weekly")
            | self._create_recurring(date(2027, 2, 1), price_unit=100.0)
            | self._create_recurring(date(2027, 1, 1), price_unit=1200.0, recurring_rule_type="yearly")
            | self._create_recurring(date(2027, 1, 1), price_unit=300.0, recurring_interval=3)
        )
        # not running today: ended, not started, stopped
        self._create_recurring(date(2027, 1, 1), price_unit=999.0, date_end=date(2027, 3, 10))
        future = self._create_recurring(date(2027, 4, 1), price_unit=40.0, partner_id=self.client_b.id)
        stopped = self._create_recurring(date(2027, 1, 1), price_unit=555.0)
        stopped.state = "stopped"
        data = self._data()
        expected = 70.0 * 52 / 12 + 100.0 + 1200.0 / 12 + 300.0 / 3
        self.assertAlmostEqual(data["mrr"]["amount"], round(expected, 2), places=2)
        self.assertEqual(data["mrr"]["count"], 4)
        # over time: the plan starting in April counts from April
        Mrr = self.env["agency.billing.mrr"]
        march = dict(Mrr._read_group([("date", "=", date(2027, 3, 1))], ["item_id"], ["mrr:sum"]))
        self.assertEqual(set(march), set(plans))
        april = Mrr._read_group([("date", "=", date(2027, 4, 1))], [], ["mrr:sum"])[0][0]
        self.assertAlmostEqual(april, round(expected, 2) + 40.0, places=1)
        action = self.Overview.action_open("mrr")
        self.assertEqual(self.env[action["res_model"]].search(action["domain"]).item_id, plans)
        self.assertNotIn(future, self.env[action["res_model"]].search(action["domain"]).item_id)

    def test_forecast_is_every_period_of_the_schedule(self):
        items = (
            self._create_recurring(date(2027, 1, 31), price_unit=90.0, recurring_invoicing_type="post_paid")
            | self._create_recurring(
                date(2027, 3, 10),
                price_unit=310.0,
                is_aligned=True,
                is_prorated=True,
                date_end=date(2027, 8, 20),
            )
            | self._create_recurring(
                date(2027, 3, 3), price_unit=25.0, recurring_rule_type="weekly", recurring_count=6
            )
            | self._create_recurring(
                date(2027, 3, 1), price_unit=7.0, recurring_rule_type="daily", recurring_interval=10
            )
            | self._create_recurring(
                date(2024, 2, 29),
                price_unit=1000.0,
                recurring_rule_type="yearly",
                partner_id=self.client_b.id,
            )
            | self._create_recurring(
                date(2027, 3, 17),
                price_unit=70.0,
                recurring_rule_type="weekly",
                is_aligned=True,
                is_prorated=True,
            )
        )
        # plans that share a schedule, summed in the totals
        items |= self._create_recurring(
            date(2027, 1, 31), price_unit=45.0, recurring_invoicing_type="post_paid"
        )
        for item in items:
            self.assertEqual(self._forecast(item), self._expected_forecast(item), item.name)
        self._assert_totals_equal_the_forecast()
        # a period due before today and not billed yet is invoiced by the next run: today
        missed = self.Forecast.search([("is_late", "=", True)])
        self.assertTrue(missed)
        self.assertEqual(set(missed.mapped("date")), {TODAY})
        # once billed, a period leaves the forecast; the next ones stay
        self.Run._run_now(self.company, TODAY)
        for item in items:
            self.assertEqual(self._forecast(item), self._expected_forecast(item, after=TODAY), item.name)
        self._assert_totals_equal_the_forecast()

    def test_forecast_after_a_cancelled_invoice(self):
        """A cancelled invoice puts its period back in the forecast; the periods
        billed after it stay out, in the list and in the totals."""
        item = self._create_recurring(date(2027, 1, 1), price_unit=100.0, partner_id=self.client_b.id)
        twin = self._create_recurring(date(2027, 1, 1), price_unit=100.0)
        january = self.Run._run_now(self.company, date(2027, 1, 1)).invoice_ids
        self.Run._run_now(self.company, date(2027, 2, 1))
        january.filtered(lambda move: move.partner_id == self.client_b).button_cancel()
        self.assertEqual(item.next_invoice_date, date(2027, 1, 1))
        starts = [row[0] for row in self._forecast(item)]
        self.assertEqual(starts[:3], [date(2027, 1, 1), date(2027, 3, 1), date(2027, 4, 1)])
        self.assertEqual(self._forecast(twin)[0][0], date(2027, 3, 1))
        self._assert_totals_equal_the_forecast()

    def test_one_off_items_by_their_dates(self):
        on_date = self._create_item(invoice_action="on_date", date_due=date(2027, 5, 20), price_unit=80.0)
        next_run = self._create_item(invoice_action="next_run", price_unit=60.0)
        late = self._create_item(invoice_action="on_date", date_due=date(2027, 3, 1), price_unit=15.0)
        beyond = self._create_item(invoice_action="on_date", date_due=date(2028, 6, 1), price_unit=11.0)
        held = self._create_item(invoice_action="hold", price_unit=13.0)
        rows = {row.item_id: (row.date, row.amount) for row in self.Forecast.search([])}
        self.assertEqual(
            rows,
            {on_date: (date(2027, 5, 20), 80.0), next_run: (TODAY, 60.0), late: (TODAY, 15.0)},
        )
        self.assertNotIn(beyond, rows)
        # the calendar shows each charge with its amount
        self.assertIn("80.00", self.Forecast.search([("item_id", "=", on_date.id)]).display_name)
        self.assertNotIn(held, rows)
        data = self._data()
        self.assertEqual(
            data["items"], {"count": 4, "amount": 166.0}, "every one-off item waiting, held aside"
        )
        self.assertEqual(data["upcoming"][0], {"days": 30, "amount": 75.0, "count": 2})
        self.assertEqual(data["upcoming"][1], {"days": 90, "amount": 155.0, "count": 3})
        self._assert_totals_equal_the_forecast()
        action = self.Overview.action_open("items")
        self.assertEqual(
            self.env[action["res_model"]].search(action["domain"]), on_date | next_run | late | beyond
        )

    def test_unbilled_equals_what_the_run_would_invoice(self):
        self.company.agency_time_product_id = self.product_hour
        project = self.env["project.project"].create({"name": "Shop", "partner_id": self.client_a.id})
        Line = self.env["account.analytic.line"]
        timesheets = Line.create(
            [
                {
                    "name": "Design",
                    "project_id": project.id,
                    "employee_id": self.employee.id,
                    "unit_amount": 2.5,
                    "date": date(2027, 3, 10),
                },
                {
                    "name": "Build",
                    "project_id": project.id,
                    "employee_id": self.employee.id,
                    "unit_amount": 1.25,
                    "date": date(2027, 3, 14),
                },
                {
                    "name": "Later",
                    "project_id": project.id,
                    "employee_id": self.employee.id,
                    "unit_amount": 4.0,
                    "date": date(2027, 3, 20),
                },
            ]
        )
        self._create_recurring(date(2027, 1, 1), price_unit=49.0)  # three months due, two missed
        self._create_recurring(
            date(2027, 3, 5), price_unit=30.0, recurring_rule_type="weekly", partner_id=self.client_b.id
        )
        self._create_item(invoice_action="next_invoice", price_unit=12.0, partner_id=self.client_b.id)
        self._create_item(invoice_action="on_date", date_due=date(2027, 4, 2), price_unit=500.0)
        data = self._data()
        run_says = self.Run._unbilled_amounts(self.company, TODAY, self.client_a | self.client_b)
        self.assertAlmostEqual(data["unbilled"]["amount"], sum(run_says.values()), places=2)
        self.assertEqual(data["unbilled"]["client_count"], 2)
        due_time = timesheets[:2]
        self.assertEqual(data["time"]["hours"], sum(due_time.mapped("agency_quantity")))
        self.assertAlmostEqual(
            data["time"]["amount"], sum(due_time.mapped("agency_amount_expected")), places=2
        )
        self.assertEqual(data["time"]["amount"], 375.0)
        summary = {
            row.partner_id: row.unbilled_amount
            for row in self.env["agency.billing.client.summary"].search([])
        }
        for client, amount in run_says.items():
            self.assertAlmostEqual(summary[self.env["res.partner"].browse(client)], amount, places=2)
        action = self.Overview.action_open("time")
        self.assertEqual(self.env[action["res_model"]].search(action["domain"]), due_time)
        # once the run billed it, nothing is unbilled
        self.Run._run_now(self.company, TODAY)
        data = self._data()
        self.assertEqual(data["unbilled"]["amount"], 0.0)
        self.assertEqual(data["time"]["hours"], 0.0)

    def test_last_run_and_clients_to_fix(self):
        self.assertFalse(self._data()["last_run"])
        item = self._create_item(price_unit=20.0)
        broken = self._create_item(partner_id=self.client_b.id, price_unit=10.0)
        broken.write({"billing_error": "The client has no address."})
        run = self.Run._run_now(self.company, TODAY, partners=self.client_a)
        data = self._data()
        self.assertEqual(data["last_run"]["id"], run.id)
        self.assertEqual(data["last_run"]["invoice_count"], 1)
        self.assertEqual(data["last_run"]["client_count"], 1)
        self.assertEqual(item.state, "done")
        self.assertEqual(data["to_fix"], {"item_count": 1, "client_count": 1})
        action = self.Overview.action_open("to_fix")
        self.assertEqual(self.env[action["res_model"]].search(action["domain"]), broken)
        self.assertEqual(self.Overview.action_open("last_run")["res_id"], run.id)


@tagged("post_install", "-at_install")
class TestOverviewAccess(AgencyBillingCase):
    def test_only_billing_users_open_the_overview(self):
        outsider = self._create_new_internal_user(login="outsider", groups="base.group_user")
        accountant = self._create_new_internal_user(
            login="accountant", groups="account.group_account_manager"
        )
        for user in (outsider, accountant):
            with self.assertRaises(AccessError):
                self.env["agency.billing.overview"].with_user(user).get_overview_data()
            with self.assertRaises(AccessError):
                self.env["agency.billing.overview"].with_user(user).action_open("open")
            for model in (
                "agency.billing.client.summary",
                "agency.billing.mrr",
                "agency.billing.trend",
                "agency.billing.forecast",
                "agency.billing.forecast.total",
            ):
                with self.assertRaises(AccessError):
                    self.env[model].with_user(user).search([])
            menu = self.env.ref("agency_billing.menu_agency_billing_overview")
            self.assertNotIn(menu.id, self.env["ir.ui.menu"].with_user(user).load_menus(False))
        for user in (self.billing_user, self.billing_manager):
            data = self.env["agency.billing.overview"].with_user(user).get_overview_data()
            self.assertEqual(data["company_id"], self.company.id)

    def test_billing_app_opens_on_the_overview(self):
        root = self.env.ref("agency_billing.menu_agency_billing_root")
        menus = self.env["ir.ui.menu"].with_user(self.billing_user).load_web_menus(False)
        self.assertEqual(
            menus[root.id]["actionID"], self.env.ref("agency_billing.agency_billing_overview_action").id
        )

    def test_portal_user_sees_only_its_own_forecast(self):
        portal = self._create_new_portal_user(login="acme_portal", partner_id=self.client_a_contact.id)
        mine = self._create_item(invoice_action="next_run", price_unit=10.0)
        self._create_item(invoice_action="next_run", price_unit=20.0, partner_id=self.client_b.id)
        self.assertEqual(self.env["agency.billing.forecast"].with_user(portal).search([]).item_id, mine)
        for model in ("agency.billing.client.summary", "agency.billing.mrr", "agency.billing.trend"):
            with self.assertRaises(AccessError):
                self.env[model].with_user(portal).search([])
        with self.assertRaises(AccessError):
            self.env["agency.billing.overview"].with_user(portal).get_overview_data()
