"""The one place that reads onevox's TOML config and hands each stage its own options.

Every key has a default, so an empty (or missing) file is a valid config. An unknown section or key, a value
of the wrong type, or one outside what is allowed raises `ConfigError` naming the file, the key and what is
allowed: nothing is silently ignored.
"""

from __future__ import annotations

import dataclasses
import os
import re
import tomllib
import typing
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from onevox import paths
from onevox.config_check import brief, build_section, check_value
from onevox.errors import ConfigError

CONFIG_ENV = "ONEVOX_CONFIG"


def _opt(default: Any, doc: str, *, choices: tuple[str, ...] = (), lo: float | None = None,
         hi: float | None = None, factory: Any = None, int_ok: bool = False) -> Any:
    """A config field: its default, one line of help, and the values it allows."""
    meta = {"doc": doc, "choices": choices, "lo": lo, "hi": hi, "int_ok": int_ok}
    if factory is not None:
        return field(default_factory=factory, metadata=meta)
    return field(default=default, metadata=meta)


@dataclass(frozen=True)
class HotkeyConfig:
    trigger: str = _opt("ctrl+shift+space", "key combination that starts dictation, e.g. ctrl+alt+d")
    mode: str = _opt("push-to-talk", "hold to talk, or press once to start and again to stop",
                     choices=("push-to-talk", "toggle"))
    min_hold_ms: int = _opt(150, "presses shorter than this are ignored in push-to-talk mode", lo=0, hi=5000)
    cancel: str = _opt("escape", "key that throws the current dictation away ('' for none)")
    backend: str = _opt("auto", "how global keys are read: X11, the GlobalShortcuts portal (Wayland), evdev "
                        "(/dev/input), or none (IPC only)",
                        choices=("auto", "x11", "portal", "evdev", "none"))
    toggle_repeat_ms: int = _opt(200, "`onevox toggle` runs closer together than this are a held shortcut's "
                                 "key repeats (GNOME repeats the command): held, it talks while held; 0: "
                                 "every toggle flips", lo=0, hi=1000)


@dataclass(frozen=True)
class AudioConfig:
    device: str = _opt("default", "input device: 'default', a name (exact or substring) or an index",
                       int_ok=True)
    sample_rate: int = _opt(0, "rate asked of the device (0 = its default); always resampled to 16 kHz",
                            lo=0, hi=384000)
    keep_warm: bool = _opt(True, "keep the input stream open between dictations (no lost first word)")
    pre_roll_ms: int = _opt(300, "audio kept from before the key press", lo=0, hi=5000)
    post_roll_ms: int = _opt(300, "audio kept after release while speech is still going on", lo=0, hi=5000)
    max_dictation_s: int = _opt(600, "a dictation is stopped after this long", lo=1, hi=7200)
    save_recordings: bool = _opt(False, "write each dictation's audio to the data folder (off: memory only)")


@dataclass(frozen=True)
class VadConfig:
    backend: str = _opt("silero", "voice activity detector", choices=("silero", "webrtc", "energy", "off"))
    threshold: float = _opt(0.5, "speech probability above which a frame is speech", lo=0.0, hi=1.0)
    min_speech_ms: int = _opt(200, "shorter bursts of speech are ignored", lo=0, hi=10000)
    min_silence_ms: int = _opt(500, "a pause this long ends a speech segment", lo=50, hi=10000)
    speech_pad_ms: int = _opt(200, "audio kept on both sides of each speech segment", lo=0, hi=2000)
    early_decode_ms: int = _opt(250, "decode during a pause this long, before release (0 = off)", lo=0,
                                hi=5000)
    pass_interval_ms: int = _opt(1000, "while speech goes on, decode it again after this much new audio, "
                                 "so release decodes only the last words (0 = off)", lo=0, hi=10000)
    max_segment_s: float = _opt(25.0, "segments longer than this are split at the quietest pause",
                                lo=2.0, hi=30.0)


