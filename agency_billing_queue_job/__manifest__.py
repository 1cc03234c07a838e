{
    "name": "Agency Billing: batches as queue_job jobs",
    "version": "19.0.1.0.0",
    "summary": "Each batch of a billing run becomes a job of OCA queue_job, spread over every server",
    "category": "Accounting/Accounting",
    "author": "agency_billing developers",
    "website": "https://github.com/agency-billing/agency_billing",
    "license": "LGPL-3",
    "depends": ["agency_billing", "queue_job"],
    "data": ["data/queue_job_data.xml", "views/agency_billing_run_views.xml"],
    "auto_install": True,
    "installable": True,
}
