"""Raw RFC 822 bytes in, what the desk needs out. Pure: the standard library, nh3 and tnefparse.

Mail from the outside is often broken: wrong or missing charsets, malformed encoded words,
multiparts without a body or without a closing boundary, invalid headers. Every step here
falls back to something readable instead of failing; only a message with no usable sender
is refused (``Unparseable``), and the caller quarantines it with the reason.
"""

import hashlib
import html
import re
from dataclasses import dataclass, field
from datetime import datetime
from email import message_from_bytes, policy
from email.header import decode_header
from email.message import Message
from email.utils import getaddresses, parseaddr, parsedate_to_datetime
from html.parser import HTMLParser

import nh3

# Headers that describe the message itself; a digest over these and the body recognises a
# re-delivery even when the transport headers (Received, Delivered-To, …) differ.
CONTENT_HEADERS = (
    "from",
    "to",
    "cc",
    "subject",
    "date",
    "message-id",
    "in-reply-to",
    "references",
    "mime-version",
    "content-type",
    "content-transfer-encoding",
)
SENDER_HEADERS = ("from", "sender", "reply-to", "return-path")
MBOX_FROM_LINE = re.compile(rb"\AFrom [^\r\n]*\r?\n")
BLANK_LINE = re.compile(rb"\r?\n\r?\n")
MESSAGE_ID = re.compile(r"<([^<>\s\x00-\x1f\x7f]+)>")
# NUL and the other control characters: never stored (PostgreSQL refuses NUL in text, and
# none of them means anything to a reader). Text keeps its tabs and line breaks.
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
LINE_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
MAILBOX = re.compile(r"[^\s@<>\x00-\x1f\x7f-\x9f]+@[^\s@<>\x00-\x1f\x7f-\x9f]+")
MIME_TYPE = re.compile(r"[a-z0-9][a-z0-9!#$&^_.+-]*/[a-z0-9][a-z0-9!#$&^_.+-]*")
# Charsets that mail clients declare but mean something wider.
CHARSET_ALIASES = {
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "x-gbk": "gb18030",
    "ks_c_5601-1987": "cp949",
    "iso-8859-1": "cp1252",
    "latin1": "cp1252",
    "latin-1": "cp1252",
    "us-ascii": "cp1252",
    "ascii": "cp1252",
    "iso-8859-8-i": "iso-8859-8",
    "unicode-1-1-utf-7": "utf-7",
    "shift_jis": "cp932",
    "x-sjis": "cp932",
    "windows-874": "cp874",
}


def clean_text(value: str) -> str:
    """Text without NUL or other control characters; line breaks as LF, tabs kept."""
    return CONTROL.sub("", value.replace("\r\n", "\n").replace("\r", "\n"))


def clean_line(value: str) -> str:
    """One line of text (a header, a name): control characters and line breaks become
    spaces, runs of spaces one."""
    return " ".join(LINE_CONTROL.sub(" ", value).split())


class Unparseable(Exception):
    """The message cannot become a ticket or a reply; ``str(error)`` says why."""


@dataclass(frozen=True)
class Address:
    email: str
    name: str = ""

    def __str__(self) -> str:
        return f"{self.name} <{self.email}>" if self.name else self.email


@dataclass(frozen=True)
class FilePart:
    filename: str
    content_type: str
    content: bytes
    content_id: str = ""  # set for inline images referenced as cid: in the HTML


@dataclass
class ParsedMessage:
    message_id: str
    subject: str
    sender: Address
    reply_to: list[Address] = field(default_factory=list)
    to: list[Address] = field(default_factory=list)
    cc: list[Address] = field(default_factory=list)
    date: datetime | None = None
    in_reply_to: list[str] = field(default_factory=list)
    references: list[str] = field(default_factory=list)
    text: str = ""
    html: str = ""  # sanitised
    attachments: list[FilePart] = field(default_factory=list)
    # Lower-cased header name -> every value, decoded: what the noise rules read.
    headers: dict[str, list[str]] = field(default_factory=dict)
    content_type: str = "text/plain"
    # Message-IDs named by a delivery report (the mail that bounced).
    reported_message_ids: list[str] = field(default_factory=list)
    reported_subject: str = ""

    @property
    def thread_ids(self) -> list[str]:
        """Message-IDs this message answers, the most recent first."""
        seen: dict[str, None] = {}
        for message_id in [*self.in_reply_to, *reversed(self.references)]:
            seen.setdefault(message_id, None)
        return list(seen)


