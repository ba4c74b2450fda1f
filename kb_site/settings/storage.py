"""Where uploaded media (documents, images) are stored, from the environment.

Without ``CALLBOOK_S3_BUCKET`` files go to ``MEDIA_ROOT`` on the local disk: one app server. With it,
they go to that bucket of an S3-compatible store (AWS S3, MinIO, Ceph, a cloud's object storage) through
django-storages, so that every app server and the task worker read and write the same files:

=============================  ==========================================================================
``CALLBOOK_S3_BUCKET``         the bucket (it must exist)
``CALLBOOK_S3_ENDPOINT_URL``   the store's URL, e.g. ``http://minio.internal:9000``; unset for AWS
``CALLBOOK_S3_REGION``         e.g. ``cn-north-1`` (optional)
``CALLBOOK_S3_ACCESS_KEY_ID``  keys; unset, boto3 finds them as usual (``AWS_ACCESS_KEY_ID``, a role…)
``CALLBOOK_S3_SECRET_ACCESS_KEY``
``CALLBOOK_S3_PREFIX``         folder inside the bucket (default ``media``)
``CALLBOOK_S3_ADDRESSING``     ``path`` (default with an endpoint: MinIO and most stores) or ``virtual``
=============================  ==========================================================================

A name is never overwritten (``file_overwrite=False``): a second upload of ``报价.pdf`` is stored as
``报价_<random>.pdf`` and both stay. Objects are private (no ACL is set, the bucket's policy applies)
and documents are served through Wagtail's serve view (``WAGTAILDOCS_SERVE_METHOD = "serve_view"``),
which checks the user's collection view restrictions and streams the file: browsers never reach the
bucket. Images are shown by their storage URL, signed for an hour (``querystring_auth``), so browsers
must reach the endpoint for images.
"""


def s3_media_storage(environ):
    """The ``STORAGES["default"]`` entry for the S3 settings in ``environ``, or ``None`` without a bucket."""
    bucket = environ.get("CALLBOOK_S3_BUCKET", "").strip()
    if not bucket:
        return None
    endpoint = environ.get("CALLBOOK_S3_ENDPOINT_URL", "").strip() or None
    addressing = environ.get("CALLBOOK_S3_ADDRESSING", "path" if endpoint else "").strip() or None
    return {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": bucket,
            "endpoint_url": endpoint,
            "region_name": environ.get("CALLBOOK_S3_REGION", "").strip() or None,
            "access_key": environ.get("CALLBOOK_S3_ACCESS_KEY_ID") or None,
            "secret_key": environ.get("CALLBOOK_S3_SECRET_ACCESS_KEY") or None,
            "location": environ.get("CALLBOOK_S3_PREFIX", "media").strip("/"),
            "addressing_style": addressing,
            "file_overwrite": False,
            "default_acl": None,
            "querystring_auth": True,
            "querystring_expire": 3600,
        },
    }
