"""The log keeps real errors visible: a refused request is one warning line, not a traceback."""
import logging

from django.urls import reverse


def test_it_logs_a_forbidden_request_as_one_line_without_traceback(client_as, caplog):
    viewer = client_as("viewer")
    with caplog.at_level(logging.WARNING, logger="django.request"):
        response = viewer.post(reverse("nodes:sweep_now"))
    assert response.status_code == 403
    records = [record for record in caplog.records if record.name == "django.request"]
    assert len(records) == 1
    assert records[0].getMessage().startswith("Forbidden")
    assert records[0].exc_info is None and records[0].exc_text is None
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(message)s"))
    assert "Traceback" not in handler.format(records[0])


def test_it_keeps_the_traceback_of_a_server_error():
    from fluxpanel.logfilters import ClientErrorsWithoutTraceback

    try:
        raise RuntimeError("boom")
    except RuntimeError:
        import sys
        record = logging.LogRecord("django.request", logging.ERROR, __file__, 1, "Internal Server Error",
                                   (), sys.exc_info())
    record.status_code = 500
    assert ClientErrorsWithoutTraceback().filter(record) is True
    assert record.exc_info is not None