# -- identity -------------------------------------------------------------------------------


def without_mbox_line(raw: bytes) -> bytes:
    """The message without a leading mbox ``From `` line, which is not part of it."""
    return MBOX_FROM_LINE.sub(b"", raw, count=1)


def message_ids(value: str) -> list[str]:
    """The Message-IDs in a header value, without angle brackets; a bare id is accepted."""
    found = MESSAGE_ID.findall(value)
    bare = value.strip().strip("<>")
    if not found and bare and not LINE_CONTROL.search(bare) and " " not in bare:
        found = [bare]
    return [f[:250] for f in found if f]


def identity(raw: bytes) -> tuple[str, str]:
    """(Message-ID, content digest) of a raw message.

    The digest covers the content headers and the body with line endings normalised, so the
    same message delivered twice (by the pipe and by IMAP, or with different Received
    headers) has the same identity, while a different message reusing a Message-ID does not.
    """
    raw = without_mbox_line(raw)
    split = BLANK_LINE.search(raw)
    head, body = (raw[: split.start()], raw[split.end() :]) if split else (raw, b"")
    unfolded = re.sub(rb"\r?\n[ \t]+", b" ", head)
    kept: list[bytes] = []
    message_id = ""
    for line in re.split(rb"\r?\n", unfolded):
        name, colon, value = line.partition(b":")
        key = name.strip().lower().decode("ascii", "replace")
        if colon and key in CONTENT_HEADERS:
            value = b" ".join(value.split())
            kept.append(key.encode() + b":" + value)
            if key == "message-id" and not message_id:
                ids = message_ids(value.decode("utf-8", "replace"))
                message_id = ids[0] if ids else ""
    digest = hashlib.sha256()
    for line in sorted(kept):
        digest.update(line + b"\n")
    digest.update(b"\n" + b"\n".join(line.rstrip() for line in re.split(rb"\r?\n", body.strip())))
    return message_id, digest.hexdigest()


# -- text -----------------------------------------------------------------------------------


def decode_bytes(payload: bytes, charset: str | None) -> str:
    """Bytes as text in the declared charset, or the likeliest one when that fails."""
    declared = (charset or "").strip().strip('"').lower()
    wider = CHARSET_ALIASES.get(declared, declared)
    if wider in ("cp1252", "") and _is_utf8(payload):
        return payload.decode("utf-8")  # mislabelled UTF-8 (or no label at all)
    for candidate in (wider, "utf-8"):
        if not candidate:
            continue
        try:
            return payload.decode(candidate)
        except (LookupError, UnicodeDecodeError):
            continue
    return payload.decode("cp1252", "replace")


def _is_utf8(payload: bytes) -> bool:
    try:
        payload.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def decode_words(value: str) -> str:
    """A header value with RFC 2047 encoded words decoded, tolerating malformed ones."""
    if "=?" not in value:
        return clean_line(value)
    # Malformed words often hold spaces or line breaks inside; close them up first.
    value = re.sub(
        r"=\?([^?\s]+)\?([qQbB])\?(.*?)\?=",
        lambda m: f"=?{m[1]}?{m[2]}?{_close_word(m[2], m[3])}?=",
        " ".join(value.split()),
    )
    try:
        pieces = decode_header(value)
    except Exception:
        return clean_line(value)
    out: list[str] = []
    for text, charset in pieces:
        if isinstance(text, bytes):
            out.append(decode_bytes(text, charset))
        else:
            out.append(text)
    return clean_line("".join(out))


def _close_word(encoding: str, text: str) -> str:
    if encoding in "qQ":
        return text.replace(" ", "_")
    return text.replace(" ", "")


def _raw_headers(message: Message) -> dict[str, list[str]]:
    """Lower-cased name -> every value as sent (unfolded, encoded words left as they are);
    never raises. Addresses are read from these: a decoded display name may hold anything."""
    headers: dict[str, list[str]] = {}
    for key, raw_value in message.raw_items():
        raw_value = str(raw_value)
        try:
            raw_value.encode("ascii")
        except UnicodeEncodeError:
            # Raw 8-bit header: the parser read it as surrogate-escaped latin-1 bytes.
            raw_value = decode_bytes(raw_value.encode("utf-8", "surrogateescape"), "utf-8")
        headers.setdefault(key.lower(), []).append(clean_line(raw_value))
    return headers


