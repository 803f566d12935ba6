"""WARC files written in the tests with warcio's own writer, as crawlers write them: gzip per
record, HTTP bodies chunked or gzip-encoded, charsets other than UTF-8."""

from __future__ import annotations

import gzip
import io
from dataclasses import dataclass, field
from pathlib import Path

from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter


@dataclass
class Page:
    url: str
    body: str
    content_type: str = "text/html"  # the media type the server gives
    charset: str | None = "utf-8"  # in the Content-Type header; None: undeclared
    encoding: str = "utf-8"  # how the body's bytes are encoded
    chunked: bool = False
    gzipped: bool = False  # Content-Encoding: gzip
    status: str = "200 OK"
    date: str = "2023-07-29T08:30:00Z"
    headers: list[tuple[str, str]] = field(default_factory=list)


def _chunked(data: bytes, size: int = 700) -> bytes:
    parts = [data[i:i + size] for i in range(0, len(data), size)]
    return b"".join(b"%x\r\n%s\r\n" % (len(part), part) for part in parts) + b"0\r\n\r\n"


class WarcFile:
    """A WARC being written; :meth:`record_ids` are the ids of its responses, in order."""

    def __init__(self, *, compress: bool = True, version: str = "WARC/1.0") -> None:
        self.buffer = io.BytesIO()
        self.writer = WARCWriter(self.buffer, gzip=compress, warc_version=version)
        self.record_ids: list[str] = []

    def response(self, page: Page) -> str:
        body = page.body.encode(page.encoding)
        if page.gzipped:
            body = gzip.compress(body)
        if page.chunked:
            body = _chunked(body)
        content_type = page.content_type + (f"; charset={page.charset}" if page.charset else "")
        headers = [("Content-Type", content_type), *page.headers]
        if page.gzipped:
            headers.append(("Content-Encoding", "gzip"))
        if page.chunked:
            headers.append(("Transfer-Encoding", "chunked"))
        else:
            headers.append(("Content-Length", str(len(body))))
        http = StatusAndHeaders(page.status, headers, protocol="HTTP/1.1")
        record = self.writer.create_warc_record(
            page.url, "response", payload=io.BytesIO(body), http_headers=http,
            warc_headers_dict={"WARC-Date": page.date})
        self.writer.write_record(record)
        record_id = str(record.rec_headers.get_header("WARC-Record-ID"))
        self.record_ids.append(record_id)
        return record_id

    def other(self, kind: str, url: str, payload: bytes = b"") -> None:
        """A record that is no response: request, revisit, metadata, warcinfo, resource."""
        if kind == "warcinfo":
            record = self.writer.create_warcinfo_record("crawl.warc.gz", {"software": "test"})
        elif kind == "request":
            http = StatusAndHeaders("GET / HTTP/1.1", [("Host", "example.id")],
                                    is_http_request=True)
            record = self.writer.create_warc_record(url, "request", payload=io.BytesIO(b""),
                                                    http_headers=http)
        elif kind == "revisit":
            record = self.writer.create_revisit_record(
                url, digest="sha1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
                refers_to_uri=url, refers_to_date="2023-07-28T08:30:00Z")
        else:
            record = self.writer.create_warc_record(url, kind, payload=io.BytesIO(payload),
                                                    warc_content_type="text/plain")
        self.writer.write_record(record)

    def data(self) -> bytes:
        return self.buffer.getvalue()

    def save(self, path: Path, cut_tail: int = 0) -> Path:
        data = self.data()
        path.write_bytes(data[:-cut_tail] if cut_tail else data)
        return path
