"""Query budget of the billing run, per posted invoice.

Times are never asserted here (`make bench` measures speed); query counts are
stable. A run has a fixed cost (finding what is due, the journal, the run
record) and a cost per invoice: the test bills 20 clients, then 40 others,
and guards the difference — the cost of one more posted invoice of 10 lines —
at the measured figure with a small margin, so that a regression to per-line
or per-client queries fails.
"""

from datetime import date

from odoo.tests import freeze_time, tagged

from .common import AgencyBillingCase

LINES = 10
# measured: 4.6 queries per more posted invoice, 211 for a run of 20 clients (the
# layout snapshot at posting included)
QUERIES_PER_MORE_INVOICE = 5.5
QUERIES_FOR_20 = 230


@tagged("post_install", "-at_install")
@freeze_time("2027-03-10")
class TestBillingQueries(AgencyBillingCase):
    def _clients_with_items(self, count, tag):
        partners = self.env["res.partner"].create(
            [{"name": f"Client {tag} {n}", "is_company": True, "customer_rank": 1} for n in range(count)]
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
        return partners

    def _count_queries(self, partners):
        before = self.cr.sql_log_count
        run = self.Run._run_now(self.company, date(2027, 3, 10), partners=partners)
        self.env.flush_all()
        queries = self.cr.sql_log_count - before
        self.assertEqual(run.invoice_count, len(partners))
        self.assertEqual(set(run.invoice_ids.mapped("state")), {"posted"})
        self.assertEqual({len(move.invoice_line_ids) for move in run.invoice_ids}, {LINES})
        self.env.invalidate_all()
        return queries

    def test_queries_per_posted_invoice(self):
        # warm the caches Odoo fills once per process (reports, sequences, …)
        self._count_queries(self._clients_with_items(2, "warm"))
        small = self._count_queries(self._clients_with_items(20, "A"))
        large = self._count_queries(self._clients_with_items(40, "B"))
        per_more_invoice = (large - small) / 20
        self.assertLessEqual(per_more_invoice, QUERIES_PER_MORE_INVOICE, (small, large))
        self.assertLessEqual(small, QUERIES_FOR_20, (small, large))
