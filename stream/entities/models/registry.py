"""Which model tags which language, and the options the settings decide: the registry of the
models beside them (each model is imported when first asked for: a process loads only the
ones its articles need)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING

from stream.entities.tagger import Span, TokenTagger

if TYPE_CHECKING:
    from stream.config import Entities
    from stream.entities.models.english import SpacyEnglishTagger


@dataclass(frozen=True, slots=True)
class EntityOptions:
    """What the settings decide about entity extraction (``NEWSSTREAM_NER_MODEL``,
    ``NEWSSTREAM_NER_INT8``, ``NEWSSTREAM_NER_THREADS``, ``NEWSSTREAM_ALIASES_FILE``), passed
    down from the edge."""

    tier: str = "fast"  # the Indonesian model: "fast" (CRF) or "accurate" (e5)
    int8: bool = False  # accurate tier: int8 weights
    aliases_file: str | None = None  # extra aliases, TSV
    threads: int = 1  # accurate tier: onnxruntime threads

    @classmethod
    def from_view(cls, entities: Entities, threads: int = 1) -> EntityOptions:
        """``threads``: the accurate tier's threads where ``NEWSSTREAM_NER_THREADS`` is 0."""
        return cls(entities.model, entities.int8, entities.aliases_file,
                   entities.threads or threads)


DEFAULT_OPTIONS = EntityOptions()


@cache
def default_tagger() -> TokenTagger:
    """Indonesian (and any language without a model of its own): the CRF."""
    from stream.entities.models.crf import CrfTagger

    return CrfTagger()


@cache
def accurate_tagger(int8: bool = False, threads: int = 1) -> TokenTagger:
    from stream.entities.models.accurate import E5Tagger

    return E5Tagger(int8=int8, threads=threads)


@cache
def english_tagger() -> SpacyEnglishTagger:
    from stream.entities.models.english import SpacyEnglishTagger

    return SpacyEnglishTagger()


@cache
def english_accurate_tagger(int8: bool = False, threads: int = 1) -> TokenTagger:
    from stream.entities.models.english_accurate import EnglishAccurateTagger

    return EnglishAccurateTagger(accurate_tagger(int8, threads), english_tagger())


class NoEntities:
    """For text no model here reads: no entities rather than a model's guesses in a
    language it never saw."""

    name = "none"

    def predict(self, sentences: Sequence[Sequence[str]]) -> list[list[Span]]:
        return [[] for _ in sentences]


NO_ENTITIES = NoEntities()
# Languages the Indonesian models read: Indonesian, its close relative Malay, the regional
# languages langid confuses with Indonesian on short or mixed text (Javanese, Sundanese:
# one dev sentence in 300 of IDNER-2k and NERP), and text too short to tell ("und").
INDONESIAN_MODELS = frozenset({"id", "ms", "jv", "su", "und"})
# Languages the accurate tier's multilingual encoder reads, beyond Indonesian and English,
# each once measured on a hand-labelled dev set of its own (docs/languages.md: none yet).
ENCODER_LANGUAGES: frozenset[str] = frozenset()


def tagger_for(language: str, options: EntityOptions = DEFAULT_OPTIONS) -> TokenTagger:
    """The article's language and the configured tier pick the model (docs/languages.md):
    English and Indonesian have a fast and an accurate model each; every other language
    gets no entities (the Indonesian CRF used to read them by accident)."""
    accurate = options.tier == "accurate"
    if language == "en":
        return english_accurate_tagger(options.int8, options.threads) if accurate \
            else english_tagger()
    if language in INDONESIAN_MODELS:
        return accurate_tagger(options.int8, options.threads) if accurate else default_tagger()
    if accurate and language in ENCODER_LANGUAGES:
        return accurate_tagger(options.int8, options.threads)
    return NO_ENTITIES
