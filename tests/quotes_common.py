"""Quotes for the suite: service products (one recurring), a quote builder."""

from odoo import Command
from odoo.exceptions import UserError

from .common import AgencyBillingCase, AgencyBillingHttpCase


class QuoteFixtures:
    """Mixed into the suite's base classes: products and quotes of the agency's own."""

    @classmethod
    def _setup_quote_fixtures(cls):
        cls.product_build = cls._create_product(
            name="Website build",
            type="service",
            lst_price=5000.0,
            invoice_policy="order",
            taxes_id=[Command.set(cls.tax_sale_a.ids)],
        )
        cls.product_seo = cls._create_product(
            name="SEO audit",
            type="service",
            lst_price=800.0,
            invoice_policy="order",
            taxes_id=[Command.set(cls.tax_sale_a.ids)],
        )
        cls.product_care = cls._create_product(
            name="Website care plan",
            type="service",
            lst_price=49.0,
            invoice_policy="order",
            taxes_id=[Command.set(cls.tax_sale_a.ids)],
            agency_is_recurring=True,
            agency_recurring_interval=1,
            agency_recurring_rule_type="monthly",
        )
        cls.SaleOrder = cls.env["sale.order"]
        cls.Charge = cls.env["agency.quote.charge"]
        cls.Acceptance = cls.env["agency.quote.acceptance"]

    @classmethod
    def _create_quote(cls, lines=None, partner=None, **values):
        """A quote for Acme Bakery: the build (5,000.00 + 15 %) unless told otherwise.

        ``lines``: [(product, quantity)] or [(product, quantity, price)].
        """
        lines = lines if lines is not None else [(cls.product_build, 1)]
        order_lines = []
        for line in lines:
            product, quantity = line[0], line[1]
            vals = {"product_id": product.id, "product_uom_qty": quantity}
            if len(line) > 2:
                vals["price_unit"] = line[2]
            order_lines.append(Command.create(vals))
        return cls.SaleOrder.create(
            {
                "partner_id": (partner or cls.client_a).id,
                "order_line": order_lines,
                **values,
            }
        )

    def _order_invoices(self, order):
        return order.invoice_ids.filtered(lambda m: m.state != "cancel").sorted("id")

    def assertNothingLeftForOdoo(self, order):
        """Odoo's own invoicing finds nothing to invoice on the order."""
        order.invalidate_recordset()
        self.assertEqual(order.invoice_status, "invoiced")
        self.assertFalse(order._get_invoiceable_lines(final=True).filtered(lambda sol: not sol.display_type))
        self.assertAlmostEqual(order.amount_to_invoice, 0.0)
        wizard = (
            self.env["sale.advance.payment.inv"]
            .with_context(active_ids=order.ids)
            .create({"sale_order_ids": [Command.set(order.ids)]})
        )
        count = len(order.invoice_ids)
        with self.assertRaises(UserError):  # "nothing to invoice"
            wizard.create_invoices()
        self.assertEqual(len(order.invoice_ids), count, "Odoo's Create Invoice made nothing")


class AgencyQuoteCase(QuoteFixtures, AgencyBillingCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._setup_quote_fixtures()


class AgencyQuoteHttpCase(QuoteFixtures, AgencyBillingHttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._setup_quote_fixtures()
