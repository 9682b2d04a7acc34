"""The whole suite fails on a template variable the view did not pass (issue 11: a
worklist rendered no line for weeks because its template read a variable no one passed)."""

import tomllib
from pathlib import Path

import pytest
from django.template import engines


def test_an_undefined_template_variable_fails_the_test_that_renders_it():
    template = engines["django"].from_string("<p>{{ shown.ready }}</p>")

    with pytest.raises(pytest.fail.Exception, match="Undefined template variable 'shown.ready'"):
        template.render({"groups": {}})


def test_the_check_is_on_for_the_whole_suite():
    pyproject = tomllib.loads((Path(__file__).parents[1] / "pyproject.toml").read_text())

    assert "--fail-on-template-vars" in pyproject["tool"]["pytest"]["ini_options"]["addopts"]
