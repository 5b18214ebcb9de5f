"""The streamed-reply readers on their own: incremental JSON splitting and line reading."""

import pytest

from fluxpanel.fluxos.client import parse_upload_progress
from fluxpanel.fluxos.client.errors import BadResponse, FluxError, Unauthorized
from fluxpanel.fluxos.client.streams import _ValueSplitter, parse_log_poll


def test_it_splitter_handles_values_cut_anywhere():
    text = '{"status":"a \\"}{ quoted"}{"status":"b","n":[1,{"x":"}"}]} [1,2]{"status":"c"}'
    for cut in range(len(text)):
        splitter = _ValueSplitter()
        pieces = splitter.feed(text[:cut]) + splitter.feed(text[cut:])
        assert len(pieces) == 4
        assert splitter.buffer == ""


def test_it_log_poll_shapes():
    poll = parse_log_poll({"logs": ["2024-01-01T00:00:00.000000000Z hi"], "lineCount": 100,
                           "logCount": 1, "sinceTimestamp": "", "truncated": False,
                           "status": "success"}, "u")
    assert poll.last_timestamp == "2024-01-01T00:00:00.000000000Z"
    with pytest.raises(Unauthorized):
        parse_log_poll({"status": "error", "data": {"code": 401, "name": "Unauthorized",
                                                    "message": "Unauthorized. Access denied."}}, "u")
    with pytest.raises(FluxError):
        parse_log_poll({"status": "error", "data": {"message": "no such container"}}, "u")
    with pytest.raises(BadResponse):
        parse_log_poll({"status": "success", "data": []}, "u")


def test_it_upload_progress():
    reply = parse_upload_progress("[10,30][30,30]backup_web.tar.gz", "u")
    assert reply == {"progress": [[10, 30], [30, 30]], "name": "backup_web.tar.gz"}
    with pytest.raises(BadResponse):
        parse_upload_progress("", "u")
