"""Documents attached to agenda items and minutes.

The type is read from the content (the name must agree), the size is
limited, the bytes live in the store's GridFS bucket (the real SecantusDB) and
never on the gateway's disk; who may read a document is decided in one place
(``domain.document_public``), as the closed content of meetings is.
"""

from __future__ import annotations

import base64
import io
import zipfile

import pytest
from nameko.exceptions import RemoteError

from services.boards.domain import MAX_DOCUMENT_BYTES, check_document
from services.boards.exceptions import InvalidValue
from tests.boards.test_service import BOARD, node, sit, soon  # noqa: F401

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n" + bytes(range(256)) * 40
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
ELF = b"\x7fELF\x02\x01\x01" + b"\x00" * 64


def office(kind: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        if kind == "odt":
            archive.writestr("mimetype", "application/vnd.oasis.opendocument.text")
            archive.writestr("content.xml", "<office:document-content/>")
        else:
            archive.writestr("[Content_Types].xml", "<Types/>")
            archive.writestr("word/document.xml", "<w:document/>")
    return buffer.getvalue()


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


@pytest.mark.parametrize(
    ("name", "data", "media"),
    [
        ("ordre-du-jour.pdf", PDF, "application/pdf"),
        ("plan.PNG", PNG, "image/png"),
        (
            "note.docx",
            office("docx"),
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        ),
        ("note.odt", office("odt"), "application/vnd.oasis.opendocument.text"),
        (
            "vieux.doc",
            b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 32,
            "application/msword",
        ),
    ],
)
def test_a_document_type_is_read_from_its_content(name, data, media):
    assert check_document(name, data) == media


@pytest.mark.parametrize(
    ("name", "data", "said_en"),
    [
        ("ordre.pdf", PNG, 'the content is a PNG image, but the name "ordre.pdf"'),
        ("ordre.pdf", ELF, "neither a PDF, an image nor a known office document"),
        ("archive.docx", office("zip-without-parts")[:-1], "neither a PDF"),
        ("vide.pdf", b"", "the file is empty"),
        ("gros.pdf", b"%PDF-" + b"0" * MAX_DOCUMENT_BYTES, "at most 5 MB"),
        ("../../etc/passwd.pdf", PDF, 'field "filename"'),
    ],
)
def test_a_document_not_what_its_name_says_or_too_big_is_refused_by_name(
    name, data, said_en
):
    with pytest.raises(InvalidValue) as refused:
        check_document(name, data)
    assert said_en in refused.value.en
    assert refused.value.field in ("file", "filename")
    assert "champ « file" in refused.value.fr or "champ « filename" in refused.value.fr


def test_documents_are_stored_in_gridfs_and_read_back_for_their_audience(
    node,  # noqa: F811
):
    boards, db, _ = node
    sit(boards, [], meeting_id="pub")
    boards.add_agenda_item("pub", {"item_id": "i1", "title": "Budget"})
    boards.add_agenda_item(
        "pub", {"item_id": "cam", "title": "Dossier du personnel", "in_camera": True}
    )
    attached = boards.attach_document(
        "pub", {"filename": "budget.pdf", "data": b64(PDF), "item_id": "i1"}
    )
    assert (attached["content_type"], attached["size"]) == ("application/pdf", len(PDF))
    assert db["board_documents.files"].count_documents({}) == 1
    assert db["board_documents.chunks"].count_documents({}) >= 1
    back = boards.get_document("pub", attached["document_id"], public=True)
    assert base64.b64decode(back["data"]) == PDF
    in_camera = boards.attach_document(
        "pub", {"filename": "rh.pdf", "data": b64(PDF), "item_id": "cam"}
    )
    minutes = boards.attach_document("pub", {"filename": "pv.pdf", "data": b64(PDF)})
    public = [d["document_id"] for d in boards.list_documents("pub", public=True)]
    assert public == [attached["document_id"]]
    assert len(boards.list_documents("pub")) == 3
    for hidden in (in_camera, minutes):
        with pytest.raises(RemoteError) as err:
            boards.get_document("pub", hidden["document_id"], public=True)
        assert err.value.exc_type == "NotFound"
        assert boards.get_document("pub", hidden["document_id"])["data"] == b64(PDF)

    boards.schedule_meeting(
        BOARD,
        {"meeting_id": "huis", "kind": "closed", "scheduled_at": soon(2), "place": "B"},
    )
    boards.add_agenda_item("huis", {"item_id": "s1", "title": "Litige"})
    secret = boards.attach_document(
        "huis", {"filename": "litige.pdf", "data": b64(PDF), "item_id": "s1"}
    )
    assert boards.list_documents("huis", public=True) == []
    with pytest.raises(RemoteError) as err:
        boards.get_document("huis", secret["document_id"], public=True)
    assert err.value.exc_type == "NotFound"


def test_a_refused_document_leaves_no_file_behind(node):  # noqa: F811
    boards, db, _ = node
    sit(boards, [], meeting_id="pub")
    for payload, kind in (
        ({"filename": "plan.pdf", "data": b64(PNG)}, "Invalid"),
        ({"filename": "x.pdf", "data": "pas du base64 !"}, "Invalid"),
        ({"filename": "x.pdf", "data": b64(PDF), "item_id": "nope"}, "NotFound"),
    ):
        with pytest.raises(RemoteError) as err:
            boards.attach_document("pub", payload)
        assert err.value.exc_type == kind
    assert db["board_documents.files"].count_documents({}) == 0
    assert db["board_documents.chunks"].count_documents({}) == 0