@dataclass(frozen=True)
class ModelConfig:
    name: str = _opt("tiny.en", "model name from `onevox models list`, or a path to a CTranslate2 folder")
    compute_type: str = _opt("int8", "CTranslate2 compute type",
                             choices=("default", "auto", "int8", "int8_float32", "int8_float16",
                                      "int16", "float16", "float32", "bfloat16"))
    device: str = _opt("cpu", "where the model runs", choices=("cpu", "cuda", "auto"))
    threads: int = _opt(0, "CPU threads for the model (0 = auto: one for tiny and base, which decode "
                               "fastest on one; all cores for larger models)", lo=0, hi=256)
    beam_size: int = _opt(0, "beam search width (0 = auto: 5 for multilingual models, which decode other "
                               "languages better with it; 1, greedy and fastest, for English-only ones)",
                          lo=0, hi=16)
    language: str = _opt("en", "spoken language code, or 'auto' to detect (multilingual models only)")
    languages: list[str] = _opt(None, "with language = 'auto': the languages you speak; detection picks "
                                "among these, and falls back to the first when unsure (one = no detection)",
                                factory=list)
    initial_prompt: str = _opt("", "text that primes the model with your style and words")
    vocabulary: list[str] = _opt(None, "words the model should prefer (names, jargon)", factory=list)
    window: str = _opt("auto", "encoder window: sized to the audio (fast) or always 30 s (reference)",
                       choices=("auto", "full"))
    # a remote engine: the dictation's audio leaves this machine for `url` (status and doctor say so); the
    # API key is read from the environment or a file, so this file never holds a secret
    backend: str = _opt("local", "where speech is decoded: the local model, or an OpenAI-compatible server "
                        "at url", choices=("local", "openai"))
    url: str = _opt("", "with backend = \"openai\": the server's base URL, e.g. http://host:8000/v1")
    remote_model: str = _opt("whisper-1", "model name sent to the server")
    api_key_env: str = _opt("", "environment variable holding the server's API key ('' = none)")
    api_key_file: str = _opt("", "file holding the server's API key ('' = none)")
    timeout_s: float = _opt(10.0, "longest wait for the server's answer to one decode", lo=0.5, hi=600.0)
    fallback: str = _opt("local", "when the server fails: decode with the local model (kept loaded), or "
                         "fail the dictation", choices=("local", "none"))
    retry_after_s: float = _opt(30.0, "after a failure the local model answers this long before the "
                                "server is tried again", lo=0.0, hi=3600.0)

    def problem(self) -> tuple[str, str] | None:
        """(key, reason) when keys that are each valid do not fit together."""
        if self.backend == "openai" and not self.url:
            return "url", 'required when backend = "openai"'
        if self.url and not self.url.startswith(("http://", "https://")):
            return "url", f"must start with http:// or https://, got {brief(self.url)}"
        if self.api_key_env and self.api_key_file:
            return "api_key_file", "set api_key_env or api_key_file, not both"
        return None


@dataclass(frozen=True)
class LanguagePostConfig:
    """[post_processing.languages.CODE]: what post-processing adds for dictations in one language."""

    fillers: list[str] = _opt(None, "more filler words removed in this language (with remove_fillers on), on "
                              "top of the list every language gets", factory=list)
    replacements: dict[str, str] = _opt(None, "spoken phrase -> text, in this language only; wins over "
                                        "[post_processing] replacements of the same phrase", factory=dict)


