from odoo import models


class PaymentToken(models.Model):
    _inherit = "payment.token"

    def _agency_autopay_clients(self):
        """Clients whose automatic payment charges this payment method."""
        self.ensure_one()
        return (
            self.env["res.partner"]
            .sudo()
            .with_company(self.company_id)
            .search([("agency_autopay_token_id", "=", self.id)])
        )

    def _handle_archiving(self):
        """A removed payment method no longer pays anything automatically."""
        res = super()._handle_archiving()
        for token in self:
            clients = token._agency_autopay_clients()
            if not clients:
                continue
            clients.write({"agency_autopay": False, "agency_autopay_token_id": False})
            for client in clients:
                client.message_post(
                    body=self.env._(
                        "Automatic payment stopped: the payment method %(token)s was removed.",
                        token=token.display_name,
                    ),
                    subtype_xmlid="mail.mt_note",
                )
        return res

    def get_linked_records_info(self):
        """The portal warns before a client deletes the card it pays automatically with."""
        res = super().get_linked_records_info()
        for client in self._agency_autopay_clients():
            res.append(
                {
                    "description": self.env._("Automatic payment of the invoices of"),
                    "id": client.id,
                    "name": client.name,
                    "url": "/my/transactions",
                }
            )
        return res
