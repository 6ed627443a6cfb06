"""Where every picture of text (receipt lines drawn as images, PNG previews, signs, the staff guide)
gets its fonts: one lookup, the same on Linux, Windows and macOS.

The package ships Noto Sans, Noto Sans Mono (Latin subsets) and Noto Sans Thai under the SIL Open
Font License (``pos_referral/fonts/``), and they are searched first, so a receipt looks the same on
every machine and a fresh one with no fonts at all still prints every shipped language. The
machine's font folders come after (``/usr/share/fonts``, ``%WINDIR%\\Fonts``,
``%LOCALAPPDATA%\\Microsoft\\Windows\\Fonts``, ...) for letters the shipped fonts lack (a customer's
name in another script). A letter no font has is drawn as ``?``; the characters replaced are
collected (``noting_fallbacks``) so the print job can say so instead of failing.

The search path is an argument (``FontLibrary(folders)``); ``using`` puts another library in force
for the current thread (tests hide the machine's folders with it). Nothing is read at import.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import sys
import unicodedata
from collections.abc import Iterator, Mapping, Sequence
from contextvars import ContextVar
from pathlib import Path

logger = logging.getLogger(__name__)

SHIPPED = Path(__file__).resolve().parent.parent / "fonts"
FONT_SUFFIXES = (".ttf", ".otf", ".ttc")
REPLACEMENT = "?"

# (regular, bold) file names per role, best first; matched case-insensitively (Windows names are lower case)
ROLES: dict[str, tuple[tuple[str, str], ...]] = {
    "mono": (("NotoSansMono-Regular.ttf", "NotoSansMono-Bold.ttf"), ("DejaVuSansMono.ttf", "DejaVuSansMono-Bold.ttf"),
             ("LiberationMono-Regular.ttf", "LiberationMono-Bold.ttf"), ("consola.ttf", "consolab.ttf"),
             ("cour.ttf", "courbd.ttf")),
    "sans": (("NotoSans-Regular.ttf", "NotoSans-Bold.ttf"), ("DejaVuSans.ttf", "DejaVuSans-Bold.ttf"),
             ("LiberationSans-Regular.ttf", "LiberationSans-Bold.ttf"), ("arial.ttf", "arialbd.ttf"),
             ("segoeui.ttf", "segoeuib.ttf"), ("Arial Unicode.ttf", "Arial Unicode.ttf")),
    "thai": (("NotoSansThai-Regular.ttf", "NotoSansThai-Bold.ttf"), ("Garuda.ttf", "Garuda-Bold.ttf"),
             ("Loma.ttf", "Loma-Bold.ttf"), ("Waree.ttf", "Waree-Bold.ttf"), ("Kinnari.ttf", "Kinnari-Bold.ttf"),
             ("tahoma.ttf", "tahomabd.ttf"), ("LeelawUI.ttf", "LeelaUIb.ttf"), ("leelawad.ttf", "leelawdb.ttf"),
             ("Tahoma.ttf", "Tahoma Bold.ttf")),
}
# broad fonts asked last, for letters of scripts no role covers (a name in Greek, Cyrillic, Chinese, ...)
WIDE: tuple[tuple[str, str], ...] = (("DejaVuSans.ttf", "DejaVuSans-Bold.ttf"), ("arial.ttf", "arialbd.ttf"),
                                     ("NotoSansCJK-Regular.ttc", "NotoSansCJK-Bold.ttc"), ("msyh.ttc", "msyhbd.ttc"),
                                     ("malgun.ttf", "malgunbd.ttf"), ("seguisym.ttf", "seguisym.ttf"))


class FontMissingError(RuntimeError):
    """No font for a role in any folder searched: the package's own fonts folder is missing."""


def system_folders(environ: Mapping[str, str] | None = None, home: Path | None = None,
                   platform: str | None = None) -> tuple[Path, ...]:
    """The machine's font folders: Windows' (system and per-user), then Linux's and macOS's."""
    env = os.environ if environ is None else environ
    home = Path.home() if home is None else home
    platform = sys.platform if platform is None else platform
    folders: list[Path] = []
    if platform == "win32" or env.get("WINDIR"):
        if env.get("WINDIR"):
            folders.append(Path(env["WINDIR"]) / "Fonts")
        if env.get("LOCALAPPDATA"):
            folders.append(Path(env["LOCALAPPDATA"]) / "Microsoft" / "Windows" / "Fonts")
    if platform != "win32":
        folders += [Path("/usr/share/fonts"), Path("/usr/local/share/fonts"), home / ".local/share/fonts",
                    home / ".fonts", Path("/Library/Fonts"), Path("/System/Library/Fonts")]
    return tuple(folders)


def default_folders() -> tuple[Path, ...]:
    """The shipped fonts first, then the machine's."""
    return (SHIPPED, *system_folders())


