"""Attachment downloads, served only to users who may see the ticket (404 otherwise)."""

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


def attachment_response(attachment) -> FileResponse:
    """The file as a download that a browser never renders in the desk's origin."""
    response = FileResponse(
        attachment.file.open("rb"),
        as_attachment=True,
        filename=attachment.filename,
        content_type=attachment.content_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response
