"""Cells of CSV exports that spreadsheets show as text and never run (CWE-1236)."""

# A cell starting with one of these is a formula to Excel and LibreOffice.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_text(text: str) -> str:
    """Prefix text that a spreadsheet would take for a formula with "'" (shown as text)."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text
