import pytest

from cocm.domain.diagnoses import DiagnosisCodeError, diagnosis_description, normalize_icd10cm


@pytest.mark.parametrize(
    ("raw", "normalized"),
    [
        ("F32.1", "F32.1"),
        ("f33.9", "F33.9"),
        ("F411", "F41.1"),
        (" F32.A ", "F32.A"),
        ("F43.10", "F43.10"),
        ("F32", "F32"),
        ("Z13.31", "Z13.31"),
    ],
)
def test_icd10cm_codes_are_normalized(raw, normalized):
    assert normalize_icd10cm(raw) == normalized


@pytest.mark.parametrize("raw", ["", "32.1", "FF2.1", "F3", "F32.12345", "F32-1", "depression"])
def test_malformed_codes_are_refused_with_an_example(raw):
    with pytest.raises(DiagnosisCodeError, match="expected a form like F32.1"):
        normalize_icd10cm(raw)


def test_common_codes_have_their_description():
    assert diagnosis_description("F41.1") == "Generalized anxiety disorder"
    assert diagnosis_description("F99") == ""
