from pathlib import Path

from stream.entities.normalise import (
    DEFAULT_ALIASES,
    apply_alias,
    canonical_name,
    display_name,
    entity_id,
    load_aliases,
    load_display_names,
    resolve_within_article,
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


def test_a_partial_name_is_the_one_person_it_names() -> None:
    names = [("Antony Blinken", "PER"), ("Blinken", "PER"), ("Kim", "PER"),
             ("Kim Jong Un", "PER"), ("Kim Yo Jong", "PER"), ("Rusia", "LOC")]
    starts = [0, 100, 150, 200, 300, 400]
    assert resolve_within_article(names, starts) == [
        ("Antony Blinken", "PER"), ("Antony Blinken", "PER"),
        ("Kim", "PER"),  # two people hold it and neither is named before it
        ("Kim Jong Un", "PER"), ("Kim Yo Jong", "PER"), ("Rusia", "LOC")]


def test_a_partial_name_two_people_hold_is_the_one_named_last_before_it() -> None:
    names = [("Richard von Weizsäcker", "PER"), ("Fritz Eckart von Weizsäcker", "PER"),
             ("von Weizsäcker", "PER"), ("Richard von Weizsäcker", "PER"),
             ("Weizsäcker", "PER")]
    assert [name for name, _label in resolve_within_article(names, [0, 30, 200, 300, 400])] == [
        "Richard von Weizsäcker", "Fritz Eckart von Weizsäcker", "Fritz Eckart von Weizsäcker",
        "Richard von Weizsäcker", "Richard von Weizsäcker"]


def test_a_surname_the_model_mislabelled_joins_the_person() -> None:
    names = [("Antony Blinken", "PER"), ("Blinken", "LOC"), ("Antony", "LOC")]
    assert resolve_within_article(names, [0, 50, 90]) == [
        ("Antony Blinken", "PER"), ("Antony Blinken", "PER"), ("Antony", "LOC")]


def test_the_head_of_an_organisations_name_is_that_organisation() -> None:
    names = [("Sierra Nevada Corporation", "ORG"), ("Sierra Nevada", "ORG"),
             ("Tyvak Nano-Satellite Systems Inc", "ORG"), ("Tyvak", "LOC"),
             ("Jakarta Post", "ORG"), ("Jakarta", "LOC"),
             ("Korea Utara", "LOC"), ("Korea", "LOC"),
             ("New York City", "LOC"), ("New York", "LOC"),
             ("Bank Mandiri", "ORG"), ("Bank Indonesia", "ORG"), ("Bank", "ORG")]
    resolved = resolve_within_article(names, list(range(0, 130, 10)))
    assert [pair for pair, given in zip(resolved, names, strict=True) if pair != given] == [
        ("Sierra Nevada Corporation", "ORG"), ("Tyvak Nano-Satellite Systems Inc", "ORG"),
        ("New York City", "LOC")]


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


def test_one_entity_has_one_id_and_a_name_in_each_language(tmp_path: Path) -> None:
    aliases, shown = load_aliases(DEFAULT_ALIASES), load_display_names(DEFAULT_ALIASES)
    for alias in ("AS", "US", "United States", "Amerika Serikat", "the United States"):
        name, label = apply_alias(canonical_name(alias, "LOC"), "LOC", aliases)
        assert entity_id(name, label) == "LOC:amerika-serikat", alias
        assert display_name(name, "en", shown) == "United States"
        assert display_name(name, "id", shown) == "Amerika Serikat"
    assert display_name(apply_alias("Britain", "LOC", aliases)[0], "en", shown) == "United Kingdom"
    assert display_name("Jakarta", "en", shown) == "Jakarta"  # no English name of its own
    extra = tmp_path / "extra.tsv"
    extra.write_text("Amerika Serikat\tAmerika Serikat\tLOC\nUSA\tAmerika Serikat\tLOC\ten\n")
    merged = load_display_names(DEFAULT_ALIASES, extra)
    assert display_name("Amerika Serikat", "en", merged) == "USA"


def test_the_tables_label_wins_for_names_the_english_model_gets_wrong() -> None:
    aliases = load_aliases(DEFAULT_ALIASES)
    assert apply_alias("Twitter", "PER", aliases) == ("Twitter", "ORG")
    assert apply_alias("Brexit", "LOC", aliases) == ("Brexit", "EVT")
    assert apply_alias("U.K", "LOC", aliases) == ("Inggris", "LOC")  # its last dot ended a sentence


def test_a_place_or_person_in_capitals_takes_its_usual_case() -> None:
    assert canonical_name("LONDON", "LOC") == "London"
    assert canonical_name("WASHINGTON DC", "LOC") == "Washington DC"
    assert canonical_name("JOKO WIDODO", "PER") == "Joko Widodo"
    assert canonical_name("USA", "LOC") == "USA"
    assert canonical_name("NASA", "ORG") == "NASA"  # organisations keep their capitals
