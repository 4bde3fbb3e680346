"""Our Simplified Chinese wording of django-allauth's account strings.

allauth's own zh_Hans catalogue calls an SMS verification code 代码 ("program code"), says
电话 for a mobile number and mixes ASCII colons and full stops into Chinese text. Our
wording lives in locale_overrides/ (see settings.LOCALE_PATHS); these tests check that it
applies, and that every account string a user can meet reads as Chinese should.
"""

import re
from pathlib import Path

import allauth
import polib
import pytest
from django.conf import settings
from django.utils import translation

from tests.test_i18n import _placeholders

OVERRIDES = Path(settings.BASE_DIR) / "locale_overrides" / "zh_Hans" / "LC_MESSAGES"
ALLAUTH_PO = Path(allauth.__file__).parent / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"
# Parts of allauth this project does not install: their strings never reach a user.
NOT_INSTALLED = ("mfa/", "socialaccount/", "usersessions/", "headless/", "idp/")
# A CJK character (or full-width punctuation) followed by ASCII punctuation: "验证码:".
ASCII_PUNCTUATION_IN_CHINESE = re.compile(
    r"[\u3400-\u9fff\u3000-\u303f\uff00-\uffef]\s*[:;!?,](?!\d)"
    r"|[\u3400-\u9fff]\s*\.(?![A-Za-z0-9])"
)


def _key(entry) -> tuple[str, str]:
    return entry.msgctxt or "", entry.msgid


@pytest.fixture(scope="module")
def overrides():
    return polib.pofile(str(OVERRIDES / "django.po"))


@pytest.fixture(scope="module")
def account_strings():
    """allauth's messages that the installed account app can show."""
    catalogue = polib.pofile(str(ALLAUTH_PO))
    return [
        entry
        for entry in catalogue
        if not entry.obsolete
        and not entry.msgid_plural
        and not all(
            any(part in path for part in NOT_INSTALLED) for path, _line in entry.occurrences
        )
    ]


def _zh(entry) -> str:
    with translation.override("zh-hans"):
        if entry.msgctxt:
            return translation.pgettext(entry.msgctxt, entry.msgid)
        return translation.gettext(entry.msgid)


def test_every_override_names_a_string_allauth_has(overrides):
    known = {_key(entry) for entry in polib.pofile(str(ALLAUTH_PO))}
    unknown = [entry.msgid for entry in overrides if _key(entry) not in known]
    assert not unknown, f"overrides for strings allauth does not have (renamed?): {unknown}"


def test_overrides_keep_their_placeholders(overrides):
    changed = [
        entry.msgid
        for entry in overrides
        if _placeholders(entry.msgid) != _placeholders(entry.msgstr) or not entry.msgstr
    ]
    assert not changed, changed


def test_compiled_overrides_match_the_po(overrides):
    compiled = {_key(e): e.msgstr for e in polib.mofile(str(OVERRIDES / "django.mo")) if e.msgid}
    source = {_key(e): e.msgstr for e in overrides}
    assert compiled == source, "locale_overrides/.../django.mo is stale: run `make messages`"


def test_overrides_win_over_allauths_catalogue():
    with translation.override("zh-hans"):
        assert translation.gettext("Code") == "验证码"
        assert translation.gettext("Request Code") == "获取验证码"
        assert translation.gettext("Phone") == "手机号"


def test_no_account_string_calls_a_verification_code_a_program_code(account_strings):
    # 国家或地区代码 (country code) is the one proper use of 代码 here.
    wrong = [
        (entry.msgid, text)
        for entry in account_strings
        if "代码" in (text := _zh(entry)).replace("地区代码", "")
    ]
    assert not wrong, "\n".join(f"{msgid!r} -> {text!r}" for msgid, text in wrong)


def test_no_ascii_punctuation_inside_chinese_account_strings(account_strings):
    wrong = [
        (entry.msgid, text)
        for entry in account_strings
        if ASCII_PUNCTUATION_IN_CHINESE.search(text := _zh(entry))
    ]
    assert not wrong, "\n".join(f"{msgid!r} -> {text!r}" for msgid, text in wrong)


def test_the_punctuation_check_catches_what_it_should():
    assert ASCII_PUNCTUATION_IN_CHINESE.search("输入您的密码:")
    assert ASCII_PUNCTUATION_IN_CHINESE.search("您的用户名是%(username)s.") is None
    assert ASCII_PUNCTUATION_IN_CHINESE.search("作为提示.")
    assert ASCII_PUNCTUATION_IN_CHINESE.search("请上传 .csv 文件") is None
    assert ASCII_PUNCTUATION_IN_CHINESE.search("截单时间：12:00") is None


@pytest.mark.django_db
def test_code_log_in_pages_say_verification_code(client):
    html = client.get("/accounts/login/code/", HTTP_ACCEPT_LANGUAGE="zh-CN").content.decode()
    assert "获取验证码" in html
    assert "代码" not in html
