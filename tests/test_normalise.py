from stream.normalise import canonical_name, entity_id, resolve_partial_names


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
    assert resolve_partial_names(names) == {("Blinken", "PER"): "Antony Blinken"}
