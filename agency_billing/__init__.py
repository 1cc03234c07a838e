from . import controllers
from . import models
from . import wizards
from . import report


def _post_init_hook(env):
    """Installed on a database that already has timesheets: bill only the time logged from today.

    Time logged before the addon existed is never billed by surprise; the
    agency moves the date back in Settings to bill older time on purpose.
    """
    from odoo import fields

    groups = env["account.analytic.line"]._read_group([("project_id", "!=", False)], groupby=["company_id"])
    for (company,) in groups:
        if not company.agency_time_bill_from:  # demo data may have set it
            company.agency_time_bill_from = fields.Date.context_today(env["res.users"].with_company(company))
