"""Documents record where the extraction of their text stands (it now runs in the task worker).

Existing documents: text already extracted → 已提取; a file type without extraction → 不提取正文; an
extractable file with no text (it failed on upload, before this state existed) → 待提取, which
``manage.py extract_document_text`` queues again.
"""

from django.db import migrations, models

EXTRACTABLE = (".pdf", ".docx", ".pptx", ".txt")


def set_status(apps, schema_editor):
    Document = apps.get_model("content", "CallbookDocument")
    for document in Document.objects.only("file", "extracted_text").iterator():
        if document.extracted_text:
            status = "done"
        elif document.file.name.lower().endswith(EXTRACTABLE):
            status = "queued"
        else:
            status = "none"
        Document.objects.filter(pk=document.pk).update(extraction_status=status)


class Migration(migrations.Migration):
    dependencies = [
        ("content", "0004_sanitised_rich_text"),
    ]

    operations = [
        migrations.AddField(
            model_name="callbookdocument",
            name="extraction_note",
            field=models.CharField(
                blank=True,
                editable=False,
                help_text="未能提取的原因，或提取时略去的部分（如只提取了前 300 页）",
                max_length=500,
                verbose_name="提取说明",
            ),
        ),
        migrations.AddField(
            model_name="callbookdocument",
            name="extraction_status",
            field=models.CharField(
                choices=[
                    ("queued", "待提取"),
                    ("running", "正文提取中"),
                    ("done", "已提取"),
                    ("failed", "未能提取"),
                    ("none", "不提取正文"),
                ],
                default="queued",
                editable=False,
                help_text="上传或更换文件后，正文在后台提取；提取完成后即可搜索到文件中的文字",
                max_length=16,
                verbose_name="正文提取",
            ),
        ),
        migrations.AlterField(
            model_name="callbookdocument",
            name="extracted_text",
            field=models.TextField(
                blank=True,
                editable=False,
                help_text="从 PDF、DOCX、PPTX、TXT 中提取的文字，供全文搜索使用",
                verbose_name="提取的文字",
            ),
        ),
        migrations.RunPython(set_status, migrations.RunPython.noop),
    ]
