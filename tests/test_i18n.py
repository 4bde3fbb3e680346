"""The Simplified Chinese catalogue: complete, fully translated, compiled, and served.

Regenerate and compile it with ``make messages`` after adding or changing a string.
"""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import polib
import pytest
from django.conf import settings
from django.utils import translation

PROJECT_DIR = Path(settings.BASE_DIR)
LOCALE = "zh_Hans"
LC_MESSAGES = PROJECT_DIR / "locale" / LOCALE / "LC_MESSAGES"
PO_PATH = LC_MESSAGES / "django.po"
MO_PATH = LC_MESSAGES / "django.mo"

# The same command as `make messages` (see the Makefile), run inside a copy of the tree.
MAKEMESSAGES_ARGS = [
    "makemessages",
    "-l",
    LOCALE,
    "--no-obsolete",
    "--ignore=.venv/*",
    "--ignore=tests/*",
    "--ignore=staticfiles/*",
]
# makemessages shells out to all of these.
GETTEXT_TOOLS = ["xgettext", "msguniq", "msgmerge", "msgattrib"]
# Not source: never copied into the scratch tree.
COPY_IGNORE = shutil.ignore_patterns(
    ".venv",
    ".git",
    "artifacts",
    "staticfiles",
    "media",
    "node_modules",
    "__pycache__",
    "*.pyc",
    ".pytest_cache",
    ".ruff_cache",
    "test-results",
    "playwright-report",
    "db.sqlite3*",
)

# %(name)s, %s, %d, %.2f ... (but not a literal %%), and str.format's {name} / {0} / {}.
PERCENT_PLACEHOLDER = re.compile(
    r"%(?:\([^)]*\))?[#0 +-]*(?:\*|\d+)?(?:\.(?:\*|\d+))?[diouxXeEfFgGcrsa%]"
)
BRACE_PLACEHOLDER = re.compile(r"(?<!\{)\{[A-Za-z0-9_.\[\]]*(?:![rsa])?(?::[^{}]*)?\}(?!\})")
CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")


def _placeholders(text: str) -> set[str]:
    """The formatting tokens in a message; translations may reorder or repeat them."""
    tokens = {t for t in PERCENT_PLACEHOLDER.findall(text) if t != "%%"}
    return tokens | set(BRACE_PLACEHOLDER.findall(text))


def _key(entry) -> tuple:
    return (entry.msgctxt or "", entry.msgid, entry.msgid_plural or "")


def _translation(entry):
    if entry.msgid_plural:
        return tuple(entry.msgstr_plural[i] for i in sorted(entry.msgstr_plural))
    return entry.msgstr


def _keys(po) -> set[tuple]:
    return {_key(e) for e in po if not e.obsolete}


def _nplurals(po) -> int:
    match = re.search(r"nplurals\s*=\s*(\d+)", po.metadata.get("Plural-Forms", ""))
    return int(match.group(1)) if match else 1


def _describe(keys) -> str:
    return "\n".join(
        f"  {msgid!r}" + (f" (context {ctx!r})" if ctx else "") for ctx, msgid, _ in sorted(keys)
    )


@pytest.fixture(scope="module")
def po():
    assert PO_PATH.exists(), f"{PO_PATH} is missing; run `make messages`"
    return polib.pofile(str(PO_PATH))


def test_catalogue_header(po):
    assert not po.metadata_is_fuzzy, "the header is marked fuzzy"
    assert po.metadata.get("Language") == LOCALE
    assert po.metadata.get("Plural-Forms", "").replace(" ", "") == "nplurals=1;plural=0;"
    assert "charset=UTF-8" in po.metadata.get("Content-Type", "")


def test_every_entry_is_translated_not_fuzzy_and_keeps_its_placeholders(po):
    problems = []
    for entry in po:
        if entry.obsolete:
            problems.append(f"{entry.msgid!r}: obsolete entry left in the file")
            continue
        if "fuzzy" in entry.flags:
            problems.append(f"{entry.msgid!r}: marked fuzzy")
        if entry.msgid_plural:
            # Chinese has one plural form, used for every count: it must carry the
            # placeholders of the plural msgid (the singular may omit the number).
            expected = _placeholders(entry.msgid_plural)
            if not _placeholders(entry.msgid) <= expected:
                problems.append(f"{entry.msgid!r}: singular has placeholders the plural lacks")
            translations = [entry.msgstr_plural.get(i, "") for i in range(_nplurals(po))]
        else:
            expected = _placeholders(entry.msgid)
            translations = [entry.msgstr]
        for text in translations:
            if not text.strip():
                problems.append(f"{entry.msgid!r}: not translated")
                continue
            found = _placeholders(text)
            if found != expected:
                problems.append(
                    f"{entry.msgid!r}: placeholders {sorted(expected)} "
                    f"became {sorted(found)} in {text!r}"
                )
            if not CJK.search(text):
                problems.append(f"{entry.msgid!r}: translation {text!r} has no Chinese")
    assert not problems, "django.po problems:\n" + "\n".join(problems)


