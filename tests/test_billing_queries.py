"""Query budget of the billing run: at most 25 SQL queries per posted invoice.

Times are never asserted here (`make bench` measures speed); query counts are
stable, so a regression to per-line or per-client queries fails this test.
"""

from datetime import date

from odoo.tests import freeze_time, tagged

from .common import AgencyBillingCase

CLIENTS = 20
LINES = 10
QUERIES_PER_INVOICE = 25


@tagged("post_install", "-at_install")
@freeze_time("2027-03-10")
class TestBillingQueries(AgencyBillingCase):
    def test_queries_per_posted_invoice(self):
        partners = self.env["res.partner"].create(
            [{"name": f"Client {n}", "is_company": True, "customer_rank": 1} for n in range(CLIENTS)]
        )
        self.Item.create(
            [
                {
                    "name": f"Service {n}",
                    "partner_id": partner.id,
                    "product_id": self.product_hosting.id,
                    "price_unit": 10.0 + n,
                    "invoice_action": "recurring",
                    "date_start": date(2027, 3, 1),
                }
                for partner in partners
                for n in range(LINES)
            ]
        )
        self.env.flush_all()
        self.env.invalidate_all()
        with self.assertQueryCount(QUERIES_PER_INVOICE * CLIENTS):
            run = self.Run._run_now(self.company, date(2027, 3, 10))
            self.env.flush_all()
        self.assertEqual(run.invoice_count, CLIENTS)
        self.assertEqual(set(run.invoice_ids.mapped("state")), {"posted"})
        self.assertEqual({len(move.invoice_line_ids) for move in run.invoice_ids}, {LINES})
