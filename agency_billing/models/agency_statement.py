import base64
from collections import defaultdict

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.fields import Domain
from odoo.tools.misc import format_date

from .. import documents

STATEMENT_REPORT = "agency_billing.report_statement_main"


class AgencyStatement(models.Model):
    """One statement of account made for a client: its period, closing
    balance, PDF and what became of it (sent, printed, not sent)."""

    _name = "agency.statement"
    _description = "Client Statement"
    _inherit = ["mail.thread"]
    _order = "date_to desc, id desc"

    name = fields.Char(compute="_compute_name", store=True)
    partner_id = fields.Many2one("res.partner", string="Client", required=True, readonly=True, index=True)
    company_id = fields.Many2one("res.company", required=True, readonly=True, index=True)
    date_from = fields.Date(string="From", required=True, readonly=True)
    date_to = fields.Date(string="To", required=True, readonly=True)
    run_id = fields.Many2one(
        "agency.statement.run", string="Statement Run", readonly=True, ondelete="cascade"
    )
    user_id = fields.Many2one("res.users", string="By", readonly=True, default=lambda self: self.env.user)
    state = fields.Selection(documents.STATEMENT_STATES, required=True, readonly=True)
    currency_id = fields.Many2one(related="company_id.currency_id")
    balance = fields.Monetary(
        string="Closing Balance",
        readonly=True,
        help="What the client owes at the end of the period, in the company's currency "
        "(negative: in the client's favour).",
    )
    balance_details = fields.Char(
        string="Per Currency", readonly=True, help="The closing balance in each currency of the statement."
    )
    attachment_id = fields.Many2one("ir.attachment", string="PDF", readonly=True)
    email_to = fields.Char(string="Sent To", readonly=True)
    date_sent = fields.Datetime(string="Sent On", readonly=True)
    error = fields.Text(readonly=True)

    _run_client_once = models.UniqueIndex(
        "(run_id, partner_id) WHERE run_id IS NOT NULL",
        "A statement run makes one statement per client.",
    )

    @api.depends("partner_id", "date_from", "date_to")
    def _compute_name(self):
        for statement in self:
            statement.name = self.env._(
                "%(client)s, %(start)s to %(end)s",
                client=statement.partner_id.name or "",
                start=format_date(self.env, statement.date_from),
                end=format_date(self.env, statement.date_to),
            )

    # ------------------------------------------------------------------
    # ACTIONS
    # ------------------------------------------------------------------
    def action_download(self):
        self.ensure_one()
        if not self.attachment_id:
            raise UserError(self.env._("This statement has no PDF: it could not be made."))
        return {
            "type": "ir.actions.act_url",
            "url": f"/web/content/{self.attachment_id.id}?download=true",
            "target": "download",
        }

    # ------------------------------------------------------------------
    # FIGURES
    # ------------------------------------------------------------------
    @api.model
    def _check_period(self, date_from, date_to):
        if not date_from or not date_to:
            raise UserError(self.env._("A statement needs a start date and an end date."))
        if date_from > date_to:
            raise UserError(
                self.env._(
                    "The statement's start date (%(start)s) is after its end date (%(end)s): "
                    "swap them or pick another period.",
                    start=format_date(self.env, date_from),
                    end=format_date(self.env, date_to),
                )
            )

    @api.model
    def _receivable_domain(self, clients, company):
        """The journal items a statement is made of: posted, on a receivable
        account, of the company, for the clients or any of their contacts."""
        return Domain(
            [
                ("company_id", "=", company.id),
                ("parent_state", "=", "posted"),
                ("account_id.account_type", "=", "asset_receivable"),
                ("partner_id.commercial_partner_id", "in", clients.ids),
            ]
        )

    @api.model
    def _get_statement_values(self, partners, company, date_from, date_to):
        """{client id: statement values} of clients for one company and period.

        Every amount is Odoo's own (journal items, partial reconciliations);
        this only adds them up, per currency of the journal items:

        - ``opening``: the balance of everything before ``date_from``;
        - ``lines``: one per document in the period (invoice, credit note,
          payment, refund, other entry), with the running balance and, for a
          payment or credit note, what it was applied to in the period;
        - ``closing``: ``opening`` plus the period, i.e. the balance at ``date_to``;
        - ``open_items`` and ``aging``: what was still open at ``date_to``
          (as of that date: later payments do not count) by days past due.

        ``company_balance`` is the closing balance in the company's currency,
        the figure Odoo reports as the client's receivable.
        """
        self._check_period(date_from, date_to)
        clients = partners.commercial_partner_id
        AML = self.env["account.move.line"].with_company(company).with_context(active_test=False)
        base = self._receivable_domain(clients, company)
        client_of = {}  # partner id (client or contact) → client

        def client(partner):
            if partner.id not in client_of:
                client_of[partner.id] = partner.commercial_partner_id
            return client_of[partner.id]

        # {client: {currency: section}}
        sections = defaultdict(dict)
        company_balance = defaultdict(float)

        def section(partner, currency):
            sections_of = sections[client(partner)]
            if currency not in sections_of:
                sections_of[currency] = {
                    "currency": currency,
                    "opening": 0.0,
                    "lines": [],
                    "charges": 0.0,
                    "credits": 0.0,
                    "open_items": [],
                    "aging": dict.fromkeys(documents.AGING_BUCKETS, 0.0),
                }
            return sections_of[currency]

        # opening balances
        for partner, currency, amount_currency, balance in AML._read_group(
            base & Domain("date", "<", date_from),
            groupby=["partner_id", "currency_id"],
            aggregates=["amount_currency:sum", "balance:sum"],
        ):
            section(partner, currency)["opening"] += amount_currency
            company_balance[client(partner)] += balance

        # the period, one line per document and currency
        lines = AML.search_fetch(
            base & Domain("date", ">=", date_from) & Domain("date", "<=", date_to),
            ["date", "move_id", "currency_id", "amount_currency", "balance", "date_maturity", "partner_id"],
            order="date, move_name, id",
        )
        documents_of = {}  # (client, currency, move) → row
        for line in lines:
            company_balance[client(line.partner_id)] += line.balance
            if line.currency_id.is_zero(line.amount_currency):
                continue  # an exchange difference: only the company's currency sees it
            key = (client(line.partner_id), line.currency_id, line.move_id)
            row = documents_of.get(key)
            if row is None:
                row = documents_of[key] = self._prepare_statement_line(line)
                section(line.partner_id, line.currency_id)["lines"].append(row)
            row["amount"] += line.amount_currency
            row["journal_items"] |= line
        for row in documents_of.values():
            self._add_applied(row, date_from, date_to)

        # what was open at the end date
        open_lines = AML.search(
            base
            & Domain("date", "<=", date_to)
            & (
                Domain("reconciled", "=", False)
                | Domain("matched_debit_ids.max_date", ">", date_to)
                | Domain("matched_credit_ids.max_date", ">", date_to)
            ),
            order="date_maturity, date, move_name, id",
        )
        for line in open_lines:
            residual = line.amount_residual_currency
            # a reconciliation after the end date had not happened yet then
            residual += sum(p.debit_amount_currency for p in line.matched_credit_ids if p.max_date > date_to)
            residual -= sum(p.credit_amount_currency for p in line.matched_debit_ids if p.max_date > date_to)
            if line.currency_id.is_zero(residual):
                continue
            due = line.date_maturity or line.date
            bucket = documents.aging_bucket(due, date_to)
            sec = section(line.partner_id, line.currency_id)
            sec["aging"][bucket] += residual
            sec["open_items"].append(
                {
                    "move": line.move_id,
                    "kind": self._document_kind(line.move_id),
                    "reference": line.move_id.name,
                    "date": line.date,
                    "date_due": due,
                    "days_overdue": max((date_to - due).days, 0),
                    "amount": line.amount_currency,
                    "residual": residual,
                }
            )

        result = {}
        for partner in clients:
            partner_sections = sections.get(partner) or {}
            if not partner_sections:
                section(partner, company.currency_id)
                partner_sections = sections[partner]
            ordered = sorted(
                partner_sections.values(),
                key=lambda s: (s["currency"] != company.currency_id, s["currency"].name),
            )
            for sec in ordered:
                self._finish_section(sec)
            result[partner.id] = {
                "partner": partner,
                "company": company,
                "date_from": date_from,
                "date_to": date_to,
                "sections": ordered,
                "company_currency": company.currency_id,
                "company_balance": company.currency_id.round(company_balance.get(partner, 0.0)),
                "is_multi_currency": len(ordered) > 1 or ordered[0]["currency"] != company.currency_id,
            }
        return result

    @api.model
    def _document_kind(self, move):
        """What a document is to the client (the statements print it in its language)."""
        if move.move_type == "out_invoice":
            return "invoice"
        if move.move_type == "out_refund":
            return "credit_note"
        if move.move_type == "out_receipt":
            return "receipt"
        if move.origin_payment_id:
            return "refund" if move.origin_payment_id.payment_type == "outbound" else "payment"
        if move.journal_id == move.company_id.currency_exchange_journal_id:
            return "exchange"
        return "entry"

    @api.model
    def _prepare_statement_line(self, line):
        move = line.move_id
        if move.is_invoice(include_receipts=True):
            description = move.ref or ""
        elif move.origin_payment_id:
            description = move.origin_payment_id.memo or move.ref or ""
        else:
            description = move.ref or ""
        return {
            "move": move,
            "date": line.date,
            "kind": self._document_kind(move),
            "reference": move.name,
            "description": description,
            "date_due": move.invoice_date_due if move.is_invoice(include_receipts=True) else False,
            "amount": 0.0,
            "journal_items": self.env["account.move.line"],
            "applied": [],
        }

    @api.model
    def _add_applied(self, row, date_from, date_to):
        """What a payment or credit note was applied to in the period (its
        reconciliations): shown under it, it changes no balance."""
        for line in row["journal_items"]:
            partials = line.matched_debit_ids if row["amount"] < 0 else line.matched_credit_ids
            for partial in partials:
                if not (date_from <= partial.max_date <= date_to):
                    continue
                other = partial.debit_move_id if row["amount"] < 0 else partial.credit_move_id
                amount = (
                    partial.credit_amount_currency if row["amount"] < 0 else partial.debit_amount_currency
                )
                if other.move_id == row["move"] or line.currency_id.is_zero(amount):
                    continue
                row["applied"].append(
                    {"move": other.move_id, "reference": other.move_id.name, "amount": amount}
                )

    @api.model
    def _finish_section(self, sec):
        currency = sec["currency"]
        balance = currency.round(sec["opening"])
        sec["opening"] = balance
        for row in sec["lines"]:
            amount = currency.round(row["amount"])
            row["amount"] = amount
            row["debit"] = amount if amount > 0 else 0.0
            row["credit"] = -amount if amount < 0 else 0.0
            sec["charges"] += row["debit"]
            sec["credits"] += row["credit"]
            balance = currency.round(balance + amount)
            row["balance"] = balance
        sec["charges"] = currency.round(sec["charges"])
        sec["credits"] = currency.round(sec["credits"])
        sec["closing"] = balance
        sec["aging"] = {bucket: currency.round(amount) for bucket, amount in sec["aging"].items()}
        for item in sec["open_items"]:
            item["residual"] = currency.round(item["residual"])

    # ------------------------------------------------------------------
    # PDF AND EMAIL
    # ------------------------------------------------------------------
    @api.model
    def _render_pdf(self, partner, company, date_from, date_to, values=None):
        """The statement's PDF (bytes) of one client, one wkhtmltopdf run."""
        data = {
            "date_from": fields.Date.to_string(date_from),
            "date_to": fields.Date.to_string(date_to),
            "company_id": company.id,
        }
        if values is not None:
            data["statement_values"] = {partner.id: values}
        content, _report_type = (
            self.env["ir.actions.report"]
            .with_company(company)
            ._render_qweb_pdf(STATEMENT_REPORT, [partner.id], data=data)
        )
        return content

    @api.model
    def _filename(self, partner, date_to):
        return "{}.pdf".format(
            self.env._(
                "Statement %(client)s %(date)s",
                client=partner.name or "",
                date=fields.Date.to_string(date_to),
            ).replace("/", "_")
        )

    @api.model
    def _get_recipient(self, partner):
        """Who receives a client's statement: its invoice address, else the client."""
        invoice_contact = self.env["res.partner"].browse(partner.address_get(["invoice"])["invoice"])
        for candidate in (invoice_contact, partner):
            if candidate.email:
                return candidate
        return self.env["res.partner"]

    @api.model
    def _make(self, partner, company, date_from, date_to, values, *, run=None):
        """Make one client's statement and queue its email; returns the record
        (not sent, with its PDF, when the client has no email address)."""
        content = self._render_pdf(partner, company, date_from, date_to, values=values)
        recipient = self._get_recipient(partner)
        state = documents.STATEMENT_SENT if recipient else documents.STATEMENT_NO_EMAIL
        statement = self.with_context(mail_create_nolog=True, mail_create_nosubscribe=True).create(
            {
                "partner_id": partner.id,
                "company_id": company.id,
                "date_from": date_from,
                "date_to": date_to,
                "run_id": run.id if run else False,
                "state": state,
                "balance": values["company_balance"],
                "balance_details": self._format_balances(values),
                "email_to": recipient.email if recipient else False,
            }
        )
        statement.attachment_id = self.env["ir.attachment"].create(
            {
                "name": self._filename(partner, date_to),
                "datas": base64.b64encode(content),
                "mimetype": "application/pdf",
                "res_model": self._name,
                "res_id": statement.id,
            }
        )
        if state == documents.STATEMENT_SENT:
            statement._send(recipient)
        return statement

    @api.model
    def _format_balances(self, values):
        from odoo.tools.misc import formatLang

        return ", ".join(
            formatLang(self.env, sec["closing"], currency_obj=sec["currency"]) for sec in values["sections"]
        )

    def _send(self, recipient):
        """Queue the statement's email (Odoo's mail queue sends it)."""
        self.ensure_one()
        template = self.env.ref("agency_billing.mail_template_statement")
        subject = template._render_field("subject", self.ids, compute_lang=True)[self.id]
        body = template._render_field("body_html", self.ids, compute_lang=True)[self.id]
        self.with_context(mail_notify_force_send=False).message_post(
            body=body,
            subject=subject,
            partner_ids=recipient.ids,
            attachment_ids=self.attachment_id.ids,
            message_type="comment",
            subtype_xmlid="mail.mt_comment",
            email_layout_xmlid="mail.mail_notification_light",
        )
        self.date_sent = fields.Datetime.now()
