"""The server shows the library's own log lines (pages/_server.show_library_log)."""

import logging
import re

import pytest

from pages._server import show_library_log


@pytest.fixture
def library_logger():
    """The `infoif` logger as a fresh server finds it, restored afterwards."""
    logger = logging.getLogger("infoif")
    saved = logger.handlers[:], logger.level, logger.propagate
    logger.handlers, logger.level, logger.propagate = [], logging.NOTSET, True
    yield logger
    logger.handlers, logger.level, logger.propagate = saved


def test_the_services_decisions_reach_the_servers_log_with_a_time(library_logger, capfd):
    logging.getLogger("infoif.service").info("Moving run %s from worker %s to %s", "abc", "w0", "w1")
    assert "Moving run" not in capfd.readouterr().err  # before: Python's default shows warnings only

    show_library_log()
    show_library_log()  # a second call adds nothing: each line once
    logging.getLogger("infoif.service").info("Moving run %s from worker %s to %s", "abc", "w0", "w1")
    logging.getLogger("infoif.engine").debug("not shown")
    err = capfd.readouterr().err
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} INFO    infoif\.service: Moving run abc from worker "
                        r"w0 to w1\n", err), err


def test_a_host_that_configured_the_library_logger_keeps_its_configuration(library_logger):
    mine = logging.NullHandler()
    library_logger.addHandler(mine)
    show_library_log()
    assert library_logger.handlers == [mine] and library_logger.level == logging.NOTSET
