"""Small helpers for reading rendered pages in the accounts tests."""

import html
import re


def field_errors(response, field: str) -> list[str]:
    """Error texts rendered next to ``field`` (``data-testid="error-<field>"``)."""
    body = response.content.decode()
    pattern = rf'<p class="field-error" data-testid="error-{re.escape(field)}">(.*?)</p>'
    return [html.unescape(text) for text in re.findall(pattern, body, flags=re.S)]


def by_testid(response, testid: str) -> str:
    """Text inside the first element carrying ``data-testid=testid`` (tags stripped)."""
    body = response.content.decode()
    match = re.search(
        rf'<(\w+)[^>]*data-testid="{re.escape(testid)}"[^>]*>(.*?)</\1>', body, flags=re.S
    )
    assert match, f'no element with data-testid="{testid}"'
    return html.unescape(re.sub(r"<[^>]+>", " ", match.group(2)))
