"""Attachment downloads, served only to users who may see the ticket (404 otherwise)."""

import re

from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404

from servicedesk.core.errors import NotFound
from servicedesk.tickets import selectors


@login_required
def download_attachment(request, attachment_id: int):
    try:
        attachment = selectors.get_attachment(user=request.user, attachment_id=attachment_id)
    except NotFound:
        raise Http404("No such attachment.") from None
    return attachment_response(attachment)


# A MIME type as a Content-Type header carries it: type/subtype (RFC 9110 tokens), then any
# parameters in printable ASCII. Nothing else reaches the header: no CR or LF to split it.
TOKEN = r"[!#$%&'*+.^_`|~0-9A-Za-z-]+"
MIME_TYPE = rf"^{TOKEN}/{TOKEN}([ \t]*;[\t -~]*)?$"


def attachment_response(attachment) -> FileResponse:
    """The file as a download that a browser never renders in the desk's origin.

    A content type stored before uploads were checked, and not a MIME type, is served as
    application/octet-stream rather than as a broken header (a 500 on every download)."""
    content_type = attachment.content_type
    if not re.fullmatch(MIME_TYPE, content_type or ""):
        content_type = "application/octet-stream"
    response = FileResponse(
        attachment.file.open("rb"),
        as_attachment=True,
        filename=attachment.filename,
        content_type=content_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response
