"""The official conformance data must be present: tests that use it never skip silently."""

from conftest import conformance_dir, example_files, unit_test_files


def test_conformance_data_is_present() -> None:
    base = conformance_dir()
    assert (base / "en16931" / "ubl-unit-invoice").is_dir()
    assert len(example_files()) == 19 + 15 + 9
    assert len(unit_test_files()) == 206 + 56
