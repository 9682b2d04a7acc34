import json

import pytest
from django.core.management import CommandError, call_command

from cocm.interop.models import ImportedResource
from cocm.registry.models import Patient
from tests.interop.conftest import DECK, fhir_patient, phq9_observation, transaction

pytestmark = pytest.mark.django_db


def test_it_imports_every_file_of_a_directory_and_again_stores_nothing(tmp_path, clinic, capsys):
    for number in range(3):
        bundle = transaction(
            fhir_patient(f"p{number}", mrn=f"M{number}"),
            phq9_observation(f"o{number}", patient=f"Patient/p{number}"),
        )
        (tmp_path / f"b{number}.json").write_text(json.dumps(bundle))

    call_command("import", "fhir", str(tmp_path))
    call_command("import", "fhir", str(tmp_path), "--clinic", str(clinic.pk))

    assert Patient.objects.count() == 3
    assert ImportedResource.objects.count() == 6
    out = capsys.readouterr()
    assert "3 files, 0 resources stored or updated." in out.out
    assert "import fhir" in out.err  # the progress bar


def test_a_bad_file_is_named_and_the_others_are_stored(tmp_path, clinic):
    (tmp_path / "a.json").write_text(json.dumps(transaction(fhir_patient())))
    (tmp_path / "b.json").write_text(
        json.dumps(transaction(fhir_patient("p2", mrn="M2", birthDate="2099-01-01")))
    )

    with pytest.raises(
        CommandError, match=r"b\.json: Patient\.birthDate: 2099-01-01 is in the future"
    ):
        call_command("import", "fhir", str(tmp_path))

    assert list(Patient.objects.values_list("mrn", flat=True)) == ["MRN-1"]


def test_it_imports_an_official_test_case_file(clinic):
    path = next(DECK.glob("PCSDepressionScreenAndFollowUpFHIR/tests-*.json"))

    call_command("import", "fhir", str(path))

    assert Patient.objects.count() == 1
    assert ImportedResource.objects.filter(resource_type="Patient").count() == 1