def test_placeholder_check_catches_a_dropped_placeholder():
    assert _placeholders("Welcome to %(name)s! 100%% sure, %s") == {"%(name)s", "%s"}
    assert _placeholders("欢迎加入 %(name)s！") != _placeholders("Welcome %(nom)s")
    assert _placeholders("{count} items, {{literal}}") == {"{count}"}


def test_catalogue_lists_exactly_the_strings_in_the_source(po, tmp_path):
    """A string marked in code or a template but missing from django.po fails here."""
    missing_tools = [tool for tool in GETTEXT_TOOLS if shutil.which(tool) is None]
    if missing_tools:
        reason = f"GNU gettext tools missing: {', '.join(missing_tools)} (apt-get install gettext)"
        if os.environ.get("REQUIRE_GETTEXT") == "1":
            pytest.fail(f"REQUIRE_GETTEXT=1 but {reason}")
        pytest.skip(reason)

    tree = tmp_path / "src"
    shutil.copytree(
        PROJECT_DIR,
        tree,
        ignore=lambda directory, names: (
            COPY_IGNORE(directory, names) | ({"tests"} if Path(directory) == PROJECT_DIR else set())
        ),
    )
    result = subprocess.run(
        [sys.executable, "manage.py", *MAKEMESSAGES_ARGS],
        cwd=tree,
        capture_output=True,
        text=True,
        timeout=180,
        env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
    )
    assert result.returncode == 0, f"makemessages failed:\n{result.stdout}\n{result.stderr}"

    regenerated = polib.pofile(str(tree / "locale" / LOCALE / "LC_MESSAGES" / "django.po"))
    committed, extracted = _keys(po), _keys(regenerated)
    missing, stale = extracted - committed, committed - extracted
    assert not missing, (
        "strings in the source are missing from django.po; run `make messages` and "
        "translate them:\n" + _describe(missing)
    )
    assert not stale, (
        "django.po has strings no longer in the source; run `make messages`:\n" + _describe(stale)
    )


def test_compiled_catalogue_matches_the_po(po):
    assert MO_PATH.exists(), f"{MO_PATH} is missing; run `make messages`"
    mo = polib.mofile(str(MO_PATH))
    compiled = {_key(e): _translation(e) for e in mo if e.msgid}
    source = {_key(e): _translation(e) for e in po if not e.obsolete and "fuzzy" not in e.flags}
    stale = sorted(key[1] for key, value in source.items() if compiled.get(key) != value)
    extra = sorted(key[1] for key in compiled.keys() - source.keys())
    assert not stale and not extra, (
        "django.mo is out of date with django.po; run `make messages` "
        f"(or compilemessages). Differing: {stale[:10]}; only in .mo: {extra[:10]}"
    )
    assert mo.metadata.get("Plural-Forms") == po.metadata.get("Plural-Forms")


def _catalogue_text(msgid: str) -> str:
    with translation.override("zh-hans"):
        return translation.gettext(msgid)


@pytest.mark.django_db
def test_login_page_in_english(client):
    response = client.get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="en")
    html = response.content.decode()
    assert response.status_code == 200
    assert '<html lang="en">' in html
    assert "Tuangou" in html
    assert "Skip to content" in html
    assert _catalogue_text("Tuangou") not in html


@pytest.mark.django_db
def test_login_page_in_chinese(client):
    brand, skip_link = _catalogue_text("Tuangou"), _catalogue_text("Skip to content")
    assert CJK.search(brand) and CJK.search(skip_link), "zh-hans catalogue not loaded"

    response = client.get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="zh-CN,zh;q=0.9")
    html = response.content.decode()
    assert response.status_code == 200
    assert '<html lang="zh-hans">' in html
    assert brand in html
    assert skip_link in html
    assert "Skip to content" not in html


@pytest.mark.django_db
def test_language_switch_for_an_anonymous_visitor(client):
    response = client.post(
        "/language/", {"language": "en", "next": "/"}, HTTP_ACCEPT_LANGUAGE="zh-CN"
    )
    assert response.status_code == 302
    assert response["Location"] == "/"
    assert client.cookies[settings.LANGUAGE_COOKIE_NAME].value == "en"

    html = client.get("/", HTTP_ACCEPT_LANGUAGE="zh-CN").content.decode()
    assert '<html lang="en">' in html
    assert "Tuangou" in html

    client.post("/language/", {"language": "zh-hans", "next": "/"})
    assert client.cookies[settings.LANGUAGE_COOKIE_NAME].value == "zh-hans"
    html = client.get("/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert '<html lang="zh-hans">' in html
    assert _catalogue_text("Tuangou") in html
