"""Suite-wide rules: a skipped test is a failed run.

Odoo skips browser tests silently when Chromium or websocket-client is missing;
here that, and any other skip, turns the run red with the reason.
"""

import pytest

# plain asserts of the shared helpers show what differs
pytest.register_assert_rewrite("tests.invoices", "tests.scratch")


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session, exitstatus):
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is None:
        return
    skipped = reporter.stats.get("skipped", [])
    if skipped:
        reporter.write_sep("=", f"{len(skipped)} skipped test(s): the suite must skip nothing", red=True)
        for report in skipped:
            reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else report.longrepr
            reporter.write_line(f"SKIPPED {report.nodeid}: {reason}")
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
