from . import report_agency_statement