def _decoded(raw: dict[str, list[str]]) -> dict[str, list[str]]:
    """The same headers with their encoded words decoded: for reading, never for addresses."""
    return {key: [decode_words(value) for value in values] for key, values in raw.items()}


def _all_headers(message: Message) -> dict[str, list[str]]:
    """Lower-cased name -> every value, decoded; never raises."""
    return _decoded(_raw_headers(message))


def _addresses(values: list[str]) -> list[Address]:
    """The mailboxes in raw header values. The address is the one the header gives, never
    one written in a display name (encoded or not); the name is decoded afterwards."""
    found: list[Address] = []
    for name, email in getaddresses(values):
        email = email.strip().strip(".")
        if MAILBOX.fullmatch(email):
            found.append(Address(email=_normal_email(email), name=decode_words(name)))
    return found


def _normal_email(email: str) -> str:
    local, _, domain = email.rpartition("@")
    return f"{local}@{domain.lower()}"


def _sender(values: list[str]) -> Address | None:
    addresses = _addresses(values[:1])
    if addresses:
        return addresses[0]
    # Broken headers such as  "Name"@example.com>  still name a mailbox.
    for value in values:
        value = value.replace('"', "")
        name, email = parseaddr(value)
        email = email.strip("<>").strip()
        if MAILBOX.fullmatch(email) and "." in email.rpartition("@")[2]:
            return Address(email=_normal_email(email), name=decode_words(name))
        # Never from inside an encoded word: that is a display name, whatever it holds.
        match = re.search(r"[\w.+'-]+@[\w-]+(\.[\w-]+)+", re.sub(r"=\?.*?\?=", " ", value))
        if match:
            return Address(email=_normal_email(match[0]))
    return None


# -- HTML -----------------------------------------------------------------------------------


def sanitise_html(value: str) -> str:
    """HTML safe to show: scripts, styles, event handlers and foreign schemes removed; inline
    images keep their ``cid:`` source so the desk can point it at the stored attachment."""
    return nh3.clean(
        value,
        url_schemes={"http", "https", "mailto", "tel", "cid"},
        link_rel="noopener noreferrer nofollow",
    )


BLOCK_TAGS = {"p", "div", "br", "tr", "li", "h1", "h2", "h3", "h4", "h5", "h6", "table", "hr"}
SKIPPED_TAGS = {"script", "style", "head", "title"}