@dataclass(frozen=True)
class PostProcessingConfig:
    capitalize: bool = _opt(True, "capitalise the first letter of each dictation (false: lower-case it, as "
                            "a terminal wants; 'I', 'NASA' and German text keep their capitals)")
    punctuation: bool = _opt(True, "keep the model's punctuation (false strips it)")
    remove_fillers: bool = _opt(False, "drop filler words such as 'um' and 'uh'")
    fillers: list[str] = _opt(None, "filler words removed when remove_fillers is on, in every language "
                              "([] = the built-in list of the dictation's language: um, äh, euh, eh, ...)",
                              factory=list)
    replacements: dict[str, str] = _opt(None, "spoken phrase -> text to type, matched as whole words",
                                        factory=dict)
    hallucination_filter: bool = _opt(True, "drop repetition loops and phrases Whisper invents in silence")
    trailing_space: bool = _opt(True, "add a space after each dictation so the next one follows on")
    final_period: bool = _opt(True, "keep the full stop the model puts at the end (false drops it)")
    languages: dict[str, LanguagePostConfig] = _opt(None, "per language (Whisper code): fillers and "
                                                    "replacements for its dictations only, as "
                                                    "[post_processing.languages.de] tables", factory=dict)


@dataclass(frozen=True)
class CommandsConfig:
    punctuation: bool = _opt(True, "spoken punctuation and formatting in English dictation: 'comma', "
                             "'period', 'question mark', 'new line', 'new paragraph', 'cap WORD', ...")
    literal_word: str = _opt("literal", "say this before a command to type its words instead "
                             "('literal comma' types 'comma'; '' = no such word)")
    edit: bool = _opt(True, "a dictation that is only 'scratch that' / 'delete that' takes the previous one "
                      "back out of the window; 'press enter' / 'press tab' press that key")


@dataclass(frozen=True)
class InjectionConfig:
    method: str = _opt("auto", "how text reaches the focused window",
                       choices=("auto", "paste", "type", "xdotool", "wtype", "remote-desktop", "portal",
                                "ydotool", "stdout"))
    paste_keys: str = _opt("ctrl+v", "keys that paste in ordinary windows")
    terminal_paste_keys: str = _opt("ctrl+shift+v", "keys that paste in terminals")
    terminal_classes: list[str] = _opt(
        None, "window classes (substring, case-insensitive) treated as terminals",
        factory=lambda: ["terminal", "term", "konsole", "alacritty", "kitty", "foot", "wezterm", "tilix",
                         "terminator", "urxvt", "st-256color", "ghostty"])
    restore_clipboard: bool = _opt(True, "put the previous clipboard back after pasting")
    restore_delay_ms: int = _opt(150, "wait this long after a paste before restoring the clipboard",
                                 lo=0, hi=5000)
    type_delay_ms: int = _opt(0, "delay between typed characters (xdotool, wtype, ydotool, remote-desktop, "
                              "portal)", lo=0, hi=200)
    live: bool = _opt(False, "put settled words into the window while you are still speaking")


@dataclass(frozen=True)
class HistoryConfig:
    enabled: bool = _opt(True, "keep every dictation in a local SQLite database")
    max_entries: int = _opt(10000, "oldest entries beyond this are deleted (0 = keep all)", lo=0)
    path: str = _opt("", "database file ('' = the XDG data folder)")


@dataclass(frozen=True)
class DaemonConfig:
    socket: str = _opt("", "IPC socket path ('' = $XDG_RUNTIME_DIR/onevox/onevox.sock)")
    log_level: str = _opt("info", "log verbosity", choices=("debug", "info", "warning", "error"))
    trace_path: str = _opt("", "write tracing spans here as a Chrome trace file on stop ('' = off)")


@dataclass(frozen=True)
class FeedbackConfig:
    sounds: bool = _opt(True, "play a short tone when recording starts and another when it stops")
    sound_volume: float = _opt(0.5, "loudness of the start/stop tones (0 = silent, 1 = full)", lo=0.0, hi=1.0)
    indicator: str = _opt("auto", "a small window showing the state and the words so far, never focused "
                          "(auto: layer-shell on Wayland where it can, else X11/XWayland)",
                          choices=("auto", "layer-shell", "x11", "off"))


