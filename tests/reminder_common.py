"""Fixtures of the reminder, late-fee and overdue-alert tests."""

from contextlib import contextmanager, nullcontext
from datetime import date

from odoo import Command, fields
from odoo.tests import freeze_time

from .common import AgencyBillingCase, AgencyBillingHttpCase


class ReminderMixin:
    """A company plan of four levels, and posted invoices with chosen due dates.

    Levels: "Payment reminder" 3 days before the due date, "First reminder"
    7 days after (fixed fee 10.00), "Second reminder" 14 days after (10 % of
    the amount due, at least 5.00, at most 50.00), "Final notice" 30 days
    after (a call for the client's salesperson, a statement attached).
    """

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Reminder = cls.env["agency.reminder"]
        cls.ReminderRun = cls.env["agency.reminder.run"]
        cls.fee_product = cls.env.ref("agency_billing.product_late_fee")
        cls.template_before = cls.env.ref("agency_billing.mail_template_reminder_before_due")
        cls.template_overdue = cls.env.ref("agency_billing.mail_template_reminder_overdue")
        cls.template_final = cls.env.ref("agency_billing.mail_template_reminder_final")
        cls.plan = cls.env["agency.reminder.plan"].create(
            {
                "name": "Agency reminders",
                "company_id": cls.company.id,
                "level_ids": [
                    Command.create(
                        {
                            "name": "Payment reminder",
                            "days": -3,
                            "mail_template_id": cls.template_before.id,
                            "attach_invoices": False,
                        }
                    ),
                    Command.create(
                        {
                            "name": "First reminder",
                            "days": 7,
                            "mail_template_id": cls.template_overdue.id,
                            "attach_invoices": False,
                            "fee_type": "fixed",
                            "fee_fixed": 10.0,
                            "fee_product_id": cls.fee_product.id,
                        }
                    ),
                    Command.create(
                        {
                            "name": "Second reminder",
                            "days": 14,
                            "mail_template_id": cls.template_overdue.id,
                            "attach_invoices": True,
                            "fee_type": "percent",
                            "fee_percent": 10.0,
                            "fee_min": 5.0,
                            "fee_max": 50.0,
                            "fee_product_id": cls.fee_product.id,
                        }
                    ),
                    Command.create(
                        {
                            "name": "Final notice",
                            "days": 30,
                            "mail_template_id": cls.template_final.id,
                            "attach_invoices": False,
                            "attach_statement": True,
                            "activity_type_id": cls.env.ref("mail.mail_activity_data_call").id,
                            "activity_summary": "Call about the unpaid invoices",
                        }
                    ),
                ],
            }
        )
        cls.level_before, cls.level_first, cls.level_second, cls.level_final = cls.plan.level_ids.sorted(
            "days"
        )
        cls.company.agency_reminder_plan_id = cls.plan
        cls.company.email = "accounts@agency.example.com"
        cls.reminder_cron = cls.env.ref("agency_billing.ir_cron_agency_send_reminders")
        cls.digest_cron = cls.env.ref("agency_billing.ir_cron_agency_overdue_digest")

    @classmethod
    def _invoice(
        cls, partner=None, amount=100.0, *, due=date(2027, 3, 1), invoice_date=None, currency=None, post=True
    ):
        """A customer invoice of one untaxed line, due on ``due`` (no payment terms)."""
        partner = partner or cls.client_a
        vals = {
            "move_type": "out_invoice",
            "partner_id": partner.id,
            "company_id": cls.company.id,
            "invoice_date": invoice_date or due,
            "invoice_date_due": due,
            "invoice_payment_term_id": False,
            "invoice_line_ids": [
                Command.create(
                    {
                        "name": "Website work",
                        "quantity": 1,
                        "price_unit": amount,
                        "tax_ids": [Command.clear()],
                    }
                )
            ],
        }
        if currency:
            vals["currency_id"] = currency.id
        move = cls.env["account.move"].with_company(cls.company).create(vals)
        if post:
            move.action_post()
        return move

    @contextmanager
    def assertRefused(self, exception, regex):
        """assertRaisesRegex, rolled back to a savepoint as Odoo's assertRaises is."""
        with self.assertRaises(exception) as caught:
            yield caught
        self.assertRegex(str(caught.exception), regex)

    def _pay(self, invoice, amount=None):
        """Register a payment the way an accountant does (Odoo's payment wizard)."""
        wizard = (
            self.env["account.payment.register"]
            .with_context(active_model="account.move", active_ids=invoice.ids)
            .create({"amount": amount or invoice.amount_residual, "payment_date": fields.Date.today()})
        )
        return wizard._create_payments()

    def _run_reminders(self, on):
        """The daily reminder cron, as Odoo's scheduler runs it, on a given day."""
        with freeze_time(on), self._cron_cursor():
            result = self.reminder_cron.method_direct_trigger()
        self.assertIs(result, True, f"the reminder cron failed: {result}")
        self.env.invalidate_all()

    def _cron_cursor(self):
        """Crons open cursors of their own: in a test they must share the test's."""
        return self.enter_registry_test_mode()

    def _reminders(self, partner=None, level=None):
        domain = [("company_id", "=", self.company.id)]
        if partner:
            domain.append(("partner_id", "=", partner.id))
        if level:
            domain.append(("level_id", "=", level.id))
        return self.Reminder.search(domain)

    def _email(self, reminder):
        """The email of a reminder: its message and the mail queued for it."""
        message = reminder.message_ids.filtered(lambda m: m.message_type == "comment")
        self.assertEqual(len(message), 1, "one email per reminder")
        mail = self.env["mail.mail"].sudo().search([("mail_message_id", "=", message.id)])
        return message, mail


class ReminderCase(ReminderMixin, AgencyBillingCase):
    pass


class ReminderHttpCase(ReminderMixin, AgencyBillingHttpCase):
    def _cron_cursor(self):
        return nullcontext()  # an HttpCase always is in registry test mode