class FontLibrary:
    """Font files found under ``folders`` (earlier folders win), by role and by the letters they have."""

    def __init__(self, folders: Sequence[Path]) -> None:
        self.folders = tuple(folders)
        self._index: dict[str, Path] | None = None

    def _files(self) -> dict[str, Path]:
        if self._index is None:
            index: dict[str, Path] = {}
            for folder in self.folders:
                if not folder.is_dir():
                    continue
                for path in sorted(folder.rglob("*")):
                    if path.suffix.lower() in FONT_SUFFIXES and path.is_file():
                        index.setdefault(path.name.lower(), path)
            self._index = index
        return self._index

    def _pick(self, pair: tuple[str, str], bold: bool) -> Path | None:
        files = self._files()
        if bold and pair[1].lower() in files:
            return files[pair[1].lower()]
        return files.get(pair[0].lower())

    def find(self, role: str, bold: bool = False) -> Path | None:
        """The best font file for ``role`` ("mono", "sans", "thai"), or None."""
        for pair in ROLES[role]:
            hit = self._pick(pair, bold)
            if hit is not None:
                return hit
        return None

    def require(self, role: str, bold: bool = False) -> Path:
        hit = self.find(role, bold)
        if hit is None:
            raise FontMissingError(f"no {role} font found in {', '.join(map(str, self.folders)) or 'no folder'}: "
                                   f"the package's fonts folder ({SHIPPED}) is missing; reinstall pos-referral")
        return hit

    def chain(self, role: str, bold: bool = False) -> tuple[Path, ...]:
        """Fonts to try for each letter: the role's own, then every other role's, then the wide ones."""
        order = [role, *(other for other in ROLES if other != role)]
        found: list[Path] = []
        for name in order:
            for pair in ROLES[name]:
                hit = self._pick(pair, bold)
                if hit is not None and hit not in found:
                    found.append(hit)
                    break
        for pair in WIDE:
            hit = self._pick(pair, bold)
            if hit is not None and hit not in found:
                found.append(hit)
        return tuple(found)

    def runs(self, text: str, role: str, bold: bool = False) -> tuple[list[tuple[str, Path]], str]:
        """``text`` cut into runs drawn with one font each, and the letters no font has (drawn as ``?``)."""
        chain = self.chain(role, bold)
        runs: list[tuple[str, Path]] = []
        missing = ""
        for ch in text:
            if runs and (ch == " " or unicodedata.combining(ch)) and has_letter(runs[-1][1], ch):
                runs[-1] = (runs[-1][0] + ch, runs[-1][1])  # marks and spaces stay with the letter before them
                continue
            font = next((path for path in chain if has_letter(path, ch)), None)
            if font is None:
                missing += ch
                ch = REPLACEMENT
                font = next((path for path in chain if has_letter(path, ch)), None)
                if font is None:
                    continue
            if runs and runs[-1][1] == font:
                runs[-1] = (runs[-1][0] + ch, font)
            else:
                runs.append((ch, font))
        if missing:
            note_fallback(missing)
        return runs, missing


@functools.lru_cache(maxsize=64)
def _letters(path: Path) -> frozenset[int]:
    from fontTools.ttLib import TTFont  # fpdf2's dependency; loaded on first use

    with TTFont(str(path), lazy=True, fontNumber=0) as font:
        cmap = font.getBestCmap() or {}
    return frozenset(cmap)


def has_letter(path: Path, ch: str) -> bool:
    return ord(ch) in _letters(path) or ch in "\t\n\r"


_DEFAULT: list[FontLibrary] = []
_ACTIVE: ContextVar[FontLibrary | None] = ContextVar("pos_referral_fonts", default=None)
_NOTES: ContextVar[list[str] | None] = ContextVar("pos_referral_font_notes", default=None)


def library() -> FontLibrary:
    """The library in force: the one ``using`` set for this thread, else the shipped fonts + the machine's."""
    active = _ACTIVE.get()
    if active is not None:
        return active
    if not _DEFAULT:
        _DEFAULT.append(FontLibrary(default_folders()))
    return _DEFAULT[0]


@contextlib.contextmanager
def using(fonts: FontLibrary) -> Iterator[FontLibrary]:
    """Render with ``fonts`` inside the block (this thread only)."""
    token = _ACTIVE.set(fonts)
    try:
        yield fonts
    finally:
        _ACTIVE.reset(token)


@contextlib.contextmanager
def noting_fallbacks() -> Iterator[list[str]]:
    """Collect the letters replaced while rendering inside the block (one string per line that lost some)."""
    notes: list[str] = []
    token = _NOTES.set(notes)
    try:
        yield notes
    finally:
        _NOTES.reset(token)


def note_fallback(missing: str) -> None:
    notes = _NOTES.get()
    if notes is not None:
        notes.append(missing)


def describe_missing(notes: Sequence[str]) -> str:
    """``U+4E2D U+6587`` for the letters drawn as ``?`` (code points: the log stays ASCII and names no one)."""
    seen = dict.fromkeys(ch for note in notes for ch in note)
    shown = " ".join(f"U+{ord(ch):04X}" for ch in list(seen)[:8])
    return shown + (" ..." if len(seen) > 8 else "")
