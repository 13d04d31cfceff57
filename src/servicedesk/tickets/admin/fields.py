"""Text as the admin's forms receive it, made the way the desk stores it."""

from django import forms


def lf(text: str) -> str:
    """``text`` with LF line ends only."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


class TextareaField(forms.CharField):
    """A textarea's text with LF line ends.

    Browsers submit every line break of a textarea as CRLF (HTML's rule for form data);
    what came by email, API or portal is stored with LF. Normalised here, at the edge, an
    untouched textarea is no change and a changed one is stored like every other text.
    Whitespace around the text is stripped as Django's text fields do, so a stored text that
    ends in a line break is unchanged by a save either.
    """

    def to_python(self, value):
        return lf(super().to_python(value))

    def has_changed(self, initial, data) -> bool:
        if self.disabled:
            return False
        return lf(initial or "").strip() != self.to_python(data)
