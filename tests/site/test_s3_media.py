"""Uploaded documents on an S3-compatible store (CALLBOOK_S3_BUCKET): uploaded through the admin, never
overwriting a name, their text extracted by the task reading the store, and downloaded through Wagtail's
serve view. The store is a real S3 HTTP server on a local port (moto's ``ThreadedMotoServer``), reached
by boto3 over HTTP exactly as a MinIO or AWS endpoint would be."""

import boto3
import pytest
from moto.server import ThreadedMotoServer
from storages.backends.s3 import S3Storage
from wagtail.documents import get_document_model

from kb_site.content.models import TextExtraction
from kb_site.settings.storage import s3_media_storage
from tests.search.test_extraction import make_docx
from tests.search.test_extraction_documents import upload

BUCKET = "callbook-media"
KEYS = {"CALLBOOK_S3_ACCESS_KEY_ID": "testing", "CALLBOOK_S3_SECRET_ACCESS_KEY": "testing"}

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def s3_endpoint():
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def bucket(s3_endpoint):
    client = boto3.client(
        "s3",
        endpoint_url=s3_endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    client.create_bucket(Bucket=BUCKET)
    yield client
    for item in client.list_objects_v2(Bucket=BUCKET).get("Contents", []):
        client.delete_object(Bucket=BUCKET, Key=item["Key"])
    client.delete_bucket(Bucket=BUCKET)


@pytest.fixture
def trainer_client(client, trainer):
    client.force_login(trainer)
    return client


@pytest.fixture
def s3_media(settings, s3_endpoint, bucket):
    """STORAGES as kb_site.settings.base builds it from the environment of a deployment on that store."""
    environ = {"CALLBOOK_S3_BUCKET": BUCKET, "CALLBOOK_S3_ENDPOINT_URL": s3_endpoint, **KEYS}
    settings.STORAGES = {**settings.STORAGES, "default": s3_media_storage(environ)}
    return bucket


def stored(bucket):
    """{key: bytes} of every object in the bucket."""
    objects = bucket.list_objects_v2(Bucket=BUCKET).get("Contents", [])
    return {item["Key"]: bucket.get_object(Bucket=BUCKET, Key=item["Key"])["Body"].read() for item in objects}


def test_no_bucket_means_the_local_disk():
    assert s3_media_storage({}) is None
    assert s3_media_storage({"CALLBOOK_S3_BUCKET": " "}) is None


def test_an_uploaded_document_is_stored_extracted_and_served_from_the_bucket(s3_media, trainer_client, agent):
    data = make_docx("错货补发流程说明")
    response = upload(trainer_client, "错货补发", data, "wrong-item.docx")
    assert response.status_code == 302, response.content.decode()[:2000]

    document = get_document_model().objects.get(title="错货补发")
    assert isinstance(document.file.storage, S3Storage)
    with pytest.raises(NotImplementedError):
        _ = document.file.path  # nothing on the local disk
    assert stored(s3_media) == {"media/documents/wrong-item.docx": data}

    # The task read the file back from the store.
    assert document.extraction_status == TextExtraction.DONE
    assert "错货补发流程说明" in document.extracted_text

    trainer_client.force_login(agent)
    served = trainer_client.get(document.url)
    assert served.status_code == 200  # streamed by the serve view, not a redirect to the bucket
    assert b"".join(served.streaming_content) == data
    assert served["Content-Length"] == str(len(data))


def test_two_uploads_with_the_same_name_both_survive(s3_media, trainer_client, agent):
    first, second = make_docx("第一版报价说明"), make_docx("第二版报价说明")
    assert upload(trainer_client, "报价一", first, "报价.docx").status_code == 302
    assert upload(trainer_client, "报价二", second, "报价.docx").status_code == 302

    documents = get_document_model().objects.order_by("pk")
    names = [document.file.name for document in documents]
    assert names[0] == "documents/报价.docx" and names[1] != names[0]
    assert names[1].startswith("documents/报价_") and names[1].endswith(".docx")
    assert stored(s3_media) == {"media/" + names[0]: first, "media/" + names[1]: second}
    assert ["第一版报价说明" in d.extracted_text for d in documents] == [True, False]
    assert ["第二版报价说明" in d.extracted_text for d in documents] == [False, True]

    trainer_client.force_login(agent)
    for document, data in zip(documents, (first, second), strict=True):
        assert b"".join(trainer_client.get(document.url).streaming_content) == data
