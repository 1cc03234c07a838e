{
    "name": "Agency Billing: setup fees (test addon)",
    "version": "19.0.1.0.0",
    "summary": "A charge source of its own, as another addon would add one: the suite's proof of the extension point",
    "author": "agency_billing developers",
    "license": "LGPL-3",
    "depends": ["agency_billing"],
    "data": ["security/ir.model.access.csv"],
    "installable": True,
}