@dataclass(frozen=True)
class ProfileConfig:
    """[profiles.NAME]: what changes for one dictation in the windows it matches (onevox.profiles)."""

    name: str
    match_class: list[str] = _opt(None, "WM_CLASS instance or class, or Wayland app_id (case-insensitive)",
                                  factory=list)
    match_title: str = _opt("", "regular expression searched in the window title ('' = any title)")
    enabled: bool = _opt(True, "false: no dictation in these windows (the text is kept in the history)")
    overrides: dict[str, dict[str, Any]] = field(default_factory=dict)  # section -> key -> checked value


@dataclass(frozen=True)
class VocabularyConfig:
    learn: str = _opt("apply", "what `onevox history correct` teaches: apply the word fixes it shows, only "
                      "propose them (`onevox vocabulary accept`), or nothing",
                      choices=("apply", "propose", "off"))
    min_count: int = _opt(2, "corrections that must show the same fix before it is applied", lo=1, hi=1000)
    prompt_words: int = _opt(20, "learned spellings added to the model's vocabulary (0 = none)", lo=0, hi=200)


@dataclass(frozen=True)
class Config:
    hotkey: HotkeyConfig = field(default_factory=HotkeyConfig)
    audio: AudioConfig = field(default_factory=AudioConfig)
    vad: VadConfig = field(default_factory=VadConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    post_processing: PostProcessingConfig = field(default_factory=PostProcessingConfig)
    commands: CommandsConfig = field(default_factory=CommandsConfig)
    injection: InjectionConfig = field(default_factory=InjectionConfig)
    history: HistoryConfig = field(default_factory=HistoryConfig)
    daemon: DaemonConfig = field(default_factory=DaemonConfig)
    feedback: FeedbackConfig = field(default_factory=FeedbackConfig)
    vocabulary: VocabularyConfig = field(default_factory=VocabularyConfig)
    profiles: tuple[ProfileConfig, ...] = ()  # [profiles.NAME], in file order
    source: str = field(default="", compare=False)  # the file this came from ('' = defaults only)

    def with_changes(self, section: str, **changes: Any) -> Config:
        """A copy with some keys of one section replaced (used by CLI flags such as --model)."""
        return dataclasses.replace(self, **{section: dataclasses.replace(getattr(self, section), **changes)})

    def socket_path(self) -> Path:
        return Path(self.daemon.socket).expanduser() if self.daemon.socket else paths.default_socket_path()

    def history_path(self) -> Path:
        return Path(self.history.path).expanduser() if self.history.path else paths.default_history_path()


SECTIONS: dict[str, type] = {
    "hotkey": HotkeyConfig,
    "audio": AudioConfig,
    "vad": VadConfig,
    "model": ModelConfig,
    "post_processing": PostProcessingConfig,
    "commands": CommandsConfig,
    "injection": InjectionConfig,
    "history": HistoryConfig,
    "daemon": DaemonConfig,
    "feedback": FeedbackConfig,
    "vocabulary": VocabularyConfig,
}


def resolve_config_path(explicit: str | os.PathLike[str] | None = None) -> Path:
    """--config wins, then $ONEVOX_CONFIG, then the XDG default."""
    if explicit:
        return Path(explicit).expanduser()
    env = os.environ.get(CONFIG_ENV)
    if env:
        return Path(env).expanduser()
    return paths.default_config_path()


def load_config(path: str | os.PathLike[str] | None = None, *, must_exist: bool | None = None) -> Config:
    """Read and validate a config file. A missing default file means all defaults; a missing file the user
    named explicitly (flag or environment) is an error."""
    resolved = resolve_config_path(path)
    explicit = bool(path) or bool(os.environ.get(CONFIG_ENV))
    if must_exist is None:
        must_exist = explicit
    if not resolved.exists():
        if must_exist:
            raise ConfigError(str(resolved), "", "file not found")
        return Config()
    try:
        raw = resolved.read_bytes()
    except OSError as exc:
        raise ConfigError(str(resolved), "", f"cannot read: {exc.strerror or exc}") from exc
    return parse_config(raw, str(resolved))


def parse_config(raw: bytes | str, source: str = "<config>") -> Config:
    if isinstance(raw, bytes):
        try:
            raw = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ConfigError(source, "", f"not valid UTF-8 (byte {exc.start})") from exc
    try:
        data = tomllib.loads(raw)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(source, "", f"not valid TOML: {exc}") from exc
    except RecursionError:  # tomllib parses nested arrays/inline tables recursively
        raise ConfigError(source, "", "not valid TOML: arrays or tables nested too deeply") from None
    sections: dict[str, Any] = {}
    for name, value in data.items():
        if name == "profiles":
            sections[name] = _build_profiles(value, source)
            continue
        if name not in SECTIONS:
            raise ConfigError(source, name, f"unknown section; allowed: {', '.join([*SECTIONS, 'profiles'])}")
        if not isinstance(value, dict):
            raise ConfigError(source, name, "must be a [section] table")
        sections[name] = build_section(SECTIONS[name], value, source, name)
    return Config(**sections, source=source)


# What a profile may change: the keys read for each dictation. None: every key of the section but those in
# PROFILE_FIXED, which are read once when the daemon starts. Other sections (audio, vad, ...) serve every
# window alike.
PROFILE_SECTIONS: dict[str, tuple[str, ...] | None] = {
    "injection": None, "post_processing": None, "commands": None, "model": ("initial_prompt", "vocabulary")}
PROFILE_FIXED = ("injection.live", "post_processing.hallucination_filter")
PROFILE_MATCH = ("match_class", "match_title", "enabled")


def _build_profiles(value: Any, source: str) -> tuple[ProfileConfig, ...]:
    if not isinstance(value, dict):
        raise ConfigError(source, "profiles", "must be [profiles.NAME] tables")
    hints, known = typing.get_type_hints(ProfileConfig), {f.name: f for f in fields(ProfileConfig)}
    sections = [s for s in PROFILE_SECTIONS if s in SECTIONS]
    profiles = []
    for name, table in value.items():
        where = f"profiles.{name}"
        if not isinstance(table, dict) or not name.strip():
            raise ConfigError(source, where, "must be a [profiles.NAME] table with a name")
        kwargs: dict[str, Any] = {"name": name, "overrides": {}}
        for key, item in table.items():
            if key in PROFILE_MATCH:
                kwargs[key] = check_value(item, hints[key], known[key].metadata, source, f"{where}.{key}")
            elif key in sections:
                kwargs["overrides"][key] = _profile_section(key, item, source, f"{where}.{key}")
            else:
                raise ConfigError(source, f"{where}.{key}", f"unknown key; allowed: "
                                  f"{', '.join(PROFILE_MATCH)} and the sections {', '.join(sections)}")
        if not kwargs.get("match_class") and not kwargs.get("match_title"):
            raise ConfigError(source, where, "needs match_class or match_title (which windows it is for)")
        if kwargs.get("match_title"):
            try:
                re.compile(kwargs["match_title"])
            except re.error as exc:
                raise ConfigError(source, f"{where}.match_title", f"not a valid regular expression: {exc}") \
                    from None
        profiles.append(ProfileConfig(**kwargs))
    return tuple(profiles)


def _profile_section(section: str, values: Any, source: str, where: str) -> dict[str, Any]:
    if not isinstance(values, dict):
        raise ConfigError(source, where, "must be a table")
    allowed = PROFILE_SECTIONS[section] or [f.name for f in fields(SECTIONS[section])
                                            if f"{section}.{f.name}" not in PROFILE_FIXED]
    for key in values:
        if key not in allowed and key in {f.name for f in fields(SECTIONS[section])}:
            raise ConfigError(source, f"{where}.{key}",
                              f"cannot differ per window; allowed: {', '.join(allowed)}")
    checked = build_section(SECTIONS[section], values, source, where)
    return {key: getattr(checked, key) for key in values}
