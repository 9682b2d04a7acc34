"""Hypothesis feeds arbitrary outside input to every parser of it: every form of every
`cocm.*.forms` module, every API input schema and the pages that read posted data. A parser
may refuse input; it may never fail with anything but a validation error."""

import importlib
import inspect
import pkgutil
from datetime import date
from urllib.parse import quote

import pydantic
import pytest
from django import forms
from django.http import QueryDict
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ninja import Schema

import cocm
from cocm.accounts.models import Role
from cocm.api import schemas
from cocm.domain.instruments import get_instrument
from cocm.domain.surveys import get_survey
from cocm.measures import services as measures_services
from tests import factories

pytestmark = pytest.mark.django_db
FUZZ = settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)

# Text a form might get from a browser or a script: anything, and near-miss values.
hostile_text = st.one_of(
    st.text(max_size=60),
    st.sampled_from(
        [
            "",
            " ",
            "0",
            "-1",
            "99999999999999999999",
            "2026-02-30",
            "2026-13-01",
            "1e9",
            "F32.1",
            "Z99.999",
            "<script>",
            "'; DROP TABLE x; --",
            "\x00",
            "NaN",
            "☃" * 40,
        ]
    ),
    st.integers().map(str),
    st.dates().map(date.isoformat),
)
field_value = st.one_of(hostile_text, st.lists(hostile_text, max_size=4))


def form_classes() -> list[type[forms.BaseForm]]:
    found: dict[str, type[forms.BaseForm]] = {}
    for module_info in pkgutil.walk_packages(cocm.__path__, "cocm."):
        if not module_info.name.endswith(".forms"):
            continue
        module = importlib.import_module(module_info.name)
        for name, value in vars(module).items():
            if (
                inspect.isclass(value)
                and issubclass(value, forms.BaseForm)
                and value.__module__ == module.__name__
            ):
                found[f"{module.__name__}.{name}"] = value
    return [found[key] for key in sorted(found)]


FORMS = form_classes()


@pytest.fixture
def context():
    clinic = factories.clinic()
    user = factories.user(Role.CARE_MANAGER, clinic)
    return {
        "user": user,
        "episode": factories.episode(clinic, user),
        "organization": clinic.organization,
        "clinic": clinic,
        "instrument": get_instrument("PHQ-9"),
        "instruments": [get_instrument("PHQ-9"), get_instrument("GAD-7")],
        "language": "en",
        "missing": "Please answer.",
        "guardians": [],
        # Each recommendation's answer is ReviewAnswerForm, fuzzed on its own.
        "recommendations": [],
        "survey": get_survey("patient-satisfaction"),
        "patient": factories.patient(clinic.organization),
    }


def posted(data: dict) -> QueryDict:
    """The data as Django receives a form post: every key may repeat."""
    query = QueryDict(mutable=True)
    for key, value in data.items():
        query.setlist(key, value if isinstance(value, list) else [value])
    return query


def build(form_class, data, context):  # type: ignore[no-untyped-def]
    needed = {
        name
        for klass in form_class.__mro__
        if "__init__" in vars(klass)
        for name, parameter in inspect.signature(klass.__init__).parameters.items()
        if parameter.kind is parameter.KEYWORD_ONLY
    }
    unknown = needed - set(context)
    assert not unknown, f"{form_class.__name__} needs {unknown}: add them to context()"
    return form_class(data, **{name: context[name] for name in needed})


def test_it_finds_the_forms_of_every_app():
    names = {form.__name__ for form in FORMS}

    assert {"PatientForm", "StatusForm", "AssessmentForm", "BreakGlassForm"} <= names


@pytest.mark.parametrize("form_class", FORMS, ids=[form.__name__ for form in FORMS])
def test_every_form_refuses_or_accepts_arbitrary_input_without_failing(form_class, context):
    field_names = list(build(form_class, None, context).fields)
    data_strategy = st.fixed_dictionaries(
        {},
        optional={name: field_value for name in field_names}
        | {f"{name}-extra": hostile_text for name in field_names[:2]},
    )

    @FUZZ
    @given(data=data_strategy)
    def check(data):  # type: ignore[no-untyped-def]
        form = build(form_class, posted(data), context)
        if form.is_valid():
            assert set(form.cleaned_data) <= set(form.fields)
        else:
            assert form.errors

    check()


def api_schemas() -> list[type[Schema]]:
    return [
        value
        for name, value in sorted(vars(schemas).items())
        if inspect.isclass(value) and issubclass(value, Schema) and name.endswith("In")
    ]


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | hostile_text,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=12,
)


@pytest.mark.parametrize("schema", api_schemas(), ids=lambda schema: schema.__name__)
def test_every_api_input_schema_refuses_or_accepts_arbitrary_json(schema):
    fields = list(schema.model_fields)
    payloads = st.one_of(
        json_values,
        st.fixed_dictionaries({}, optional={name: json_values for name in fields}),
    )

    @FUZZ
    @given(payload=payloads)
    def check(payload):  # type: ignore[no-untyped-def]
        try:
            parsed = schema.model_validate(payload)
        except pydantic.ValidationError as error:
            # A refusal says what is wrong and where: a field of the schema or a key sent
            # (or the whole body). The API's 422 names the fields from this.
            sent = set(payload) if isinstance(payload, dict) else set()
            details = error.errors()
            assert details
            for detail in details:
                assert detail["msg"]
                assert not detail["loc"] or detail["loc"][0] in set(fields) | sent, detail
        else:
            # What is accepted is kept as given: it reads back the same.
            assert schema.model_validate(parsed.model_dump()) == parsed

    check()


def test_patient_registration_never_fails_on_arbitrary_posts():
    clinic = factories.clinic()
    client = Client()
    client.force_login(factories.user(Role.CARE_MANAGER, clinic))
    fields = [
        "mrn",
        "given_name",
        "family_name",
        "birth_date",
        "sex",
        "preferred_language",
        "phone",
        "email",
        "payer_kind",
        "coverage_starts_on",
    ]

    @FUZZ
    @given(data=st.fixed_dictionaries({}, optional={name: hostile_text for name in fields}))
    def check(data):  # type: ignore[no-untyped-def]
        response = client.post(reverse("register_patient"), data)
        assert response.status_code in (200, 302)

    check()


def test_the_self_report_link_never_fails_on_arbitrary_tokens_and_answers():
    clinic = factories.clinic()
    care_manager = factories.user(Role.CARE_MANAGER, clinic)
    episode = factories.episode(clinic, care_manager, consent_on=date(2026, 9, 2))
    episode.patient.email = "patient@example.org"
    episode.patient.save()
    measures_services.send_invitation(
        episode, ["PHQ-9"], channel="email", by=care_manager, now=timezone.now()
    )
    client = Client()
    answers = st.fixed_dictionaries(
        {}, optional={f"PHQ-9-item_{n}": hostile_text for n in range(1, 10)}
    )

    @FUZZ
    @given(
        token=st.text(alphabet=st.characters(blacklist_categories=["Cs"]), max_size=80),
        data=answers,
    )
    def check(token, data):  # type: ignore[no-untyped-def]
        response = client.post(f"/r/{quote(token, safe='') or 'x'}/", data)
        assert response.status_code in (200, 404, 410, 429)

    check()
