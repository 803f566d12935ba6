from pathlib import Path

from stream.entities.normalise import (
    DEFAULT_ALIASES,
    apply_alias,
    canonical_name,
    entity_id,
    load_aliases,
    resolve_partial_names,
    short_form,
)


def test_titles_are_stripped_from_person_names() -> None:
    assert canonical_name("Presiden Joko Widodo", "PER") == "Joko Widodo"
    assert canonical_name("Dr. Siti Nurhaliza", "PER") == "Siti Nurhaliza"
    assert canonical_name("Presiden", "PER") == "Presiden"
    assert canonical_name("Menteri Luar Negeri", "ORG") == "Menteri Luar Negeri"


def test_ids_are_stable_slugs() -> None:
    assert entity_id("Antony Blinken", "PER") == "PER:antony-blinken"
    assert entity_id("São Paulo", "LOC") == "LOC:sao-paulo"
    assert entity_id("  ", "ORG") == "ORG:unnamed"


def test_partial_name_resolution_only_when_unambiguous() -> None:
    names = [("Antony Blinken", "PER"), ("Blinken", "PER"), ("Kim", "PER"),
             ("Kim Jong Un", "PER"), ("Kim Yo Jong", "PER"), ("Rusia", "LOC")]
    assert resolve_partial_names(names) == {("Blinken", "PER"): ("Antony Blinken", "PER")}


def test_a_surname_the_model_mislabelled_joins_the_person() -> None:
    names = [("Antony Blinken", "PER"), ("Blinken", "LOC"), ("Antony", "LOC")]
    assert resolve_partial_names(names) == {("Blinken", "LOC"): ("Antony Blinken", "PER")}


def test_aliases_map_to_one_canonical_entity(tmp_path: Path) -> None:
    aliases = load_aliases(DEFAULT_ALIASES)
    assert apply_alias("AS", "LOC", aliases) == ("Amerika Serikat", "LOC")
    assert apply_alias("RI", "ORG", aliases) == ("Indonesia", "LOC")  # the table's label wins
    assert apply_alias("Jakarta", "LOC", aliases) == ("Jakarta", "LOC")
    extra = tmp_path / "extra.tsv"
    extra.write_text("# local names\nAS\tUnited States\tLOC\nPak Bas\tBasuki Hadimuljono\n")
    merged = load_aliases(DEFAULT_ALIASES, extra)
    assert apply_alias("AS", "LOC", merged) == ("United States", "LOC")
    assert apply_alias("Pak Bas", "PER", merged) == ("Basuki Hadimuljono", "PER")


def test_a_short_form_in_brackets_is_not_part_of_the_name() -> None:
    assert canonical_name("Mahkamah Konstitusi (MK)", "ORG") == "Mahkamah Konstitusi"
    assert canonical_name("Presiden Joko Widodo (Jokowi)", "PER") == "Joko Widodo"
    assert short_form("Badan Usaha Milik Negara (BUMN)") == ("Badan Usaha Milik Negara", "BUMN")
    assert short_form("Joko Widodo") is None