class _TextOfHtml(HTMLParser):
    """Readable text of an HTML body; ``blockquote`` becomes ``>`` quoting, as in plain mail."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: list[str] = [""]
        self.quote_depth = 0
        self.skipping = 0

    def _newline(self) -> None:
        self.lines.append("")

    def handle_starttag(self, tag, attrs):
        if tag in SKIPPED_TAGS:
            self.skipping += 1
        elif tag == "blockquote":
            self.quote_depth += 1
            self._newline()
        elif tag in BLOCK_TAGS:
            self._newline()

    def handle_endtag(self, tag):
        if tag in SKIPPED_TAGS:
            self.skipping = max(self.skipping - 1, 0)
        elif tag == "blockquote":
            self.quote_depth = max(self.quote_depth - 1, 0)
            self._newline()
        elif tag in BLOCK_TAGS and tag != "br":
            self._newline()

    def handle_data(self, data):
        if self.skipping:
            return
        text = " ".join(data.replace("\xa0", " ").split())
        if not text:
            return
        if not self.lines[-1]:
            self.lines[-1] = "> " * self.quote_depth
        elif not self.lines[-1].endswith(" "):
            self.lines[-1] += " "
        self.lines[-1] += text


def html_to_text(value: str) -> str:
    parser = _TextOfHtml()
    try:
        parser.feed(value)
        parser.close()
    except Exception:  # the parser is lenient; this is a last resort
        return html.unescape(re.sub(r"<[^>]*>", " ", value)).strip()
    text = "\n".join(line.rstrip() for line in parser.lines)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


# -- the message ----------------------------------------------------------------------------


def parse(raw: bytes) -> ParsedMessage:
    """Parse a raw message; raises ``Unparseable`` when it cannot become a ticket or reply."""
    raw = without_mbox_line(raw)
    if not raw.strip():
        raise Unparseable("The message is empty.")
    try:
        message = message_from_bytes(raw, policy=policy.default)
    except Exception as error:  # the parser is lenient; anything else is truly broken
        raise Unparseable(f"The message cannot be read: {error}") from error

    raw_headers = _raw_headers(message)
    headers = _decoded(raw_headers)
    # No usable From (spam and broken mailers): the next header that names who sent it.
    sender = next(
        filter(None, (_sender(raw_headers.get(h, [])) for h in SENDER_HEADERS)),
        None,
    )
    if sender is None:
        raise Unparseable("The message has no sender address to answer.")
    message_id = next((i for v in headers.get("message-id", []) for i in message_ids(v)), "")
    parsed = ParsedMessage(
        message_id=message_id,
        subject=" ".join(" ".join(headers.get("subject", [""])[:1]).split()),
        sender=sender,
        reply_to=_addresses(raw_headers.get("reply-to", [])),
        to=_addresses(raw_headers.get("to", [])),
        cc=_addresses(raw_headers.get("cc", [])),
        date=_date(headers.get("date", [])),
        in_reply_to=[i for v in headers.get("in-reply-to", []) for i in message_ids(v)],
        references=[i for v in headers.get("references", []) for i in message_ids(v)],
        headers=headers,
        content_type=_content_type(message),
    )
    body = _Body()
    body.read(message)
    html_body = "\n".join(body.htmls)
    parsed.html = sanitise_html(clean_text(html_body)) if html_body.strip() else ""
    text = "\n\n".join(t.strip("\r\n") for t in body.texts if t.strip())
    parsed.text = clean_text(text).strip()
    parsed.attachments = body.files
    parsed.reported_message_ids = body.reported_ids
    parsed.reported_subject = body.reported_subject
    return parsed


def _content_type(part: Message) -> str:
    try:
        content_type = part.get_content_type()
    except Exception:
        return "text/plain"
    return content_type if MIME_TYPE.fullmatch(content_type) else "application/octet-stream"


def _date(values: list[str]) -> datetime | None:
    for value in values:
        try:
            return parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            continue
    return None


def _filename(part: Message) -> str:
    try:
        name = part.get_filename() or part.get_param("name") or ""
    except Exception:
        name = ""
    if isinstance(name, tuple):  # an RFC 2231 value the parser left undecoded
        name = decode_bytes(name[2].encode("latin-1", "replace"), name[0])
    return decode_words(str(name))


def _payload(part: Message) -> bytes:
    try:
        payload = part.get_payload(decode=True)
    except Exception:
        payload = None
    if payload is None:
        raw = part.get_payload()
        payload = raw.encode("utf-8", "surrogateescape") if isinstance(raw, str) else b""
    return payload


class _Body:
    """Walks the MIME tree once, sorting leaves into body texts, HTML and files."""

    def __init__(self) -> None:
        self.texts: list[str] = []
        self.htmls: list[str] = []
        self.files: list[FilePart] = []
        self.reported_ids: list[str] = []
        self.reported_subject = ""

    def read(self, part: Message) -> None:
        ctype = _content_type(part)
        if ctype.startswith("multipart/") and part.is_multipart():
            children = part.get_payload()
            if ctype == "multipart/alternative":
                self._alternative(children)
            else:
                for child in children:
                    self.read(child)
            return
        if ctype in ("message/rfc822", "message/global") or (
            ctype.startswith("message/") and part.is_multipart()
        ):
            self._attached_message(part)
            return
        if ctype in ("message/delivery-status", "text/rfc822-headers"):
            self._report(_payload(part))
            if ctype == "text/rfc822-headers":
                return
        filename = _filename(part)
        disposition = (part.get_content_disposition() or "").lower()
        if ctype in ("application/ms-tnef", "application/vnd.ms-tnef") or (
            filename.lower() == "winmail.dat"
        ):
            self._tnef(_payload(part), filename)
            return
        is_body_text = ctype in ("text/plain", "text/html") or ctype.startswith("multipart/")
        if is_body_text and disposition != "attachment" and not (filename and ctype != "text/html"):
            text = decode_bytes(_payload(part), _charset(part))
            if ctype == "text/html":
                self.htmls.append(text)
                self.texts.append(html_to_text(text))
            else:
                self.texts.append(text)
            return
        content = _payload(part)
        if not content and not filename:
            return
        try:
            content_id = clean_line(str(part.get("Content-ID") or "")).strip("<>")
        except Exception:  # an unreadable header: no inline reference
            content_id = ""
        self.files.append(
            FilePart(
                filename=filename or _default_name(ctype),
                content_type=ctype,
                content=content,
                content_id=content_id if disposition != "attachment" else "",
            )
        )

    def _alternative(self, children: list[Message]) -> None:
        # The parts say the same thing: the text comes from the plain part when there is one,
        # the HTML from the HTML part; files in any of them are kept.
        choice = _Body()
        for child in children:
            plain = _Body()
            plain.read(child)
            choice.files += plain.files
            choice.htmls += plain.htmls
            choice.reported_ids += plain.reported_ids
            preferred = _content_type(child) == "text/plain" or not choice.texts
            if preferred and any(t.strip() for t in plain.texts):
                choice.texts = plain.texts
        self.texts += choice.texts
        self.htmls += choice.htmls[-1:]  # the last alternative is the richest
        self.files += choice.files
        self.reported_ids += choice.reported_ids

    def _attached_message(self, part: Message) -> None:
        payload = part.get_payload()
        inner = payload[0] if isinstance(payload, list) and payload else None
        if isinstance(inner, Message):
            inner_headers = _all_headers(inner)
            self._report_from(inner_headers)
            data = inner.as_bytes(policy=policy.default.clone(linesep="\r\n"))
            subject = " ".join(inner_headers.get("subject", [])) or "message"
        else:
            data = _payload(part)
            subject = "message"
        name = re.sub(r"[^\w\s.-]", "", subject)[:80].strip() or "message"
        self.files.append(
            FilePart(filename=f"{name}.eml", content_type="message/rfc822", content=data)
        )

    def _report_from(self, inner_headers: dict[str, list[str]]) -> None:
        for value in inner_headers.get("message-id", []):
            self.reported_ids.extend(message_ids(value))
        if not self.reported_subject:
            self.reported_subject = " ".join(inner_headers.get("subject", []))

    def _report(self, payload: bytes) -> None:
        """Message-IDs and subject named in a delivery report's headers part."""
        text = decode_bytes(payload, "utf-8")
        unfolded = re.sub(r"\r?\n[ \t]+", " ", text)
        for line in unfolded.splitlines():
            name, _, value = line.partition(":")
            if name.strip().lower() == "message-id":
                self.reported_ids.extend(message_ids(value))
            elif name.strip().lower() == "subject" and not self.reported_subject:
                self.reported_subject = decode_words(value)

    def _tnef(self, payload: bytes, filename: str) -> None:
        """Outlook's winmail.dat: its files and body when it can be read, else kept as is."""
        from tnefparse import TNEF

        try:
            tnef = TNEF(payload)
            for attachment in tnef.attachments:
                name = attachment.long_filename() or attachment.name or "attachment"
                self.files.append(
                    FilePart(
                        filename=clean_line(str(name)) or "attachment",
                        content_type="application/octet-stream",
                        content=bytes(attachment.data),
                    )
                )
            body = getattr(tnef, "body", None)
            if body:
                self.texts.append(body if isinstance(body, str) else decode_bytes(body, None))
            elif getattr(tnef, "htmlbody", None):
                html_body = tnef.htmlbody
                self.htmls.append(
                    html_body if isinstance(html_body, str) else decode_bytes(html_body, None)
                )
        except Exception:
            self.files.append(
                FilePart(
                    filename=filename or "winmail.dat",
                    content_type="application/ms-tnef",
                    content=payload,
                )
            )


def _charset(part: Message) -> str | None:
    try:
        return part.get_content_charset()
    except Exception:
        return None


EXTENSIONS = {
    "application/pdf": ".pdf",
    "image/png": ".png",
    "image/jpeg": ".jpg",
    "image/gif": ".gif",
    "text/plain": ".txt",
    "text/csv": ".csv",
    "text/calendar": ".ics",
    "application/pgp-signature": ".asc",
    "application/pgp-encrypted": ".pgp",
}


def _default_name(content_type: str) -> str:
    return "attachment" + EXTENSIONS.get(content_type, ".bin")
